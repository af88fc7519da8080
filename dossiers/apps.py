"""App configuration."""
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DossiersConfig(AppConfig):
    name = "dossiers"
    verbose_name = _("Dossiers Ségur")

    def ready(self) -> None:
        from django.core import checks as system_checks

        from rest_framework import status

        from faqref.links import register_topics
        from segurtrack.api.errors import register_error

        from . import rules
        from .api.guidance import rules_failed_body
        from .checks import check_payloads, check_rule_catalogue, check_transition_words
        from .services import RulesFailed

        register_topics({code: r.faq_query for code, r in rules.CATALOGUE.items()})
        # The contract's 409 (API.md): the refused rules and warnings, each with its FAQ guidance.
        register_error(RulesFailed, status.HTTP_409_CONFLICT, rules_failed_body)
        system_checks.register(check_rule_catalogue)
        system_checks.register(check_payloads)
        system_checks.register(check_transition_words)

        from .extensions import DossierPanel, register_dossier_panel
        from .views.team import team_panel

        register_dossier_panel(DossierPanel(template="dossiers/_team_panel.html", context=team_panel))

        from django.db.models.signals import post_save, pre_save

        from organisations.models import Organisation

        from .deadlines import organisation_saved, organisation_saving

        # The organisations app cannot call dossiers: its pending-VA delay reaches the kept deadlines this way.
        pre_save.connect(organisation_saving, sender=Organisation, dispatch_uid="dossiers.deadlines.saving")
        post_save.connect(organisation_saved, sender=Organisation, dispatch_uid="dossiers.deadlines.saved")
