"""The read-only admin every app uses for records: what happened, or what the background work wrote.

Staff may look, never add or change; a model whose rows support may clear (a sent digest, a webhook delivery, a
token, which deleting revokes) says so with `deletable = True`.
"""
from __future__ import annotations

from django.contrib import admin


class ReadOnly:
    deletable = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return self.deletable and super().has_delete_permission(request, obj)


class ReadOnlyAdmin(ReadOnly, admin.ModelAdmin):
    """A model's own pages, read-only."""


class ReadOnlyInline(ReadOnly, admin.TabularInline):
    """Rows shown on their parent's page, each with a link to its own (read-only) page."""

    extra = 0
    can_delete = False
    show_change_link = True
