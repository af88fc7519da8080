"""What the follow-up sent and the export jobs: written by the background worker, shown for support."""
from django.contrib import admin

from segurtrack.admin import ReadOnlyAdmin

from .models import DigestSent, ExportJob, ReminderSent


@admin.register(DigestSent, ReminderSent)
class SentAdmin(ReadOnlyAdmin):
    deletable = True
    list_display = ("user", "organisation", "day")
    list_filter = ("day",)
    list_select_related = ("user", "organisation")


@admin.register(ExportJob)
class ExportJobAdmin(ReadOnlyAdmin):
    deletable = True
    list_display = ("organisation", "user", "kind", "format", "status", "progress", "created_at", "finished_at")
    list_filter = ("status", "kind")
    list_select_related = ("organisation", "user")
