"""The history as people read it: each recorded key under its field's label, each value in French.

History rows keep the data as it was posted (JSON: keys, codes, ISO dates, amounts as text). The dossier page shows
them through `field_label` and `display_value`: the payload's label (or the model's verbose name), the choice's
label, "3 décembre 2026", "12 345,67 €". Never a raw key: an unknown one is shown as words.

Corrections (dossiers.services.corrections) record before and after: a step's changes read "Date de facture :
3 décembre 2026 → 5 décembre 2026" under the dossier field's label, a replaced document "fichier.pdf (empreinte
1a2b3c4d5e6f…)", a deleted solde draft its invoice data under the payload's labels.
"""
from __future__ import annotations

from functools import cache
from typing import Any

from django.db import models
from django.template.defaultfilters import filesizeformat
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from rest_framework import serializers

from segurtrack import formats

from .models import (
    ACTION_LABELS, TRANSITION_LABELS, Amendment, CancellationReason, Client, Document, DocumentKind, Dossier,
    MssDeployment, SignatureType, State,
)
from .payloads import PAYLOADS, FileSolde

# Actions whose data is another payload's: the solde draft is the file_solde payload, typed before filing.
DATA_OF = {"change_solde_draft": FileSolde, "clear_solde_draft": FileSolde}
ARROW = "\u2192"
HASH_SHOWN = 12
# Actions that record a row of another model: its fields' verbose names.
MODEL_OF = {"file_amendment": Amendment, "amendment_validated": Amendment, "amendment_paid": Amendment}
CHANGE_PREFIX = "change_"
CHOICES = {
    "signature_type": dict(SignatureType.choices), "mss_deployment": dict(MssDeployment.choices),
    "reason": dict(CancellationReason.choices), "kind": dict(DocumentKind.choices),
}


class _Field:
    """What the history needs of a field: its label and how its value reads (money, date, choices)."""

    __slots__ = ("label", "money", "date", "choices")

    def __init__(self, label: Any, *, money: bool = False, date: bool = False, choices: dict | None = None):
        self.label, self.money, self.date, self.choices = str(label), money, date, choices or {}


def _from_serializer(serializer: type[serializers.Serializer]) -> dict[str, _Field]:
    return {name: _Field(field.label or name, money=isinstance(field, serializers.DecimalField),
                         date=isinstance(field, serializers.DateField), choices=CHOICES.get(name))
            for name, field in serializer().fields.items()}


def _from_model(model: type[models.Model]) -> dict[str, _Field]:
    fields = {}
    for field in model._meta.concrete_fields:
        fields[field.name] = _Field(capfirst(field.verbose_name), money=isinstance(field, models.DecimalField),
                                    date=isinstance(field, models.DateField),
                                    choices=dict(field.choices) if field.choices else CHOICES.get(field.name))
    return fields


@cache
def _catalogue() -> tuple[dict[str, dict[str, _Field]], dict[str, _Field]]:
    """Per action, its payload's fields; and every known field, for keys no payload describes."""
    per_action = {name: _from_serializer(serializer) for name, serializer in PAYLOADS.items()}
    per_action.update({name: _from_serializer(serializer) for name, serializer in DATA_OF.items()})
    per_action.update({name: _from_model(model) for name, model in MODEL_OF.items()})
    # A team's work on the dossier (dossiers.team).
    per_action["note"] = {"text": _Field(_("Note"))}
    per_action["assign_owner"] = {"from": _Field(_("Ancien responsable")), "to": _Field(_("Nouveau responsable"))}
    # Corrections (dossiers.services.corrections): the step corrected, what was replaced, withdrawn or deleted.
    per_action["correct_step"] = {"step": _Field(_("Étape"), choices=dict(TRANSITION_LABELS)),
                                  "changes": _Field(_("Corrigé"))}
    per_action["replace_document"] = {"before": _Field(_("Avant")), "after": _Field(_("Après"))}
    per_action["clear_solde_draft"] = {**per_action["clear_solde_draft"], "before": _Field(_("Données supprimées"))}
    known: dict[str, _Field] = {}
    for model in (Client, Amendment, Document, Dossier):
        known.update(_from_model(model))
    for fields in per_action.values():
        known.update(fields)
    known["kind"] = _Field(_("Type de document"), choices=CHOICES["kind"])
    known["filename"] = _Field(_("Fichier"))
    known["returned_by"] = _Field(_("Retourné par"))
    known["on"] = _Field(_("Date"), date=True)
    known["expected_amount"] = _Field(_("Montant attendu"), money=True)   # recorded by record_solde_payment
    return per_action, known


def _field(action: str, key: str) -> _Field | None:
    per_action, known = _catalogue()
    return per_action.get(action, {}).get(key) or known.get(key)


def field_label(action: str, key: str) -> str:
    """The label of a key recorded by an action: "Avant"/"Après" for a change, else the field's label."""
    if key in ("from", "to") and action.startswith(CHANGE_PREFIX):
        return _("Avant") if key == "from" else _("Après")
    field = _field(action, key)
    return field.label if field else capfirst(key.replace("_", " "))


def display_value(action: str, key: str, value: Any) -> str:
    """A recorded value in French: choice labels, "oui"/"non", "3 décembre 2026", "12 345,67 €"."""
    if key in ("from", "to") and action.startswith(CHANGE_PREFIX):
        key = action.removeprefix(CHANGE_PREFIX)  # the changed field says how its values read
    if isinstance(value, dict):
        return _display_dict(action, key, value)
    if key == "size" and isinstance(value, int) and not isinstance(value, bool):
        return filesizeformat(value)
    return _display_field(_field(action, key), value)


@cache
def _dossier_fields() -> dict[str, _Field]:
    return _from_model(Dossier)


def _display_dict(action: str, key: str, value: dict[str, Any]) -> str:
    """A recorded object: a correction's changes, a document's file, or values under their labels."""
    if action == "correct_step" and key == "changes":
        lines = []
        for name, change in value.items():
            field = _dossier_fields().get(name)
            label = field.label if field else capfirst(name.replace("_", " "))
            before, after = (change or {}).get("before"), (change or {}).get("after")
            lines.append(f"{label} : {_display_field(field, before)} {ARROW} {_display_field(field, after)}")
        return " ; ".join(lines)
    if "filename" in value:
        sha256 = str(value.get("sha256") or "")
        if not sha256:
            return str(value["filename"])
        return _("%(name)s (empreinte %(hash)s…)") % {"name": value["filename"], "hash": sha256[:HASH_SHOWN]}
    return " ; ".join(f"{field_label(action, name)} : {display_value(action, name, item)}"
                      for name, item in value.items() if not isinstance(item, dict))


def _display_field(field: _Field | None, value: Any) -> str:
    """A value in French, as its field reads (a date-like text without one is shown as a date)."""
    if value is None or value == "":
        return formats.EMPTY
    if isinstance(value, bool):
        return formats.yes_no(value)
    if field is not None:
        if field.choices and value in field.choices:
            return str(field.choices[value])
        if field.money:
            return formats.euros(value)
        if field.date:
            return formats.french_date(value)
    if formats.as_date(value) is not None:
        return formats.french_date(value)
    return str(value)


def rule_warnings(codes: list[str]) -> list[tuple[str, str]]:
    """Warned rules as (title, code): people read the title, the code stays as a secondary detail."""
    from .rules import CATALOGUE

    return [(str(CATALOGUE[code].title) if code in CATALOGUE else code, code) for code in codes or ()]


def history_item(row) -> dict[str, Any]:
    """One history row as people read it: its action in words, the states it joined and its data, labelled."""
    state_labels = dict(State.choices)
    details = []
    for key, value in (row.data or {}).items():
        if key in ("warnings", "document", "amendment", "client", "solution", "sha256"):
            continue
        details.append((field_label(row.action, key), display_value(row.action, key, value)))
    return {
        "row": row, "label": ACTION_LABELS.get(row.action, row.action),
        "from": state_labels.get(row.from_state, row.from_state),
        "to": state_labels.get(row.to_state, row.to_state),
        "moved": bool(row.from_state and row.to_state and row.from_state != row.to_state),
        "details": details, "warnings": rule_warnings((row.data or {}).get("warnings", [])),
    }
