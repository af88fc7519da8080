"""App configuration."""
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DossiersConfig(AppConfig):
    name = "dossiers"
    verbose_name = _("Dossiers Ségur")

    def ready(self) -> None:
        from django.core import checks as system_checks

        from faqref.links import register_topics

        from . import rules
        from .checks import check_payloads, check_rule_catalogue

        register_topics({code: r.faq_query for code, r in rules.CATALOGUE.items()})
        system_checks.register(check_rule_catalogue)
        system_checks.register(check_payloads)

        from .extensions import DossierPanel, register_dossier_panel
        from .views.team import team_panel

        register_dossier_panel(DossierPanel(template="dossiers/_team_panel.html", context=team_panel))
