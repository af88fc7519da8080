"""The list's rows, written in Python (dossiers/views/list_rows.py), are the HTML the row template wrote: the same
markup for a dossier with an owner and blockers and one with neither, every value escaped, and the bulk checkbox
only for members who may act."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Prefetch
from django.template import engines
from django.urls import reverse
from django.utils import timezone, translation

from dossiers import queries
from dossiers.models import Blocker, Dossier
from dossiers.rules import CATALOGUE
from organisations.models import Role
from dossiers.views.list_rows import list_rows
from segurtrack.reversing import url_maker

from ..factories import ClientFactory, SolutionFactory

pytestmark = pytest.mark.django_db

# The row as templates/dossiers/list.html wrote it before the rows were written in Python.
ROW_TEMPLATE = """{% load i18n rule_labels %}{% for dossier in page %}
    <tr>
      {% if can_act %}<td><input type="checkbox" form="bulk-form" name="dossier" value="{{ dossier.pk }}" id="select-{{ dossier.pk }}" aria-label="{% blocktranslate with reference=dossier.reference %}Sélectionner {{ reference }}{% endblocktranslate %}"></td>{% endif %}
      <th scope="row"><a href="{% url 'dossier-detail' dossier.pk %}">{{ dossier.reference }}</a></th>
      <td>{{ dossier.client.name }}<br><span class="muted mono">{{ dossier.client.site_identifier|default:"—" }}</span></td>
      <td>{{ dossier.solution.name }} {{ dossier.solution.version }}<br><span class="muted">{{ dossier.dispositif.code }} · {{ dossier.dispositif.couloir.label }}</span></td>
      <td>{% include "dossiers/_state.html" with state=dossier.state label=dossier.get_state_display %}</td>
      <td>{% if dossier.owner %}{{ dossier.owner.user.get_full_name|default:dossier.owner.user.get_username }}{% else %}<span class="muted">—</span>{% endif %}</td>
      <td>{% for blocker in dossier.blocker_rows %}<span class="blocker-title">{{ blocker.rule|rule_title }} <code class="rule-code">{{ blocker.rule }}</code></span>{% if not forloop.last %}<br>{% endif %}{% empty %}<span class="muted">—</span>{% endfor %}</td>
      <td>{{ dossier.updated_at|date:"j F Y" }}</td>
    </tr>{% endfor %}"""


def old_rows(dossiers, can_act: bool) -> str:
    """What the template wrote, without its indentation's first line break and trailing spaces of `{% if %}`."""
    return engines["django"].from_string(ROW_TEMPLATE).render({"page": dossiers, "can_act": can_act})


@pytest.fixture
def page(organisation, manager_membership):
    solution = SolutionFactory(organisation=organisation, name="Logi<ciel> & \"Co\"", version="2.1")
    owned = Dossier.objects.create(
        organisation=organisation, solution=solution, dispositif_id=solution.dispositif_id, owner=manager_membership,
        client=ClientFactory(organisation=organisation, name="Clinique <l'Étang>"), reference="R-<1>")
    Dossier.objects.create(  # no owner, no blocker
        organisation=organisation, solution=solution, dispositif_id=solution.dispositif_id,
        client=ClientFactory(organisation=organisation, name="EHPAD Les Pins"), reference="R-2")
    codes = sorted(CATALOGUE)[:2]
    Blocker.objects.bulk_create([Blocker(dossier=owned, organisation_id=owned.organisation_id, transition="file_avance",
                                         rule=code) for code in codes])
    # 23:30 in Paris on the 31st is the 1st of the next month in UTC: the day shown is Paris's.
    Dossier.objects.filter(pk=owned.pk).update(
        updated_at=datetime(2026, 1, 31, 23, 30, tzinfo=ZoneInfo("Europe/Paris")))
    manager_membership.user.first_name, manager_membership.user.last_name = "Manon", "<Durand>"
    manager_membership.user.save()
    return list(queries.dossier_list(organisation.pk)), codes


@pytest.mark.parametrize("can_act", [True, False])
def test_the_rows_are_what_the_row_template_wrote(page, can_act):
    dossiers, codes = page
    with translation.override("fr"), timezone.override("Europe/Paris"):
        members = queries.members_of(dossiers[0].organisation_id, assignable=True)
        new = list_rows(dossiers, selectable=can_act, members=members)
        old = old_rows(queries.dossier_list(dossiers[0].organisation_id).select_related("owner__user")
                       .prefetch_related(Prefetch("blockers", queryset=Blocker.objects.order_by("rule"),
                                                  to_attr="blocker_rows")), can_act)
    assert new == old
    assert ("Sélectionner R-&lt;1&gt;" in new) is can_act and ('name="dossier"' in new) is can_act
    assert "Clinique &lt;l&#x27;Étang&gt;" in new and "Logi&lt;ciel&gt; &amp; &quot;Co&quot; 2.1" in new
    assert "Manon &lt;Durand&gt;" in new and "31 janvier 2026" in new
    assert all(f'<code class="rule-code">{code}</code>' in new for code in codes)
    assert new.count('<span class="muted">—</span>') == 2        # the second dossier: no owner, no blocker


def test_one_reverse_gives_every_rows_url():
    url = url_maker("dossier-detail")
    assert [url(pk) for pk in (1, 42, 2_147_483_647)] == [reverse("dossier-detail", args=[pk])
                                                          for pk in (1, 42, 2_147_483_647)]


def test_the_list_page_shows_the_rows(page, as_manager, as_viewer):
    dossiers, _codes = page
    shown = as_manager.get(reverse("dossier-list"), {"owner": "all"}).content.decode()
    assert 'id="select-' in shown and "Clinique &lt;l&#x27;Étang&gt;" in shown
    assert reverse("dossier-detail", args=[dossiers[0].pk]) in shown
    assert 'id="select-' not in as_viewer.get(reverse("dossier-list"), {"owner": "all"}).content.decode()


def test_an_owner_no_longer_assignable_is_named_by_one_more_query(page, manager_membership, admin_membership,
                                                                   django_assert_num_queries):
    """The list names owners from the assignable members it read for its filter; a manager since made viewer
    still owns the dossier: their name is read then, by one query for the page, not one per row."""
    dossiers, _codes = page
    members = queries.members_of(manager_membership.organisation_id, assignable=True)
    with django_assert_num_queries(1):       # the page's blocking rules
        assert "Manon &lt;Durand&gt;" in list_rows(dossiers, selectable=False, members=members)
    manager_membership.role = Role.VIEWER
    manager_membership.save()
    members = queries.members_of(manager_membership.organisation_id, assignable=True)
    assert manager_membership.pk not in [m.pk for m in members]
    with django_assert_num_queries(2):
        assert "Manon &lt;Durand&gt;" in list_rows(dossiers, selectable=False, members=members)
