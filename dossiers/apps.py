"""App configuration."""
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DossiersConfig(AppConfig):
    name = "dossiers"
    verbose_name = _("Dossiers Ségur")

    def ready(self) -> None:
        from faqref.links import register_topics

        from . import rules

        register_topics({code: r.faq_query for code, r in rules.CATALOGUE.items()})
