"""The form renderer: Django's, with each widget and label rendering remembered by its whole input.

Every form field on a page costs two to four small template renderings (the label, its attributes, the widget,
each option of a select), and the same fields render the same way on every request: a dossier page pays ~10 ms for
its seven fields. A widget's or label's HTML is a pure function of the template (fixed for the life of a process:
the templates are read once, by the cached loader), of the plain values in its context, of the active language
and time zone. So the output is kept per (template, language, time zone, context) and reused.

It is only reused when that is provably the same answer:
- the context is made of plain values only (strings with their HTML safety, numbers, booleans, None, dates,
  and lists, tuples and dicts of them, dict order included since it orders the attributes); anything else (a
  model instance, a file) renders as before, without the cache;
- no string in it is longer than MAX_STRING (the memo holds at most MAX_ENTRIES small renderings);
- no request is passed (a request could change the output: the CSRF token of a whole form);
- not under DEBUG, where templates may be edited while the process runs.
The one context entry left out of the key is the label template's `field` (the BoundField, an object): that
template does not read it (tests/pages/test_form_renderer.py checks its source).
"""
from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.forms.renderers import DjangoTemplates
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import get_language

MAX_ENTRIES = 4096
# A longer string (a long text typed into a form sent back with its errors) renders without the memo: the memo's
# size stays bounded (MAX_ENTRIES of small renderings) whatever a request carries.
MAX_STRING = 1000
# Context entries a template does not read, left out of its key.
UNREAD = {"django/forms/label.html": frozenset({"field"})}


class Unkeyable(Exception):
    """A context value that is not plain: render without the cache."""


_SCALARS = (bool, int, float, Decimal, type(None))
_DATES = (datetime.datetime, datetime.date, datetime.time)


def freeze(value: Any) -> Any:
    """A hashable key that differs whenever the rendering could: type, value, HTML safety, order."""
    kind = type(value)
    if kind in (list, tuple):
        return (kind.__name__, tuple(freeze(item) for item in value))
    if kind is dict:
        return ("dict", tuple((freeze(key), freeze(item)) for key, item in value.items()))
    if kind in _SCALARS:
        return (kind.__name__, value)
    if kind in _DATES:
        return (kind.__name__, value.isoformat())
    if isinstance(value, (str, Promise)):
        # A string or a lazy one: escaped unless marked safe; a lazy one in the active language's words.
        text = str(value)
        if len(text) > MAX_STRING:
            raise Unkeyable("long string")
        return ("str", hasattr(value, "__html__"), text)
    raise Unkeyable(kind.__name__)


class MemoDjangoTemplates(DjangoTemplates):
    """Django's default form renderer, remembering each rendering of plain values (module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.memo: dict[tuple, str] = {}

    def render(self, template_name, context, request=None):
        if request is not None or settings.DEBUG:
            return super().render(template_name, context, request=request)
        unread = UNREAD.get(template_name, frozenset())
        try:
            key = (template_name, get_language(), timezone.get_current_timezone_name(),
                   tuple((name, freeze(value)) for name, value in context.items() if name not in unread))
        except Unkeyable:
            return super().render(template_name, context, request=request)
        html = self.memo.get(key)
        if html is None:
            html = super().render(template_name, context, request=request)
            if len(self.memo) >= MAX_ENTRIES:
                self.memo.clear()
            self.memo[key] = html
        return html
