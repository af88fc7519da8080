"""Page views of the dossiers app, one module per area; URLs import them from here."""
from .dossier_pages import (
    amendment_add, amendment_status, document_upload, dossier_create, dossier_detail, dossier_list, dossier_transition,
    scenario_change, settings_change,
)
from .downloads import download_document, download_pv_pilote
from .followups import portability_request_add, portability_request_edit, solution_change_add, solution_change_edit
from .parties import (
    client_create, client_edit, client_identifier_check, client_list, pv_pilote_status, pv_pilote_upload,
    solution_create, solution_detail, solution_list,
)
from .notifications import notification_list, notifications_read_all, notifications_unread
from .solde import solde_checklist, solde_file, solde_json_download

__all__ = [
    "amendment_add", "amendment_status", "client_create", "client_edit", "client_identifier_check", "client_list",
    "document_upload", "dossier_create", "dossier_detail", "dossier_list", "dossier_transition", "download_document",
    "download_pv_pilote", "pv_pilote_status", "pv_pilote_upload", "scenario_change", "solde_checklist",
    "solde_file", "solde_json_download", "solution_create", "solution_detail", "solution_list",
    "notification_list", "notifications_read_all", "notifications_unread", "settings_change",
    "portability_request_add", "portability_request_edit", "solution_change_add", "solution_change_edit",
]
