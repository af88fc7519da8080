"""App configuration."""
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FaqrefConfig(AppConfig):
    name = "faqref"
    verbose_name = _("FAQ de référence")
