"""One transition applied to many dossiers: each item through `services.run_transition` in its own transaction.

One item's failure never undoes another's; a dry run runs each item in a savepoint rolled back afterwards, so
payloads and rules are evaluated exactly as for real and nothing is saved (nor notified: the outbox rows go too).
The CSV variant reads an ASP statement (`reference`, `transition`, payload columns) into the same items.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import IO, Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.translation import gettext as _

from segurtrack import errors
from . import services
from .models import Dossier

MAX_ITEMS = 1000


@dataclass
class Item:
    """What to run: a dossier (by id, or by reference from a CSV row), a transition and its payload."""

    dossier: int | None
    transition: str
    data: Any
    row: int | None = None
    reference: str = ""


@dataclass
class Result:
    item: Item
    status: int                                   # 200, 400, 404 or 409
    outcome: services.Outcome | None = None
    refused: services.RulesFailed | None = None
    invalid: dict[str, list[str]] = field(default_factory=dict)


class _DryRun(Exception):
    def __init__(self, outcome: services.Outcome):
        super().__init__("dry run")
        self.outcome = outcome


def run_bulk(*, organisation_id: int, by: AbstractBaseUser, items: list[Item], dry_run: bool = False) -> list[Result]:
    """Every item's result, in item order. Raises NotPermitted (viewer) and InvalidInput (over MAX_ITEMS)."""
    services.require_role(by, organisation_id)
    if len(items) > MAX_ITEMS:
        raise errors.InvalidInput({"items": [_("%(max)d éléments au plus par appel (%(n)d reçus).") % {
            "max": MAX_ITEMS, "n": len(items)}]})
    references = {item.reference for item in items if item.dossier is None and item.reference}
    by_reference = dict(Dossier.objects.filter(organisation_id=organisation_id, reference__in=references).values_list(
        "reference", "pk")) if references else {}
    for item in items:
        if item.dossier is None and item.reference:
            item.dossier = by_reference.get(item.reference)
    ids = {item.dossier for item in items if item.dossier is not None}
    # Another organisation's dossier is a 404 item, exactly like a missing one.
    own = set(Dossier.objects.filter(organisation_id=organisation_id, pk__in=ids).values_list("pk", flat=True))
    return [_run_one(item, by, dry_run) if item.dossier in own else Result(item, 404) for item in items]


def _run_one(item: Item, by: AbstractBaseUser, dry_run: bool) -> Result:
    try:
        with transaction.atomic():
            outcome = services.run_transition(item.dossier, item.transition, by=by, data=item.data)
            if dry_run:
                raise _DryRun(outcome)
    except _DryRun as rolled_back:
        return Result(item, 200, outcome=rolled_back.outcome)
    except services.RulesFailed as refused:
        return Result(item, 409, refused=refused)
    except errors.InvalidInput as invalid:
        return Result(item, 400, invalid=invalid.errors)
    return Result(item, 200, outcome=outcome)


# --- the CSV variant --------------------------------------------------------------------------------------------

_FRENCH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_FRENCH_AMOUNT = re.compile(r"^-?\d{1,3}(?:[ \u00a0\u202f]\d{3})*(?:,\d+)?$|^-?\d+,\d+$")
_BOOLEANS = {"oui": "true", "non": "false", "vrai": "true", "faux": "false"}


def _cell(value: str) -> str:
    """A statement's cell as the payload expects it: French dates and amounts read, oui/non as booleans."""
    value = value.strip()
    match = _FRENCH_DATE.match(value)
    if match:
        return f"{int(match[3]):04d}-{int(match[2]):02d}-{int(match[1]):02d}"
    if _FRENCH_AMOUNT.match(value):
        return re.sub(r"[ \u00a0\u202f]", "", value).replace(",", ".")
    return _BOOLEANS.get(value.lower(), value)


def items_from_csv(handle: IO[bytes], *, transition: str = "") -> list[Item]:
    """Items from a CSV statement (UTF-8, `;` or `,`): `reference`, `transition` (or the default), payload columns.

    Raises InvalidInput naming the file's problem (encoding, missing column, unreadable CSV, too many rows).
    """
    try:
        # NUL never belongs in a statement (and PostgreSQL refuses it in text): dropped.
        text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="").read().replace("\x00", "")
    except UnicodeDecodeError:
        raise errors.InvalidInput({"file": [_("Le fichier n'est pas en UTF-8 : enregistrez-le au format "
                                                "« CSV UTF-8 ».")]})
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text), delimiter=";" if first.count(";") >= first.count(",") else ",")
    try:
        return _items(reader, transition)
    except csv.Error as error:
        raise errors.InvalidInput({"file": [_("CSV illisible : %(e)s") % {"e": error}]})


def _items(reader, transition: str) -> list[Item]:
    header = [h.strip().lower() for h in next(reader, [])]
    if "reference" not in header:
        raise errors.InvalidInput({"file": [_("La colonne « reference » est obligatoire.")]})
    if "transition" not in header and not transition:
        raise errors.InvalidInput({"file": [_("Indiquez la transition : une colonne « transition » ou le champ "
                                                "transition.")]})
    items: list[Item] = []
    for number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        values = dict(zip(header, cells))
        reference = values.pop("reference", "").strip()
        name = values.pop("transition", "").strip() or transition
        data = {key: _cell(value) for key, value in values.items() if key and value.strip()}
        items.append(Item(None, name, data, row=number, reference=reference))
        if len(items) > MAX_ITEMS:
            raise errors.InvalidInput({"file": [_("%(max)d lignes au plus par relevé.") % {"max": MAX_ITEMS}]})
    return items
