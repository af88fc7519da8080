"""The deadlines page's rows, written in Python (reports/views/deadline_rows.py), are the HTML the row template
wrote, for every shape a deadline takes: overdue (one day, many), today, ahead (thousands of days, grouped), due at a
minute or on a day, about a dossier, a client or a solution, with an amount still owed or none, every value escaped."""
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.template import engines
from django.utils import timezone, translation

from dossiers.rules import money
from reports import deadlines as dl
from reports.views.deadline_rows import deadline_rows

# The row as templates/reports/deadlines.html wrote it before the rows were written in Python (with the values
# the view added to each deadline: page_url, target, is_datetime, late_days, amount_label).
ROW_TEMPLATE = """{% load i18n %}{% for row in rows %}
    <tr class="deadline deadline--{{ row.kind }}{% if row.overdue %} row--overdue{% endif %}">
      <th scope="row">{% if row.is_datetime %}{{ row.due|date:"j F Y, H:i" }}{% else %}{{ row.due|date:"j F Y" }}{% endif %}<br>
        {% if row.overdue %}<span class="badge badge--alert">{% blocktranslate count counter=row.late_days %}en retard de {{ counter }} jour{% plural %}en retard de {{ counter }} jours{% endblocktranslate %}</span>
        {% elif row.days_left == 0 %}<span class="badge">{% translate "aujourd'hui" %}</span>
        {% else %}<span class="muted">{% blocktranslate count counter=row.days_left %}dans {{ counter }} jour{% plural %}dans {{ counter }} jours{% endblocktranslate %}</span>{% endif %}</th>
      <td>{{ row.label }}{% if row.amount_label %}<br><span class="deadline__amount">{% blocktranslate with amount=row.amount_label %}Reste dû : {{ amount }}{% endblocktranslate %}</span>{% endif %}</td>
      <td><a href="{{ row.page_url }}">{{ row.target }}</a></td>
      <td>{% if row.client %}{% if row.client_id %}<a href="{% url 'client-edit' row.client_id %}">{{ row.client }}</a>{% else %}{{ row.client }}{% endif %}{% endif %}{% if row.client and row.solution %}<br>{% endif %}{% if row.solution %}{% if row.solution_id %}<a class="muted" href="{% url 'solution-detail' row.solution_id %}">{{ row.solution }}</a>{% else %}{{ row.solution }}{% endif %}{% endif %}</td>
    </tr>{% endfor %}"""


def _page_url(row):
    """What the view computed for the template (reports/views/reports.py before the rows were written in Python)."""
    from django.urls import reverse

    if row["dossier"] is not None:
        return reverse("dossier-detail", args=[row["dossier"]]), row["reference"] or f"#{row['dossier']}"
    if row["kind"] == dl.Kind.PORTABILITY:
        return reverse("client-edit", args=[row["client_id"]]) + "#portabilite", row["client"]
    return reverse("solution-detail", args=[row["solution_id"]]) + "#modifications", row["solution"]


def old_rows(deadlines) -> str:
    rows = []
    for deadline in deadlines:
        row = dict(deadline)
        row["page_url"], row["target"] = _page_url(row)
        row["is_datetime"] = hasattr(row["due"], "hour")
        row["late_days"] = max(-row["days_left"], 0)
        row["amount_label"] = money(Decimal(row["amount"])) if row["amount"] is not None else ""
        rows.append(row)
    return engines["django"].from_string(ROW_TEMPLATE).render({"rows": rows})


def deadline(kind, due, *, days_left, overdue=False, dossier=None, reference=None, client_id=None, client=None,
             solution_id=None, solution=None, amount=None):
    return {"kind": kind, "label": str(dl.LABELS[kind]), "due": due, "overdue": overdue, "days_left": days_left,
            "dossier": dossier, "reference": reference, "client_id": client_id, "client": client,
            "solution_id": solution_id, "solution": solution, "object_id": None, "url": "", "amount": amount}


PARIS = ZoneInfo("Europe/Paris")
DEADLINES = [
    deadline(dl.Kind.AVANCE_FILING, datetime(2026, 3, 1, 23, 59, tzinfo=PARIS), days_left=-1, overdue=True,
             dossier=7, reference="R-<7>", client_id=3, client="Clinique <l'Étang>", solution_id=4,
             solution='Logi "2" & Co'),
    deadline(dl.Kind.RECOVERY, date(2026, 3, 1), days_left=-12, overdue=True, dossier=8, reference="",
             client_id=3, client="EHPAD", solution_id=None, solution="Sans lien", amount="12345.60"),
    deadline(dl.Kind.PENDING_VA, date(2026, 3, 2), days_left=0, dossier=9, reference="R-9", client_id=None,
             client="Client sans page"),
    deadline(dl.Kind.PORTABILITY, date(2026, 3, 3), days_left=1, client_id=5, client="Centre <B>"),
    deadline(dl.Kind.MAINTENANCE_END, date(2032, 3, 3), days_left=2190, solution_id=6, solution="Logi & Co"),
    deadline(dl.Kind.REREFERENCING, date(2026, 4, 3), days_left=32, solution_id=6, solution="Logi"),
]


def test_the_rows_are_what_the_row_template_wrote():
    with translation.override("fr"), timezone.override("Europe/Paris"):
        new, old = deadline_rows(DEADLINES), old_rows(DEADLINES)
    assert new == old
    assert "en retard de 1 jour<" in new and "en retard de 12 jours" in new and "aujourd'hui" in new
    assert "1 mars 2026, 23:59" in new and "Clinique &lt;l&#x27;Étang&gt;" in new and "#8</a>" in new
    assert "Reste dû : 12 345,60" in new.replace("\xa0", " ").replace("\u202f", " ")


def test_no_deadline_no_row():
    assert deadline_rows([]) == ""
