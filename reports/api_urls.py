"""Report, deadline and export routes (mounted under /api/v1/, before the dossier API and its JSON 404)."""
from django.urls import path, re_path

from .api import exports, reports

app_name = "reports"

urlpatterns = [
    path("reports/pending-va/", reports.PendingVaReport.as_view(), name="pending-va"),
    re_path(r"^reports/pending-va/export\.(?P<fmt>csv|xlsx)$", reports.PendingVaExport.as_view(),
            name="pending-va-export"),
    path("reports/pipeline/", reports.PipelineReport.as_view(), name="pipeline"),
    path("deadlines/", reports.DeadlineList.as_view(), name="deadlines"),
    path("exports/", exports.ExportJobList.as_view(), name="export-list"),
    path("exports/<int:export_id>/", exports.ExportJobDetail.as_view(), name="export-detail"),
    path("exports/<int:export_id>/download/", exports.ExportJobDownload.as_view(), name="export-download"),
    re_path(r"^reports/pipeline/export\.(?P<fmt>csv|xlsx)$", reports.PipelineExport.as_view(),
            name="pipeline-export"),
]
