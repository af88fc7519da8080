"""The audit of what rules read (DOMAIN.md §8): snapshots before and after a change, and their French display."""
from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.utils import formats
from django.utils.dateparse import parse_date
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from .models import AuditEntry, Client, PvPilote, Solution

CLIENT_FIELDS = ("name", "kind", "finess_geo", "finess_legal", "siret", "department", "vat_liable",
                 "ans_contract_signed_on", "cpe_cards", "software_certificates")
SOLUTION_FIELDS = ("name", "version", "dispositif", "proofs_submitted_on", "referenced_on")
PV_STATUS = "pv_pilote.status"


def _columns(model: type[models.Model]) -> dict[str, str]:
    fields = CLIENT_FIELDS if model is Client else SOLUTION_FIELDS
    # The dispositif is recorded by its code: what a person reads, and stable.
    return {name: ("dispositif__code" if name == "dispositif" else name) for name in fields}


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def snapshot(model: type[models.Model], pk: int | None, *, lock: bool = False) -> dict[str, Any] | None:
    """The audited fields of one row as JSON values (None when there is no such row yet)."""
    if pk is None:
        return None
    columns = _columns(model)
    queryset = model._default_manager.filter(pk=pk)
    if lock:
        # FOR NO KEY UPDATE: an edit never changes the row's key, so a transition inserting a row that refers to it
        # (a kept deadline names its client and solution: FOR KEY SHARE) does not wait, and cannot deadlock with an
        # edit that waits for that transition's dossier.
        queryset = queryset.select_for_update(of=("self",), no_key=True)
    row = queryset.values(*columns.values()).first()
    return None if row is None else {name: _json(row[column]) for name, column in columns.items()}


def record_change(subject: Client | Solution, *, by: AbstractBaseUser | None,
                  before: dict[str, Any] | None) -> AuditEntry | None:
    """One audit row for what changed on the subject since `before` (created when there was no row); None if
    nothing audited changed."""
    after = snapshot(type(subject), subject.pk) or {}
    if before is None:
        changes = [{"field": name, "before": None, "after": value} for name, value in after.items()
                   if value not in (None, "")]
        action = AuditEntry.Action.CREATED
    else:
        changes = [{"field": name, "before": before[name], "after": after[name]} for name in after
                   if before[name] != after[name]]
        action = AuditEntry.Action.UPDATED
        if not changes:
            return None
    return _entry(subject, by=by, action=action, changes=changes)


def record_pv_pilote(pv: PvPilote, *, by: AbstractBaseUser | None, before: str | None) -> AuditEntry | None:
    """A PV pilote added (`before` None) or its status changed: recorded on its solution."""
    if before == pv.status:
        return None
    change = {"field": PV_STATUS, "before": before, "after": pv.status, "pv_pilote": pv.pk,
              "signed_on": _json(pv.signed_on)}
    action = AuditEntry.Action.PV_PILOTE_ADDED if before is None else AuditEntry.Action.PV_PILOTE_STATUS
    return _entry(pv.solution, by=by, action=action, changes=[change])


def _entry(subject: Client | Solution, *, by: AbstractBaseUser | None, action: str,
           changes: list[dict[str, Any]]) -> AuditEntry:
    is_client = isinstance(subject, Client)
    return AuditEntry.objects.create(
        organisation_id=subject.organisation_id, client=subject if is_client else None,
        solution=None if is_client else subject, user=by if getattr(by, "pk", None) else None, action=action,
        changes=changes)


# --- display ------------------------------------------------------------------------------------------------------

def _field(model: type[models.Model], name: str) -> models.Field | None:
    try:
        return model._meta.get_field(name)
    except Exception:  # a field recorded by an older version of the model
        return None


def display_value(model: type[models.Model], name: str, value: Any) -> str:
    """A recorded value as a person reads it: labels for choices, Oui/Non, French dates, a dash when empty."""
    if value is None or value == "":
        return "—"
    if name == PV_STATUS:
        return str(PvPilote.Status(value).label) if value in PvPilote.Status.values else str(value)
    field = _field(model, name)
    if isinstance(value, bool):
        return _("Oui") if value else _("Non")
    if isinstance(field, models.DateField):
        parsed = parse_date(value) if isinstance(value, str) else value
        return formats.date_format(parsed, "j F Y") if parsed else str(value)
    if field is not None and field.choices and not isinstance(field, models.ForeignKey):
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


def display_label(model: type[models.Model], change: dict[str, Any]) -> str:
    if change["field"] == PV_STATUS:
        signed_on = parse_date(change.get("signed_on") or "")
        return _("PV pilote n° %(id)s signé le %(date)s") % {
            "id": change.get("pv_pilote"), "date": formats.date_format(signed_on, "j F Y") if signed_on else "—"}
    field = _field(model, change["field"])
    return capfirst(str(field.verbose_name)) if field is not None else change["field"]


def describe(entry: AuditEntry) -> list[dict[str, Any]]:
    """The entry's changes with French labels and values, for the pages and the API."""
    model = Client if entry.client_id else Solution
    return [{**change, "label": display_label(model, change),
             "before_display": display_value(model, change["field"], change["before"]),
             "after_display": display_value(model, change["field"], change["after"])}
            for change in entry.changes]
