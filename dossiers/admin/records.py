"""Records of what happened and of the background work: shown for support, never edited by hand.

Records of a dossier's steps (history, documents, amendments, blockers, idempotent replies) cannot be deleted
either; what the worker wrote (digests and reminders sent, outbox messages, export jobs) support may clear.
"""
from __future__ import annotations

from django.contrib import admin

from segurtrack.admin import ReadOnlyAdmin

from ..models import (
    Amendment, Blocker, Document, HistoryEntry, IdempotencyRecord, Notification, OutboxMessage,
)


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ("filename", "kind", "dossier", "size", "uploaded_by", "uploaded_at")
    list_filter = ("kind",)
    list_select_related = ("dossier", "uploaded_by")
    search_fields = ("filename", "sha256", "dossier__reference")
    # No `file`: documents have no public URL; they are downloaded through the permission-checked view.
    fields = ("organisation", "dossier", "kind", "filename", "content_type", "size", "sha256", "uploaded_by",
              "uploaded_at")
    show_full_result_count = False


@admin.register(Amendment)
class AmendmentAdmin(ReadOnlyAdmin):
    list_display = ("dossier", "filed_on", "amount", "status", "validated_on", "paid_on", "paid_amount")
    list_filter = ("status",)
    list_select_related = ("dossier",)
    search_fields = ("dossier__reference",)


@admin.register(HistoryEntry)
class HistoryEntryAdmin(ReadOnlyAdmin):
    list_display = ("dossier", "seq", "at", "username", "action", "from_state", "to_state")
    list_select_related = ("dossier",)
    search_fields = ("dossier__reference", "username", "action")
    ordering = ("-id",)
    # Millions of rows: no exact COUNT(*) on every page.
    show_full_result_count = False


@admin.register(Blocker)
class BlockerAdmin(ReadOnlyAdmin):
    """The rules blocking each dossier's next step, as the services last computed them."""

    list_display = ("dossier", "transition", "rule")
    list_filter = ("transition", "rule")
    list_select_related = ("dossier",)
    search_fields = ("dossier__reference", "rule")


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ("key", "organisation", "status_code", "created_at")
    list_select_related = ("organisation",)
    search_fields = ("key",)
    show_full_result_count = False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("user", "organisation", "dossier", "kind", "message", "created_at", "read_at")
    list_filter = ("kind",)
    list_select_related = ("user", "organisation", "dossier")
    search_fields = ("message", "user__username", "dossier__reference")
    readonly_fields = ("user", "organisation", "dossier", "history_entry", "kind", "message", "created_at")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False


# --- background work -----------------------------------------------------------------------------------------------

@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    deletable = True
    list_display = ("task_name", "created_at", "sent_at", "done_at", "attempts", "last_error")
    list_filter = (("done_at", admin.EmptyFieldListFilter), ("sent_at", admin.EmptyFieldListFilter))

