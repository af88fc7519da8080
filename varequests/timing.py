"""Whether a VA request's link still takes a VA, and when its reminders fall: read by the services, the pages and
the tasks (a module of its own, so the services can import the tasks they enqueue without a circle)."""
from __future__ import annotations

from datetime import date, timedelta

from dossiers.business_days import is_business_day
from dossiers.models import State

from .models import VaRequest


def is_usable(va_request: VaRequest) -> bool:
    """The link takes a VA: open, not expired, and its dossier still awaits it."""
    return va_request.is_open and va_request.dossier.state == State.DEPLOYED


def reminder_due_on(requested_on: date, days: int, *, department: str | None) -> date:
    """`days` calendar days after the request, moved to the next jour ouvré when that day is not one."""
    day = requested_on + timedelta(days=days)
    while not is_business_day(day, department=department):
        day += timedelta(days=1)
    return day
