"""API v1 routes (API.md). Object ids have one kwarg name per kind, which the isolation tests sweep."""
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import followups, parties, views
from .bulk import BulkTransitions
from segurtrack.api.errors import not_found

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI from drf-spectacular-sidecar's static files; its init script is loaded from ?script (CSP: no inline).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="api/swagger_ui.html"),
         name="docs"),
    path("dispositifs/", parties.DispositifList.as_view(), name="dispositif-list"),
    path("solutions/", parties.SolutionList.as_view(), name="solution-list"),
    path("solutions/<int:solution_id>/", parties.SolutionDetail.as_view(), name="solution-detail"),
    path("solutions/<int:solution_id>/pv-pilotes/", parties.PvPiloteList.as_view(), name="pv-pilote-list"),
    path("solutions/<int:solution_id>/pv-pilotes/<int:pv_pilote_id>/", parties.PvPiloteDetail.as_view(),
         name="pv-pilote-detail"),
    path("solutions/<int:solution_id>/pv-pilotes/<int:pv_pilote_id>/download/", parties.PvPiloteDownload.as_view(),
         name="pv-pilote-download"),
    path("clients/", parties.ClientList.as_view(), name="client-list"),
    path("clients/<int:client_id>/", parties.ClientDetail.as_view(), name="client-detail"),
    path("dossiers/", views.DossierList.as_view(), name="dossier-list"),
    path("dossiers/bulk-transitions/", BulkTransitions.as_view(), name="dossier-bulk-transitions"),
    path("dossiers/<int:dossier_id>/", views.DossierDetail.as_view(), name="dossier-detail"),
    path("dossiers/<int:dossier_id>/history/", views.DossierHistory.as_view(), name="dossier-history"),
    path("dossiers/<int:dossier_id>/documents/", views.DocumentList.as_view(), name="document-list"),
    path("dossiers/<int:dossier_id>/documents/<int:document_id>/download/", views.DocumentDownload.as_view(),
         name="document-download"),
    path("dossiers/<int:dossier_id>/amendments/", views.AmendmentList.as_view(), name="amendment-list"),
    path("dossiers/<int:dossier_id>/amendments/<int:amendment_id>/", views.AmendmentDetail.as_view(),
         name="amendment-detail"),
    path("dossiers/<int:dossier_id>/transitions/<slug:name>/", views.DossierTransition.as_view(),
         name="dossier-transition"),
    path("dossiers/<int:dossier_id>/checklist/", views.DossierChecklist.as_view(), name="dossier-checklist"),
    path("dossiers/<int:dossier_id>/solde.json", views.DossierSoldeJson.as_view(), name="dossier-solde-json"),
    path("clients/<int:client_id>/portability-requests/", followups.PortabilityRequestList.as_view(),
         name="portability-request-list"),
    path("clients/<int:client_id>/portability-requests/<int:portability_request_id>/",
         followups.PortabilityRequestDetail.as_view(), name="portability-request-detail"),
    path("clients/<int:client_id>/history/", followups.ClientHistory.as_view(), name="client-history"),
    path("solutions/<int:solution_id>/changes/", followups.SolutionChangeList.as_view(), name="solution-change-list"),
    path("solutions/<int:solution_id>/changes/<int:solution_change_id>/", followups.SolutionChangeDetail.as_view(),
         name="solution-change-detail"),
    path("solutions/<int:solution_id>/history/", followups.SolutionHistory.as_view(), name="solution-history"),
    # Last: every other path under /api/v1/ answers a JSON 404.
    re_path(r"", not_found, name="not-found"),
]
