"""Jours ouvrés: Saturdays, Sundays and French public holidays, with a department's own (DOMAIN.md §8)."""
from __future__ import annotations

import functools
from datetime import date, timedelta

import holidays
from django.conf import settings

# The `holidays` library names Alsace (67, 68) "6AE" and Saint-Pierre-et-Miquelon "PM".
_SUBDIVISION = {"57": "57", "67": "6AE", "68": "6AE", "971": "971", "972": "972", "973": "973",
                "974": "974", "975": "PM", "976": "976"}


@functools.lru_cache(maxsize=64)
def _calendar(subdivision: str | None, year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("FR", subdiv=subdivision, years=year)


def is_business_day(day: date, *, department: str | None = None) -> bool:
    """True on a weekday that is not a public holiday in France or in the client's department."""
    if day.weekday() >= 5:
        return False
    return day not in _calendar(_SUBDIVISION.get(department or ""), day.year)


def add_business_days(start: date, count: int, *, department: str | None = None) -> date:
    """The date `count` jours ouvrés after `start` (the start day itself is not counted)."""
    day = start
    remaining = count
    while remaining > 0:
        day += timedelta(days=1)
        if is_business_day(day, department=department):
            remaining -= 1
    return day


def correction_due_on(requested_on: date, *, department: str | None = None) -> date:
    """When a correction requested by the ASP is due: CORRECTION_BUSINESS_DAYS jours ouvrés later."""
    return add_business_days(requested_on, settings.CORRECTION_BUSINESS_DAYS, department=department)
