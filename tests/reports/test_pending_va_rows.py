"""The pending-VA page's rows, written in Python (reports/views/pending_va_rows.py), are the HTML the row template
wrote, for every shape a row takes: overdue or not, with a reference or only an id, a FINESS, only a SIRET or
neither, a member's own rows (linked) and, for platform staff, another organisation's (not linked) or every row when
staff have no membership, ages past a thousand days, every value escaped."""
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from django.template import engines
from django.utils import timezone, translation

from reports.queries import PendingVa
from reports.views.pending_va_rows import pending_va_rows

# The rows as templates/reports/pending_va.html wrote them before they were written in Python.
ROW_TEMPLATE = """{% load i18n %}{% for item in rows %}
      <tr{% if item.overdue %} class="row--overdue"{% endif %}>
        <th scope="row">{% if staff and item.row.organisation_id != membership.organisation_id %}{{ item.row.reference|default:item.row.id }}{% else %}<a href="{% url 'dossier-detail' item.row.id %}">{{ item.row.reference|default:item.row.id }}</a>{% endif %}</th>
        <td>{{ item.row.client__name }}<br><span class="muted mono">{{ item.row.client__finess_geo|default:item.row.client__siret|default:"—" }}</span></td>
        <td>{{ item.row.solution__name }} {{ item.row.solution__version }}<br><span class="muted">{{ item.row.dispositif__code }}</span></td>
        <td>{{ item.row.deployed_on|date:"j F Y" }}</td>
        <td class="num">{{ item.age_days }}{% if item.overdue %} <span class="badge badge--alert">{% translate "en retard" %}</span>{% endif %}</td>
        <td class="num">{{ item.amount_at_stake|euros }}</td>
      </tr>
    {% endfor %}"""

TODAY = date(2026, 3, 2)


@dataclass
class FakeMembership:
    organisation_id: int


def row(pk, *, organisation_id=1, reference="R-1", client="Clinique", finess="750000001", siret="12345678900011",
        solution="Logi", version="2.1", code="DSR", deployed_on=date(2026, 1, 1), declared="1000.00",
        avance="300.00", va_days=60):
    return PendingVa({"id": pk, "reference": reference, "organisation_id": organisation_id,
                      "organisation__pending_va_days": va_days, "client__name": client,
                      "client__finess_geo": finess, "client__siret": siret, "solution__name": solution,
                      "solution__version": version, "dispositif__code": code, "deployed_on": deployed_on,
                      "declared_amount": None if declared is None else Decimal(declared),
                      "avance_paid_total": None if avance is None else Decimal(avance)}, TODAY)


ROWS = [
    row(7, reference="R-<7>", client="Clinique <l'Étang>", solution='Logi "2" & Co', version="<1>",
        code="A&B", deployed_on=date(2026, 2, 20)),                                   # escaped everything
    row(8, reference="", finess="", deployed_on=date(2022, 1, 1), declared="1234567.80", avance=None),  # id, SIRET
    row(9, finess=None, siret="", declared=None, avance=None, deployed_on=date(2026, 3, 2)),  # neither: "—"
    row(10, organisation_id=2, deployed_on=date(2025, 12, 31)),                            # another organisation's
    row(11, organisation_id=2, reference="", deployed_on=date(2025, 12, 31)),
]


def old_rows(rows, *, staff, membership):
    return engines["django"].from_string(ROW_TEMPLATE).render(
        {"rows": rows, "staff": staff, "membership": membership})


@pytest.mark.parametrize("staff, membership", [(False, FakeMembership(1)), (True, FakeMembership(1)),
                                               (True, None)])
def test_the_rows_are_what_the_row_template_wrote(staff, membership):
    with translation.override("fr"), timezone.override("Europe/Paris"):
        new = pending_va_rows(ROWS, staff=staff, own=membership.organisation_id if membership else None)
        old = old_rows(ROWS, staff=staff, membership=membership)
    assert new == old
    assert "R-&lt;7&gt;" in new and "Clinique &lt;l&#x27;Étang&gt;" in new and "Logi &quot;2&quot; &amp; Co" in new
    assert "12345678900011" in new and "—" in new and "1 janvier 2022" in new and "en retard" in new
    linked_other = 'href="/dossiers/10/"' in new
    assert linked_other is (not staff)
    assert ('href="/dossiers/7/"' in new) is (membership is not None or not staff)


def test_no_rows_no_html():
    assert pending_va_rows([], staff=False, own=1) == ""
