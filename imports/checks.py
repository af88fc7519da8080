"""One spreadsheet row read and checked on its own: typed values, the state's implied steps, chronology.

Pure: no database. What needs the database (clients, solutions, existing dossiers) is `importer`'s.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from dossiers.identifiers import validate_department, validate_finess, validate_siret
from dossiers.models import State

from . import columns as c

# Each step of a dossier's life and the columns that record it.
STEPS: dict[str, tuple[str, ...]] = {
    "bdc": ("bdc_signed_on", "bdc_signer_name", "bdc_signature_type"),
    "avance_filed": ("avance_filed_on", "declared_amount"),
    "avance_validated": ("avance_validated_on",),
    "avance_paid": ("avance_paid_on", "avance_paid_amount"),
    "deployed": ("deployed_on",),
    "va_signed": ("va_signed_on", "va_signer_name"),
    "solde_filed": ("solde_filed_on", "solde_amount"),
    "solde_validated": ("solde_validated_on",),
    "solde_paid": ("solde_paid_on", "solde_paid_amount"),
}
_AVANCE = ["bdc", "avance_filed"]
_VALIDATED = _AVANCE + ["avance_validated"]
_DEPLOYED = _VALIDATED + ["deployed"]
_SOLDE = _DEPLOYED + ["va_signed", "solde_filed"]
# The steps a state implies (their columns are required) ...
REQUIRED_STEPS: dict[str, list[str]] = {
    State.DRAFT: [], State.BDC_SIGNED: ["bdc"], State.AVANCE_FILED: _AVANCE, State.AVANCE_TO_FIX: _AVANCE,
    State.AVANCE_VALIDATED: _VALIDATED, State.AVANCE_PAID: _VALIDATED + ["avance_paid"],
    State.DEPLOYED: _DEPLOYED, State.VA_SIGNED: _DEPLOYED + ["va_signed"], State.SOLDE_FILED: _SOLDE,
    State.SOLDE_TO_FIX: _SOLDE, State.SOLDE_VALIDATED: _SOLDE + ["solde_validated"],
    State.SOLDE_PAID: _SOLDE + ["solde_validated", "solde_paid"],
    # A cancellation is requested from a signed order at the earliest; a recovery means the avance was paid.
    State.CANCELLATION_REQUESTED: ["bdc"], State.RECOVERY_ISSUED: _VALIDATED + ["avance_paid"],
    State.CANCELLED: ["bdc"],
}
_CANCELLABLE = ["bdc", "avance_filed", "avance_validated", "avance_paid", "deployed", "va_signed", "solde_filed"]
# ... and those it allows (an avance may be paid before or never before the deployment).
ALLOWED_STEPS: dict[str, set[str]] = {state: set(steps) for state, steps in REQUIRED_STEPS.items()}
for _state in (State.DEPLOYED, State.VA_SIGNED, State.SOLDE_FILED, State.SOLDE_TO_FIX, State.SOLDE_VALIDATED,
               State.SOLDE_PAID):
    ALLOWED_STEPS[_state].add("avance_paid")
for _state in (State.CANCELLATION_REQUESTED, State.RECOVERY_ISSUED, State.CANCELLED):
    ALLOWED_STEPS[_state] = set(_CANCELLABLE)
# The state a dossier was in when its cancellation was requested, from the last step it records.
STEP_STATE = {"bdc": State.BDC_SIGNED, "avance_filed": State.AVANCE_FILED, "avance_validated": State.AVANCE_VALIDATED,
              "avance_paid": State.AVANCE_PAID, "deployed": State.DEPLOYED, "va_signed": State.VA_SIGNED,
              "solde_filed": State.SOLDE_FILED}
DATE_ORDER = ("bdc_signed_on", "avance_filed_on", "avance_validated_on", "avance_paid_on", "deployed_on",
              "va_signed_on", "solde_filed_on", "solde_validated_on", "solde_paid_on")
CLIENT_FIELDS = ("client_name", "client_kind", "finess_geo", "finess_legal", "siret", "department", "vat_liable")


@dataclass
class Row:
    """A data row: its spreadsheet number, the cells as text (for the history), typed values, its problems."""

    number: int
    raw: dict[str, str]
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)

    def error(self, column: str, message: str) -> None:
        self.errors.append((column, message))

    def __getitem__(self, name: str) -> Any:
        return self.values.get(name)


def label(name: str) -> str:
    return str(c.BY_NAME[name].header)


def parse(number: int, cells: dict[str, Any]) -> Row:
    """Type every cell; a cell that does not read is an error on its column."""
    row = Row(number, {name: c.text(value) for name, value in cells.items()})
    for name, value in cells.items():
        column = c.BY_NAME[name]
        try:
            if column.kind == "date":
                row.values[name] = c.parse_date(value)
            elif column.kind == "money":
                row.values[name] = c.parse_money(value)
            elif column.kind == "bool":
                row.values[name] = c.parse_bool(value)
            elif column.kind == "identifier":
                row.values[name] = _identifier(name, c.parse_identifier(name, value))
            elif column.kind == "choice":
                raw = c.text(value)
                code = c.choice_index(name).get(c.normalise_header(raw)) if raw else ""
                if code is None:
                    raise ValidationError(_("Valeur inconnue : « %(v)s ».") % {"v": raw})
                row.values[name] = code
            else:
                row.values[name] = c.text(value)
        except ValidationError as error:
            row.error(name, " ".join(error.messages))
    return row


def _identifier(name: str, value: str) -> str:
    if not value:
        return ""
    check = {"finess_geo": validate_finess, "finess_legal": validate_finess, "siret": validate_siret,
             "department": validate_department}[name]
    return check(value)


def check(row: Row, today: date) -> None:
    """The row's own consistency: what the state implies, chronological dates, amounts."""
    for name in c.REQUIRED:
        if not row[name] and not any(column == name for column, _m in row.errors):
            row.error(name, _("Valeur obligatoire."))
    if not row["finess_geo"] and not row["siret"] and not _has_error(row, "finess_geo", "siret"):
        row.error("finess_geo", _("Le site est identifié par son FINESS géographique ou son SIRET : l'un des deux "
                                  "est obligatoire."))
    state = row["state"]
    if state:
        _check_steps(row, state)
    _check_chronology(row, today)
    declared, solde = row["declared_amount"], row["solde_amount"]
    if declared is not None and declared <= 0:
        row.error("declared_amount", _("Le montant déclaré de l'avance doit être positif."))
    if declared is not None and solde is not None and solde > declared:
        row.error("solde_amount", _("Le montant du solde (%(s)s) dépasse le montant déclaré de l'avance (%(d)s).") % {
            "s": solde, "d": declared})


def _has_error(row: Row, *names: str) -> bool:
    return any(column in names for column, _m in row.errors)


def _given(row: Row, name: str) -> bool:
    return row[name] not in (None, "") or _has_error(row, name)


def _check_steps(row: Row, state: str) -> None:
    state_label = State(state).label
    required, allowed = REQUIRED_STEPS[state], ALLOWED_STEPS[state]
    for step, names in STEPS.items():
        given = [n for n in names if _given(row, n)]
        if step in required or (given and step in allowed):
            for name in names:
                if not _given(row, name):
                    row.error(name, _("Obligatoire pour un dossier à l'état « %(state)s ».") % {"state": state_label}
                              if step in required else
                              _("Obligatoire dès que « %(other)s » est renseigné.") % {"other": label(given[0])})
        elif given:
            for name in given:
                row.error(name, _("Sans objet pour un dossier à l'état « %(state)s » : laissez la cellule vide.") % {
                    "state": state_label})


def _check_chronology(row: Row, today: date) -> None:
    previous: tuple[str, date] | None = None
    for name in DATE_ORDER:
        day = row[name]
        if day is None:
            continue
        if day > today:
            row.error(name, _("Date future (%(d)s) : une étape enregistrée a déjà eu lieu.") % {
                "d": day.strftime("%d/%m/%Y")})
        if previous is not None and day < previous[1]:
            row.error(name, _("Date antérieure à « %(prev)s » (%(d)s) : les étapes se suivent dans l'ordre.") % {
                "prev": label(previous[0]), "d": previous[1].strftime("%d/%m/%Y")})
        previous = (name, day)


def cancellation_from_state(row: Row) -> str:
    last = ""
    for step in STEP_STATE:
        if any(row[name] not in (None, "") for name in STEPS[step]):
            last = step
    return STEP_STATE.get(last, State.BDC_SIGNED)
