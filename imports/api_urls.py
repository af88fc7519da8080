"""API v1 routes of this app (mounted under /api/v1/ before the dossier API's catch-all)."""
from django.urls import path

from . import api

app_name = "imports_api"

urlpatterns = [
    path("imports/", api.ImportJobList.as_view(), name="import-list"),
    path("imports/<int:import_id>/", api.ImportJobDetail.as_view(), name="import-detail"),
    path("imports/<int:import_id>/report/", api.ImportJobReport.as_view(), name="import-report"),
]
