"""French display of the values users read: dates ("3 décembre 2026"), amounts ("12 345,67 €").

One place for the formats the pages, the history and the template filters (segurtrack.templatetags.french) share.
Values may come typed (date, Decimal) or as stored in JSON history rows (ISO strings, numbers as text).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext as _

EMPTY = "—"
DATE_FORMAT = "j F Y"  # 3 décembre 2026 (month names from Django's French locale)
DATETIME_FORMAT = "j F Y, H:i"
THIN_SPACE = "\u202f"  # the French thousands separator (narrow no-break space)


def as_date(value: Any) -> dt.date | dt.datetime | None:
    """A date or datetime from a typed value or an ISO string; None when the value is not one."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value
    if not isinstance(value, str) or len(value) < 10 or value[4:5] != "-" or value[7:8] != "-":
        return None
    try:
        return dt.datetime.fromisoformat(value) if len(value) > 10 else dt.date.fromisoformat(value)
    except ValueError:
        return None


def french_date(value: Any) -> str:
    """3 décembre 2026; a datetime is shown with its time, in Paris time."""
    moment = as_date(value)
    if moment is None:
        return EMPTY if value in (None, "") else str(value)
    if isinstance(moment, dt.datetime):
        if timezone.is_aware(moment):
            moment = timezone.localtime(moment)
        return formats.date_format(moment, DATETIME_FORMAT)
    return formats.date_format(moment, DATE_FORMAT)


def french_day(value: Any) -> str:
    """3 décembre 2026, without the time even for a datetime."""
    moment = as_date(value)
    if isinstance(moment, dt.datetime):
        moment = timezone.localtime(moment) if timezone.is_aware(moment) else moment
        moment = moment.date()
    return french_date(moment) if moment is not None else (EMPTY if value in (None, "") else str(value))


def as_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def euros(value: Any) -> str:
    """12 345,67 € (two decimals, narrow no-break spaces between thousands and before the sign)."""
    amount = as_decimal(value)
    if amount is None:
        return EMPTY if value in (None, "") else str(value)
    text = f"{amount:,.2f}".replace(",", THIN_SPACE).replace(".", ",")
    return f"{text}{THIN_SPACE}€"


def yes_no(value: bool) -> str:
    return _("oui") if value else _("non")
