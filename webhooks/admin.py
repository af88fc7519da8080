"""Staff views of webhook endpoints and deliveries: read-only (admins of an organisation use its pages)."""
from django.contrib import admin

from segurtrack.admin import ReadOnlyAdmin

from .models import Delivery, Endpoint


@admin.register(Endpoint)
class EndpointAdmin(ReadOnlyAdmin):
    deletable = True
    # The secret is never shown: it signs the organisation's deliveries.
    list_display = ("url", "organisation", "active", "created_at")
    list_filter = ("active", "organisation")
    search_fields = ("url", "organisation__name")
    fields = ("organisation", "url", "events", "active", "deactivated_reason", "created_by", "created_at")
    readonly_fields = fields


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    deletable = True
    list_display = ("id", "event", "endpoint", "status", "attempts", "last_status_code", "next_attempt_at", "created_at")
    list_filter = ("status", "event")
    list_select_related = ("endpoint",)
    fields = ("endpoint", "event", "message_id", "dossier", "status", "attempts", "last_status_code", "last_error",
              "next_attempt_at", "delivered_at", "created_at")
    readonly_fields = fields
    raw_id_fields = ("dossier",)
