"""The import's columns: field names, the French headers the exports write, and how each cell is read."""
from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from dossiers.models import Client, SignatureType, State


@dataclass(frozen=True)
class Column:
    name: str       # the field name (API.md), also accepted as a header
    header: Any     # the French header, as reports/generators.py writes it where the export has the column
    kind: str = "text"   # text, date, money, bool, identifier, choice


COLUMNS = [
    Column("reference", _l("Référence")),
    Column("client_name", _l("Client")),
    Column("client_kind", _l("Type de client"), "choice"),
    Column("finess_geo", _l("FINESS géographique"), "identifier"),
    Column("finess_legal", _l("FINESS juridique"), "identifier"),
    Column("siret", _l("SIRET"), "identifier"),
    Column("department", _l("Département"), "identifier"),
    Column("vat_liable", _l("Assujetti à la TVA"), "bool"),
    Column("solution_name", _l("Solution")),
    Column("solution_version", _l("Version")),
    Column("dispositif", _l("Dispositif")),
    Column("scenario", _l("Scénario")),
    Column("state", _l("État"), "choice"),
    Column("bdc_signed_on", _l("BDC signé le"), "date"),
    Column("bdc_signer_name", _l("Signataire du BDC")),
    Column("bdc_signature_type", _l("Type de signature"), "choice"),
    Column("avance_filed_on", _l("Avance déposée le"), "date"),
    Column("declared_amount", _l("Montant déclaré (€)"), "money"),
    Column("avance_validated_on", _l("Avance validée le"), "date"),
    Column("avance_paid_on", _l("Avance payée le"), "date"),
    Column("avance_paid_amount", _l("Avance payée (€)"), "money"),
    Column("deployed_on", _l("Déployé le"), "date"),
    Column("va_signed_on", _l("VA signée le"), "date"),
    Column("va_signer_name", _l("Signataire de la VA")),
    Column("solde_filed_on", _l("Solde déposé le"), "date"),
    Column("solde_amount", _l("Montant du solde (€)"), "money"),
    Column("solde_validated_on", _l("Solde validé le"), "date"),
    Column("solde_paid_on", _l("Solde payé le"), "date"),
    Column("solde_paid_amount", _l("Solde payé (€)"), "money"),
]
BY_NAME = {c.name: c for c in COLUMNS}
# Without them no row can be placed: a file lacking one is refused at its header.
REQUIRED = ("client_name", "solution_name", "solution_version", "dispositif", "state")
IDENTIFIER_WIDTH = {"finess_geo": 9, "finess_legal": 9, "siret": 14}


def normalise_header(text: Any) -> str:
    """Headers compared without case, accents, a currency suffix or repeated spaces."""
    text = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode()
    text = re.sub(r"\((?:eur|euros?)?\)|€", "", text.lower().replace("\u20ac", ""))
    return re.sub(r"[\s_]+", " ", text).strip()


def _normalised_index(rows: Iterable[tuple[str, Any, Any]]) -> dict[str, str]:
    """(value, name, name) rows → each name normalised (any case, accents optional) → value; a later name wins."""
    index = {}
    for value, *names in rows:
        for name in names:
            index[normalise_header(name)] = value
    return index


@functools.cache
def header_index() -> dict[str, str]:
    """Normalised header → field name, for the French headers and the field names."""
    return _normalised_index((column.name, column.header, column.name) for column in COLUMNS)


def _choices(choices: list[tuple[str, Any]]) -> dict[str, str]:
    """Code or French label (any case, accents optional) → code."""
    return _normalised_index((code, code, label) for code, label in choices)


@functools.cache
def choice_index(name: str) -> dict[str, str]:
    return {"state": _choices(State.choices), "client_kind": _choices(Client.Kind.choices),
            "bdc_signature_type": _choices(SignatureType.choices)}[name]


_TRUE = {"oui", "o", "true", "vrai", "1", "yes", "y", "x"}
_FALSE = {"non", "n", "false", "faux", "0", "no"}
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_FRENCH = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def text(value: Any) -> str:
    """A cell as text: numbers as written (an integer float without its .0), dates ISO, None as ''."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    # NUL has no meaning in a cell (PostgreSQL refuses it in text): dropped.
    return str(value).replace("\x00", "").strip()


def parse_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = str(value).strip()
    if not raw:
        return None
    match = _ISO.match(raw)
    try:
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
        match = _FRENCH.match(raw)
        if match:
            return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        raise ValidationError(_("« %(v)s » n'est pas une date du calendrier.") % {"v": raw})
    raise ValidationError(_("« %(v)s » n'est pas une date : AAAA-MM-JJ ou JJ/MM/AAAA attendu.") % {"v": raw})


def parse_money(value: Any) -> Decimal | None:
    """`1234.50`, `1 234,50`, `1.234,50 €` or a spreadsheet number; at most two decimals, never negative."""
    if value in (None, ""):
        return None
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        amount = Decimal(str(value))
    else:
        raw = re.sub(r"[\s\u00a0\u202f€]", "", str(value))
        if not raw:
            return None
        if "," in raw and "." in raw:
            # The last separator is the decimal one: "1.234,50" and "1,234.50".
            thousands = "." if raw.rfind(",") > raw.rfind(".") else ","
            raw = raw.replace(thousands, "")
        raw = raw.replace(",", ".")
        try:
            amount = Decimal(raw)
        except InvalidOperation:
            raise ValidationError(_("« %(v)s » n'est pas un montant : 1234.50 ou 1 234,50 attendu.") % {"v": value})
    if not amount.is_finite():
        raise ValidationError(_("« %(v)s » n'est pas un montant.") % {"v": value})
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError(_("Un montant a au plus deux décimales (« %(v)s »).") % {"v": value})
    if amount < 0:
        raise ValidationError(_("Un montant ne peut pas être négatif (« %(v)s »).") % {"v": value})
    return amount.quantize(Decimal("0.01"))


def parse_bool(value: Any) -> bool | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        return value
    raw = text(value).lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValidationError(_("« %(v)s » : oui ou non attendu.") % {"v": value})


def parse_identifier(name: str, value: Any) -> str:
    """An identifier cell; a spreadsheet may have turned it into a number and dropped its leading zeros."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        digits = text(value)
        width = IDENTIFIER_WIDTH.get(name, 2 if name == "department" else 0)
        return digits.zfill(width)
    return text(value)


class HeaderError(Exception):
    def __init__(self, errors: list[dict[str, Any]]):
        super().__init__(errors)
        self.errors = errors


def map_header(header: list[Any]) -> list[tuple[int, str]]:
    """(cell index, field name) per column; unknown, repeated or missing columns raise HeaderError."""
    index = header_index()
    mapping: list[tuple[int, str]] = []
    errors: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    for position, cell in enumerate(header):
        title = text(cell)
        if not title:
            continue
        name = index.get(normalise_header(title))
        if name is None:
            errors.append({"row": 1, "column": title, "message": _(
                "Colonne inconnue « %(title)s » : utilisez les en-têtes de l'export ou les noms de champs "
                "(voir docs/exemple-import.csv).") % {"title": title}})
        elif name in seen:
            errors.append({"row": 1, "column": name, "message": _("Colonne « %(title)s » en double (déjà « %(first)s »).")
                           % {"title": title, "first": seen[name]}})
        else:
            seen[name] = title
            mapping.append((position, name))
    for name in REQUIRED:
        if name not in seen:
            errors.append({"row": 1, "column": name, "message": _("Colonne obligatoire absente : « %(title)s ».") % {
                "title": str(BY_NAME[name].header)}})
    if errors:
        raise HeaderError(errors)
    return mapping
