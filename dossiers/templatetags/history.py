"""`{% history_row row %}`: one row of a dossier's history, drawn once per process for each (row, language, time zone).

A history row never changes once written: HistoryEntry.save refuses an update (the history is append-only, each
row's hash covering its content and its predecessor's hash). Its drawing (templates/dossiers/_history_row.html, from
`timeline.history_item`) reads the row and otherwise only code: the action and field labels, the formats, the active
language and time zone. So (row id, row hash, language, time zone, autoescape) names its HTML, and a new row, having a
new id, is drawn on the very next request. At most MAX_ROWS rows are kept (the oldest go first); under DEBUG, where
templates change while the process runs, nothing is kept.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

from django import template
from django.conf import settings
from django.template import Context
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from ..timeline import history_item

register = template.Library()

ROW_TEMPLATE = "dossiers/_history_row.html"
MAX_ROWS = 4096
_drawn: OrderedDict[tuple, SafeString] = OrderedDict()
_lock = threading.Lock()


def _draw(context, row) -> SafeString:
    row_template = context.template.engine.get_template(ROW_TEMPLATE)
    return mark_safe(row_template.render(Context({"item": history_item(row)}, autoescape=context.autoescape,
                                                 use_l10n=context.use_l10n, use_tz=context.use_tz)))


@register.simple_tag(takes_context=True)
def history_row(context, row) -> SafeString:
    if settings.DEBUG or row.pk is None:
        return _draw(context, row)
    key = (row.pk, row.hash, get_language(), timezone.get_current_timezone_name(), context.autoescape)
    html = _drawn.get(key)
    if html is None:
        html = _draw(context, row)
        with _lock:
            _drawn[key] = html
            while len(_drawn) > MAX_ROWS:
                _drawn.popitem(last=False)
    return html
