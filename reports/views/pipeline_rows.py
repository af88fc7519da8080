"""The pipeline page's bars and table rows, written in Python: a state per bar and per row, each through some fifteen
template lookups, filters, an include and a `{% url %}`, were most of the page's own cost (2.5 ms); here each is one
f-string, every value escaped and localised as the template did (tests/reports/test_pipeline_rows.py compares them
with the templates they replace)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from segurtrack.quick_forms import escaped, shown as _shown


def chart_bars(chart: Mapping[str, Any]) -> tuple[SafeString, SafeString]:
    """reports/_bar_chart.svg.html's description (every bar's words) and its bars (`charts.bar_chart`)."""
    bars = chart["bars"]
    desc = " ; ".join(f"{_shown(bar.label)} : {_shown(bar.count)} ({_shown(bar.text)})" for bar in bars)
    label_x, value_x = _shown(chart["label_x"]), _shown(chart["value_x"])
    out = []
    for bar in bars:
        label, count, cy = _shown(bar.label), _shown(bar.count), escaped(str(bar.cy))
        out.append(
            f'<g class="chart__bar" data-label="{label}" data-count="{count}">\n'
            f'    <text class="chart__label" x="{label_x}" y="{cy}" dy="0.35em" text-anchor="end">{label}</text>\n'
            f'    <rect x="{escaped(str(bar.x))}" y="{escaped(str(bar.y))}" width="{escaped(str(bar.width))}" '
            f'height="{escaped(str(bar.height))}"/>\n'
            f'    <text class="chart__count" x="{value_x}" y="{cy}" dy="0.35em">{count} · {_shown(bar.text)}</text>\n'
            f"  </g>\n  ")
    return mark_safe(desc), mark_safe("".join(out))


def state_rows(states: Iterable[Mapping[str, Any]], *, staff: bool) -> SafeString:
    """The table's row of each state: linked to the list filtered on it for a member when it holds dossiers."""
    list_url = escaped(reverse("dossier-list"))
    out = []
    for row in states:
        state = _shown(row["state"])
        badge = f'<span class="state state--{state}">{_shown(row["label"])}</span>\n'  # dossiers/_state.html
        if row["count"] and not staff:
            badge = f'<a href="{list_url}?state={state}">{badge}</a>'
        out.append(
            f'\n    <tr><th scope="row">{badge}</th>\n'
            f'      <td class="num">{_shown(row["count"])}</td><td class="num">{_shown(row["declared_text"])}</td>'
            f'<td class="num">{_shown(row["avance_text"])}</td><td class="num">{_shown(row["solde_text"])}</td></tr>')
    return mark_safe("".join(out))
