"""Pages of the reports app: the home page, the deadlines and their calendar feed, the reports.

The calendar feed is a public route (the secret key in the URL is the credential); every other page is a member's.
"""
from django.urls import path

from .views import calendar as calendar_views, exports, home, reports

FORMATS = ("csv", "xlsx")

urlpatterns = [
    path("", home.home, name="home"),
    path("echeances/", reports.deadlines, name="deadlines"),
    path("echeances/agenda/", calendar_views.calendar_page, name="calendar"),
    path("echeances/agenda/revoquer/", calendar_views.calendar_revoke, name="calendar-revoke"),
    path("rapports/va-en-attente/", reports.pending_va_report, name="report-pending-va"),
    path("rapports/va-en-attente/export/", reports.export_job_create, name="report-export-create"),
    path("rapports/exports/<int:pk>/", reports.export_job_status, name="report-export-status"),
    path("rapports/pipeline/", reports.pipeline_report, name="report-pipeline"),
    path("agenda/<str:key>.ics", calendar_views.calendar_feed, name="calendar-feed"),
    # What the list and deadlines pages show, as files (reports/views/exports.py): one route per format.
    *(path(f"dossiers/export.{fmt}", exports.dossier_export, {"fmt": fmt}, name=f"dossiers-export-{fmt}")
      for fmt in FORMATS),
    *(path(f"echeances/export.{fmt}", exports.deadlines_export, {"fmt": fmt}, name=f"deadlines-export-{fmt}")
      for fmt in FORMATS),
]
