"""The home page's deadline and waiting rows, written in Python (reports/views/home_rows.py), are the HTML the
templates wrote, for every shape a row takes: overdue by some days or due this very minute (no day late), today,
ahead, due at a minute or on a day, a dossier with its client or a client/solution alone; a dossier waiting past the
organisation's delay or not, without a deployment date; every value escaped."""
from datetime import date, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from django.template import engines
from django.utils import timezone, translation

from reports.views.home_rows import home_deadline_rows, home_waiting_rows

DEADLINES_TEMPLATE = """{% load i18n %}{% for row in summary.deadlines %}
      <tr class="deadline deadline--{{ row.kind }}{% if row.overdue %} row--overdue{% endif %}">
        <th scope="row">{{ row.due|date_fr }}<br>
          {% if row.overdue %}<span class="badge badge--alert">{% translate "En retard" %}</span>{% if row.late_days %} <span class="text-alert">{% blocktranslate count counter=row.late_days %}de {{ counter }} jour{% plural %}de {{ counter }} jours{% endblocktranslate %}</span>{% endif %}
          {% elif row.days_left == 0 %}<span class="badge">{% translate "aujourd'hui" %}</span>
          {% else %}<span class="muted">{% blocktranslate count counter=row.days_left %}dans {{ counter }} jour{% plural %}dans {{ counter }} jours{% endblocktranslate %}</span>{% endif %}</th>
        <td>{{ row.label }}</td>
        <td><a href="{{ row.page_url }}">{{ row.target }}</a>{% if row.dossier and row.client %}<br><span class="muted">{{ row.client }}</span>{% endif %}</td>
      </tr>
    {% endfor %}"""

WAITING_TEMPLATE = """{% load i18n %}{% for dossier in summary.waiting %}
      <tr{% if dossier.overdue %} class="row--overdue"{% endif %}>
        <th scope="row"><a href="{% url 'dossier-detail' dossier.pk %}">{{ dossier.reference }}</a><br><span class="muted">{{ dossier.client.name }}</span></th>
        <td>{{ dossier.deployed_on|date_fr|default:"—" }}</td>
        <td>{% if dossier.age_days is not None %}<span class="{% if dossier.overdue %}badge badge--alert{% else %}badge{% endif %}">{% blocktranslate count counter=dossier.age_days %}{{ counter }} jour{% plural %}{{ counter }} jours{% endblocktranslate %}</span>{% if dossier.overdue %} <span class="text-alert">{% translate "En retard" %}</span>{% endif %}{% else %}—{% endif %}</td>
      </tr>
    {% endfor %}"""

PARIS = ZoneInfo("Europe/Paris")


def deadline(kind, due, *, days_left, overdue=False, dossier=None, client=None, page_url="/x/", target="T"):
    return {"kind": kind, "label": f"Libellé <{kind}>", "due": due, "overdue": overdue, "days_left": days_left,
            "late_days": max(-days_left, 0), "dossier": dossier, "client": client, "page_url": page_url,
            "target": target}


DEADLINES = [
    deadline("avance_filing", datetime(2026, 3, 2, 8, 0, tzinfo=PARIS), days_left=0, overdue=True, dossier=7,
             client="Clinique <l'Étang>", page_url="/dossiers/7/", target="R-<7>"),      # passed this morning
    deadline("recovery", date(2026, 2, 1), days_left=-29, overdue=True, dossier=8, client="EHPAD"),
    deadline("pending_va", date(2026, 2, 28), days_left=-1, overdue=True, dossier=9, client=""),
    deadline("portability", date(2026, 3, 2), days_left=0, client="Centre", page_url="/clients/5/?a=1&b=2",
             target='Centre "B"'),
    deadline("rereferencing", date(2026, 3, 3), days_left=1, page_url="/solutions/6/#modifications"),
    deadline("ans_notice", date(2026, 4, 3), days_left=32, dossier=None, client="Sans dossier"),
]


def waiting(pk, *, reference="R-1", client="Clinique", deployed_on=date(2026, 1, 1), age_days=60, overdue=False):
    return SimpleNamespace(pk=pk, reference=reference, client=SimpleNamespace(name=client), deployed_on=deployed_on,
                           age_days=age_days, overdue=overdue)


WAITING = [
    waiting(1, reference="R-<1>", client="Clinique <l'Étang>", age_days=1, overdue=False),
    waiting(2, age_days=1500, overdue=True, deployed_on=date(2022, 1, 22)),
    waiting(3, age_days=None, deployed_on=None),
    waiting(4, age_days=0),
]


def old(template, **summary):
    return engines["django"].from_string(template).render({"summary": summary})


def test_the_deadline_rows_are_what_the_template_wrote():
    with translation.override("fr"), timezone.override("Europe/Paris"):
        new, former = home_deadline_rows(DEADLINES), old(DEADLINES_TEMPLATE, deadlines=DEADLINES)
    assert new == former
    assert "de 29 jours" in new and "de 1 jour<" in new and "aujourd'hui" in new and "dans 32 jours" in new
    assert "R-&lt;7&gt;" in new and "Clinique &lt;l&#x27;Étang&gt;" in new and "a=1&amp;b=2" in new
    assert "2 mars 2026, 08:00" in new and ">Sans dossier<" not in new


def test_the_waiting_rows_are_what_the_template_wrote():
    with translation.override("fr"), timezone.override("Europe/Paris"):
        new, former = home_waiting_rows(WAITING), old(WAITING_TEMPLATE, waiting=WAITING)
    assert new == former
    assert "R-&lt;1&gt;" in new and 'href="/dossiers/2/"' in new and "En retard" in new and "<td>—</td>" in new
    assert "1 jour<" in new and "22 janvier 2022" in new


def test_no_rows_no_html():
    assert home_deadline_rows([]) == "" and home_waiting_rows([]) == ""


CHIPS_TEMPLATE = """{% load i18n %}{% for value, label, count in summary.state_counts %}{% if count %}
    <li><a class="chip" href="{% url 'dossier-list' %}?state={{ value }}&amp;owner=all">{% include "dossiers/_state.html" with state=value label=label %} <strong>{{ count }}</strong></a></li>
    {% endif %}{% endfor %}"""

BLOCKED_TEMPLATE = """{% load i18n %}{% for group in summary.blocked_rules %}
    <article class="rule-group">
      <h3>{{ group.title }} <code class="rule-code">{{ group.rule }}</code></h3>
      <p><a href="{% url 'dossier-list' %}?rule={{ group.rule }}&amp;owner=all">{% blocktranslate count counter=group.count %}{{ counter }} dossier bloqué{% plural %}{{ counter }} dossiers bloqués{% endblocktranslate %}</a></p>
      <ul class="plain">
        {% for dossier in group.dossiers %}
        <li><a href="{% url 'dossier-detail' dossier.pk %}">{{ dossier.reference }}</a> — {{ dossier.client_name }}</li>
        {% endfor %}
      </ul>
    </article>
    {% endfor %}"""


def test_the_state_chips_are_what_the_template_wrote():
    from reports.views.home_rows import home_state_chips

    counts = [("draft", "Brouillon", 12), ("bdc_signed", "BDC <signé>", 0), ("deployed", "Déployé", 26332)]
    with translation.override("fr"):
        new, former = home_state_chips(counts), old(CHIPS_TEMPLATE, state_counts=counts)
    assert new == former
    assert "state--draft" in new and "bdc_signed" not in new and "?state=deployed&amp;owner=all" in new


def test_the_blocked_groups_are_what_the_template_wrote():
    from reports.queries import BlockedDossier, BlockedRule
    from reports.views.home_rows import home_blocked_groups

    groups = [BlockedRule("va_document", "Document <VA> manquant", 1234,
                          [BlockedDossier(5, "R-<5>", "Clinique <l'Étang>"), BlockedDossier(6, "#6", "EHPAD")]),
              BlockedRule("mss", "MSS", 1, [BlockedDossier(7, "R-7", "Centre")]),
              BlockedRule("empty", "Sans dossier lu", 2, [])]
    with translation.override("fr"):
        new, former = home_blocked_groups(groups), old(BLOCKED_TEMPLATE, blocked_rules=groups)
    assert new == former
    assert "1 dossier bloqué<" in new and "dossiers bloqués" in new and "Document &lt;VA&gt;" in new
    assert 'href="/dossiers/5/"' in new and "?rule=mss&amp;owner=all" in new
    assert home_blocked_groups([]) == "" and home_state_chips_empty()


def home_state_chips_empty():
    from reports.views.home_rows import home_state_chips

    return home_state_chips([("draft", "Brouillon", 0)]) == ""
