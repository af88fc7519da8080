"""API v1 routes of this app (mounted under /api/v1/ before the dossier API's catch-all)."""
from django.urls import path

from . import api

app_name = "va_api"

urlpatterns = [
    path("dossiers/<int:dossier_id>/va-requests/", api.VaRequestList.as_view(), name="va-request-list"),
    path("dossiers/<int:dossier_id>/va-requests/<int:va_request_id>/", api.VaRequestDetail.as_view(),
         name="va-request-detail"),
    path("dossiers/<int:dossier_id>/va-requests/<int:va_request_id>/revoke/", api.VaRequestRevoke.as_view(),
         name="va-request-revoke"),
]
