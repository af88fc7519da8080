"""Pages of the dossiers app: dossiers, the pre-solde checklist, clients, solutions, downloads."""
from django.urls import path

from . import views

urlpatterns = [
    path("dossiers/", views.dossier_list, name="dossier-list"),
    path("dossiers/new/", views.dossier_create, name="dossier-create"),
    path("dossiers/<int:pk>/", views.dossier_detail, name="dossier-detail"),
    path("dossiers/<int:pk>/transitions/<slug:name>/", views.dossier_transition, name="dossier-transition"),
    path("dossiers/<int:pk>/documents/", views.document_upload, name="dossier-document-upload"),
    path("dossiers/<int:pk>/amendments/", views.amendment_add, name="dossier-amendment-add"),
    path("dossiers/<int:pk>/scenario/", views.scenario_change, name="dossier-scenario"),
    path("dossiers/<int:pk>/installation/", views.settings_change, name="dossier-settings"),
    path("dossiers/<int:pk>/solde/", views.solde_checklist, name="dossier-solde"),
    path("dossiers/<int:pk>/solde/file/", views.solde_file, name="dossier-solde-file"),
    path("dossiers/<int:pk>/solde.json", views.solde_json_download, name="dossier-solde-json"),
    path("amendments/<int:pk>/status/", views.amendment_status, name="amendment-status"),
    path("clients/", views.client_list, name="client-list"),
    path("clients/new/", views.client_create, name="client-create"),
    path("clients/identifier-check/", views.client_identifier_check, name="client-identifier-check"),
    path("clients/<int:pk>/", views.client_edit, name="client-edit"),
    path("solutions/", views.solution_list, name="solution-list"),
    path("solutions/new/", views.solution_create, name="solution-create"),
    path("solutions/<int:pk>/", views.solution_detail, name="solution-detail"),
    path("solutions/<int:pk>/pv-pilotes/", views.pv_pilote_upload, name="pv-pilote-upload"),
    path("pv-pilotes/<int:pk>/status/", views.pv_pilote_status, name="pv-pilote-status"),
    path("documents/<int:pk>/", views.download_document, name="document-download"),
    path("pv-pilotes/<int:pk>/", views.download_pv_pilote, name="pv-pilote-download"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/tout-lu/", views.notifications_read_all, name="notifications-read-all"),
    path("notifications/non-lues/", views.notifications_unread, name="notifications-unread"),
    path("clients/<int:pk>/portabilite/", views.portability_request_add, name="portability-request-add"),
    path("portabilite/<int:pk>/", views.portability_request_edit, name="portability-request-edit"),
    path("solutions/<int:pk>/modifications/", views.solution_change_add, name="solution-change-add"),
    path("modifications/<int:pk>/", views.solution_change_edit, name="solution-change-edit"),
]

# Bulk transitions from the dossier list (dossiers/views/bulk.py).
from .views import bulk as bulk_views

urlpatterns += [
    path("dossiers/actions/", bulk_views.bulk_form, name="dossier-bulk"),
    path("dossiers/actions/releve/", bulk_views.bulk_statement, name="dossier-bulk-statement"),
    path("dossiers/actions/simulation/", bulk_views.bulk_dry_run, name="dossier-bulk-dry-run"),
    path("dossiers/actions/application/", bulk_views.bulk_apply, name="dossier-bulk-apply"),
]

# A team's work: owners, notes, activity, notifications opened and preferences (dossiers/views/team.py,
# dossiers/views/notifications.py).
from .views import notifications as notification_views, team as team_views

urlpatterns += [
    path("dossiers/<int:pk>/responsable/", team_views.dossier_owner, name="dossier-owner"),
    path("dossiers/<int:pk>/notes/", team_views.dossier_note, name="dossier-note"),
    path("dossiers/actions/reassigner/", team_views.bulk_reassign, name="dossier-bulk-reassign"),
    path("activite/", team_views.activity, name="activity"),
    path("notifications/<int:pk>/", notification_views.notification_open, name="notification-open"),
    path("notifications/preferences/", notification_views.notification_preferences,
         name="notification-preferences"),
]

# Corrections until the ASP has the information (dossiers/views/corrections.py).
from .views import corrections as correction_views

urlpatterns += [
    path("dossiers/<int:pk>/corriger/<slug:step>/", correction_views.correct_step, name="dossier-correct-step"),
    path("dossiers/<int:pk>/solde/brouillon/supprimer/", correction_views.clear_solde_draft,
         name="dossier-solde-draft-clear"),
    path("documents/<int:pk>/remplacer/", correction_views.replace_document, name="document-replace"),
    path("documents/<int:pk>/retirer/", correction_views.withdraw_document, name="document-withdraw"),
]
