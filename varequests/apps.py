"""App configuration: plugs VA requests into the dossier page, the dossier list and the pending-VA report."""
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VaRequestsConfig(AppConfig):
    name = "varequests"
    verbose_name = _("Demandes de VA")

    def ready(self) -> None:
        from dossiers.extensions import register_dossier_panel, register_list_filter, register_pending_va_figures

        from . import hooks

        register_dossier_panel(hooks.PANEL)
        register_list_filter(hooks.LIST_FILTER)
        register_pending_va_figures(hooks.REPORT_FIGURES)
