"""Listeners other apps register (in `AppConfig.ready`) to react to dossier events without `dossiers` knowing them.

`history_appended` runs inside the transaction that appended the history row, so a listener's own rows (webhook
deliveries) commit or roll back with the change; listeners must only write rows, never call out. `deadline_day`
runs from the daily deadline task, outside any request.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

_history_listeners: list[Callable[[Any], None]] = []
_deadline_day_listeners: list[Callable[[date], None]] = []


def on_history_appended(listener: Callable[[Any], None]) -> Callable[[Any], None]:
    if listener not in _history_listeners:
        _history_listeners.append(listener)
    return listener


def on_deadline_day(listener: Callable[[date], None]) -> Callable[[date], None]:
    if listener not in _deadline_day_listeners:
        _deadline_day_listeners.append(listener)
    return listener


def history_appended(entry: Any) -> None:
    """Called by `services.append_history` with the saved row, in its transaction."""
    for listener in _history_listeners:
        listener(entry)


def deadline_day(day: date) -> None:
    """Called once a day by the deadline task."""
    for listener in _deadline_day_listeners:
        listener(day)
