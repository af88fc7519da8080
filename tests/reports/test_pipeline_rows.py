"""The pipeline page's chart bars and table rows, written in Python (reports/views/pipeline_rows.py), are the HTML
the templates wrote: labels escaped, counts localised, a state linked to the list only for a member and only when it
holds dossiers."""
from decimal import Decimal

import pytest
from django.template import engines
from django.utils import translation

from dossiers.rules import money
from reports.charts import bar_chart
from reports.views.pipeline_rows import chart_bars, state_rows

# The loops as templates/reports/_bar_chart.svg.html and pipeline.html wrote them before.
DESC = """{% for bar in chart.bars %}{{ bar.label }} : {{ bar.count }} ({{ bar.text }}){% if not forloop.last %} ; {% endif %}{% endfor %}"""
BARS = """{% for bar in chart.bars %}<g class="chart__bar" data-label="{{ bar.label }}" data-count="{{ bar.count }}">
    <text class="chart__label" x="{{ chart.label_x }}" y="{{ bar.cy|stringformat:'s' }}" dy="0.35em" text-anchor="end">{{ bar.label }}</text>
    <rect x="{{ bar.x|stringformat:'s' }}" y="{{ bar.y|stringformat:'s' }}" width="{{ bar.width|stringformat:'s' }}" height="{{ bar.height|stringformat:'s' }}"/>
    <text class="chart__count" x="{{ chart.value_x }}" y="{{ bar.cy|stringformat:'s' }}" dy="0.35em">{{ bar.count }} · {{ bar.text }}</text>
  </g>
  {% endfor %}"""
ROWS = """{% for row in states %}
    <tr><th scope="row">{% if row.count and not staff %}<a href="{% url 'dossier-list' %}?state={{ row.state }}">{% include "dossiers/_state.html" with state=row.state label=row.label %}</a>{% else %}{% include "dossiers/_state.html" with state=row.state label=row.label %}{% endif %}</th>
      <td class="num">{{ row.count }}</td><td class="num">{{ row.declared_text }}</td><td class="num">{{ row.avance_text }}</td><td class="num">{{ row.solde_text }}</td></tr>{% endfor %}"""


def render(source: str, **context) -> str:
    return engines["django"].from_string(source).render(context)


def states():
    rows = [("draft", "Brouillon <test>", 0, "0"), ("va_signed", "VA signée", 12345, "1234567.5"),
            ("solde_paid", "Solde & payé", 7, "99.99")]
    return [{"state": state, "label": label, "count": count, "declared_text": money(Decimal(amount)),
             "avance_text": money(Decimal(amount) / 2), "solde_text": money(Decimal(0))}
            for state, label, count, amount in rows]


@pytest.mark.parametrize("staff", [False, True])
def test_the_rows_are_what_the_row_template_wrote(staff):
    with translation.override("fr"):
        new, old = state_rows(states(), staff=staff), render(ROWS, states=states(), staff=staff)
    assert new == old
    assert ('href="/dossiers/?state=va_signed"' in new) is not staff and "?state=draft" not in new
    assert "Brouillon &lt;test&gt;" in new and "Solde &amp; payé" in new


def test_the_bars_and_their_description_are_what_the_chart_template_wrote():
    chart = bar_chart([(row["label"], row["count"], row["declared_text"]) for row in states()])
    with translation.override("fr"):
        desc, bars = chart_bars(chart)
        assert desc == render(DESC, chart=chart)
        assert bars == render(BARS, chart=chart)
    assert 'data-label="Brouillon &lt;test&gt;" data-count="0"' in bars and desc.count(" ; ") == 2


def test_no_state_no_bar():
    assert chart_bars(bar_chart([])) == ("", "") and state_rows([], staff=False) == ""
