"""Reference data: couloirs and dispositifs, editable by staff (a dispositif's MSS flag refreshes blockers)."""
from __future__ import annotations

from django.contrib import admin
from django.db import transaction

from .. import blocker_refresh, deadlines
from ..models import Couloir, Dispositif


@admin.register(Couloir)
class CouloirAdmin(admin.ModelAdmin):
    list_display = ("code", "label")
    search_fields = ("code", "label")


@admin.register(Dispositif)
class DispositifAdmin(admin.ModelAdmin):
    list_display = ("code", "label", "couloir", "vague", "avance_deadline", "ceiling_amount",
                    "requires_mss_deployment")
    list_filter = ("couloir", "vague", "requires_mss_deployment")
    list_select_related = ("couloir",)
    search_fields = ("code", "label")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "avance_deadline" in form.changed_data:
            deadlines.keep_dispositif(obj.pk)  # in the admin's transaction, like the save
        if change and "requires_mss_deployment" in form.changed_data:
            # The deadline and the ceiling only block once a payload is typed; the MSS flag blocks a solde now.
            with transaction.atomic():  # in the background, each dossier under its row lock
                blocker_refresh.schedule("dispositif", obj.pk)
