"""The home page (issue 16 point 4, issue 18): "en attente du client" apart from "bloqué par une règle", figures read
from the kept counters and equal to live counts, deadlines overdue first, in 4 queries whatever the data."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from dossiers import counters, deadlines, rules, services
from dossiers.models import Blocker, Dispositif, Dossier, PortabilityRequest, State
from reports import queries

from ..factories import ClientFactory, MembershipFactory, SolutionFactory, attach, days_ago, valid_payload, walk_to

pytestmark = pytest.mark.django_db


def stat(html: str, name: str) -> int:
    return int(re.search(rf'id="stat-{name}"><a [^>]*><span class="stat__value">(\d+)<', html).group(1))


def live(organisation, now) -> dict:
    """The home figures counted from the dossiers and their blocker rows, the reference the page must equal."""
    dossiers = Dossier.objects.filter(organisation=organisation)
    by_state = dict(dossiers.values_list("state").annotate(n=Count("id")).order_by())
    blockers = Blocker.objects.filter(dossier__organisation=organisation).exclude(
        dossier__state__in=queries.WAITING_FOR_CLIENT_STATES)
    return {
        "by_state": {value: by_state.get(value, 0) for value in State.values},
        "total": dossiers.count(),
        "waiting": dossiers.filter(state=State.DEPLOYED).count(),
        "blocked": blockers.values("dossier_id").distinct().count(),
        "rules": sorted(blockers.values_list("rule").annotate(n=Count("id")).order_by(),
                        key=lambda item: (-item[1], item[0])),
        "avance_due": dossiers.filter(
            state__in=[State.DRAFT, State.BDC_SIGNED], dispositif__avance_deadline__gte=now,
            dispositif__avance_deadline__lte=now + timedelta(days=queries.AVANCE_DEADLINE_DAYS)).count(),
    }


def shown(organisation, now) -> dict:
    home = queries.home(organisation, now=now)
    return {
        "by_state": {value: n for value, _label, n in home.state_counts}, "total": home.total,
        "waiting": home.waiting_count, "blocked": home.blocked_total,
        "rules": [(group.rule, group.count) for group in home.blocked_rules], "avance_due": home.avance_due_count,
    }


@pytest.fixture
def soon(organisation):
    """A dispositif whose avance filing deadline is in 10 days, and a solution of the organisation on it."""
    dispositif = Dispositif.objects.get(code="MDV-SAS-VA1")
    dispositif.avance_deadline = timezone.now() + timedelta(days=10)
    dispositif.save()
    return SolutionFactory(organisation=organisation, dispositif=dispositif)


# --- waiting for the client, blocked by a rule ---------------------------------------------------------------------

def test_a_deployed_dossier_waits_for_the_client_and_is_not_counted_blocked(manager_membership, as_viewer):
    deployed = walk_to(State.DEPLOYED, membership=manager_membership)      # no VA yet: va.document fails
    draft = walk_to(State.DRAFT, membership=manager_membership)            # no BDC: bdc.document fails
    assert set(Blocker.objects.values_list("dossier_id", "rule")) == {
        (deployed.pk, "va.document"), (draft.pk, "bdc.document")}
    html = as_viewer.get(reverse("home")).content.decode()
    assert stat(html, "blocked") == 1 and stat(html, "waiting") == 1
    blocked = html[html.index('id="blocked"'):html.index('id="deadlines"')]
    waiting = html[html.index('id="waiting"'):]
    assert draft.reference in blocked and "bdc.document" in blocked
    assert deployed.reference not in blocked and "va.document" not in blocked
    assert deployed.reference in waiting and "En attente du client" in waiting


def test_a_deployed_dossier_with_its_va_still_waits_and_a_draft_with_its_bdc_is_not_blocked(manager_membership):
    deployed = walk_to(State.DEPLOYED, membership=manager_membership)
    draft = walk_to(State.DRAFT, membership=manager_membership)
    attach(deployed, "va", manager_membership.user)
    attach(draft, "bdc", manager_membership.user)
    home = queries.home(manager_membership.organisation)
    assert (home.blocked_total, home.blocked_rules, home.waiting_count) == (0, [], 1)
    assert [d.pk for d in home.waiting] == [deployed.pk]


def test_a_dossier_blocked_by_two_rules_is_one_blocked_dossier(manager_membership, organisation):
    draft = walk_to(State.DRAFT, membership=manager_membership)            # bdc.document
    other = walk_to(State.DRAFT, membership=manager_membership)
    # A second failing rule on the first draft (test data: the rows the blocker refresh would write).
    Blocker.objects.create(dossier=draft, organisation=organisation, transition="sign_bdc", rule="client.identified")
    counters.rebuild(organisation)  # written past the writer: the kept counts recounted
    home = queries.home(organisation)
    assert home.blocked_total == 2
    assert [(g.rule, g.count, [d.pk for d in g.dossiers]) for g in home.blocked_rules] == [
        ("bdc.document", 2, sorted([draft.pk, other.pk], key=[draft.pk, other.pk].index)),
        ("client.identified", 1, [draft.pk])]


def test_the_client_steps_are_the_next_steps_of_the_states_waiting_for_the_client():
    # The kept blocked counts and the home page's index tell the waiting dossiers apart by the step their blocker
    # rows block: those steps must be exactly the waiting states' next steps, and no other state's.
    waiting = {rules.NEXT_STEP[state] for state in queries.WAITING_FOR_CLIENT_STATES}
    others = {step for state, step in rules.NEXT_STEP.items() if state not in queries.WAITING_FOR_CLIENT_STATES}
    assert set(Blocker.CLIENT_STEPS) == waiting and not waiting & others


def test_each_rule_lists_its_oldest_blocked_dossiers_up_to_the_cap(manager_membership, organisation,
                                                                   django_assert_num_queries):
    drafts = [walk_to(State.DRAFT, membership=manager_membership) for _ in range(queries.BLOCKED_ROWS_PER_RULE + 2)]
    walk_to(State.DEPLOYED, membership=manager_membership)               # va.document: waiting, not listed
    with django_assert_num_queries(4):
        home = queries.home(organisation)
    assert [(g.rule, g.count) for g in home.blocked_rules] == [("bdc.document", len(drafts))]
    listed = home.blocked_rules[0].dossiers
    assert [d.pk for d in listed] == [d.pk for d in drafts[:queries.BLOCKED_ROWS_PER_RULE]]
    assert (listed[0].reference, listed[0].client_name) == (drafts[0].reference, drafts[0].client.name)
    # Its BDC attached through the writer, the first draft leaves the rule at the next read.
    attach(drafts[0], "bdc", manager_membership.user)
    home = queries.home(organisation)
    assert home.blocked_rules[0].count == len(drafts) - 1 and home.blocked_total == len(drafts) - 1
    assert [d.pk for d in home.blocked_rules[0].dossiers] == [d.pk for d in drafts[1:queries.BLOCKED_ROWS_PER_RULE + 1]]


# --- kept counters equal live counts ------------------------------------------------------------------------------

def test_the_home_figures_equal_live_counts_after_a_sequence_of_transitions(manager_membership, organisation, soon):
    user = manager_membership.user
    now = timezone.now()
    dossiers = [walk_to(State.DRAFT, membership=manager_membership, solution=soon) for _ in range(3)]
    dossiers.append(walk_to(State.AVANCE_PAID, membership=manager_membership))
    assert shown(organisation, now) == live(organisation, now)
    steps = [
        (dossiers[0], "attach", "bdc"), (dossiers[0], "sign_bdc", None),
        (dossiers[3], "mark_deployed", None),
        (dossiers[3], "attach", "va"), (dossiers[3], "sign_va", None),
        (dossiers[1], "attach", "bdc"), (dossiers[1], "sign_bdc", None),
        (dossiers[1], "attach", "honour_statement"), (dossiers[1], "request_cancellation", None),
        (dossiers[1], "confirm_cancellation", None),
    ]
    for dossier, name, kind in steps:
        if name == "attach":
            attach(dossier, kind, user)
        else:
            services.run_transition(dossier.pk, name, by=user, data=valid_payload(name, dossier))
        dossier.refresh_from_db()
        assert shown(organisation, now) == live(organisation, now), (name, dossier.state)
    figures = shown(organisation, now)
    # The sequence did move every figure away from zero at some point and ends where it should.
    assert figures["by_state"][State.CANCELLED] == 1 and figures["by_state"][State.VA_SIGNED] == 1
    # Blocked: the last draft (no BDC) and the signed VA (no PV pilote, no invoice); no VA awaited any more.
    assert (figures["blocked"], figures["avance_due"], figures["waiting"]) == (2, 2, 0)


def test_the_home_links_list_as_many_dossiers_as_the_figures_count(manager_membership, organisation, as_manager):
    colleague = MembershipFactory(organisation=organisation, role="manager")
    mine = walk_to(State.DRAFT, membership=manager_membership)        # the manager's own (its creator)
    walk_to(State.DRAFT, membership=colleague)                        # a colleague's: « Mes dossiers » leaves it out
    walk_to(State.DEPLOYED, membership=colleague)
    html = as_manager.get(reverse("home")).content.decode().replace("&amp;", "&")
    rule_link = re.search(r'href="(/dossiers/\?rule=bdc\.document[^"]*)"', html).group(1)
    state_link = re.search(r'href="(/dossiers/\?state=draft[^"]*)"', html).group(1)
    for link, expected in ((rule_link, 2), (state_link, 2)):
        listed = as_manager.get(link).context["page"].paginator.count
        assert listed == expected, link
    assert as_manager.get(reverse("dossier-list")).context["page"].paginator.count == 1   # by default, hers
    mine.refresh_from_db()
    assert mine.owner_id == manager_membership.pk


# --- deadlines ----------------------------------------------------------------------------------------------------

def test_deadlines_overdue_first_in_red_with_the_avance_filing_deadline(manager_membership, organisation, soon,
                                                                        as_viewer):
    passed = Dispositif.objects.get(code="HOP-PFI-VA2")
    passed.avance_deadline = timezone.now() - timedelta(days=3)
    passed.save()
    late = walk_to(State.DRAFT, membership=manager_membership,
                   solution=SolutionFactory(organisation=organisation, dispositif=passed))
    upcoming = walk_to(State.DRAFT, membership=manager_membership, solution=soon)
    home = queries.home(organisation)
    assert [(d["dossier"], d["kind"], d["overdue"]) for d in home.deadlines] == [
        (late.pk, "avance_filing", True), (upcoming.pk, "avance_filing", False)]
    html = as_viewer.get(reverse("home")).content.decode()
    section = html[html.index('id="deadlines"'):html.index('id="waiting"')]
    rows = re.findall(r'<tr class="deadline deadline--avance_filing( row--overdue)?">(.*?)</tr>', section, re.S)
    assert [(bool(red), late.reference in row, "En retard" in row) for red, row in rows] == [
        (True, True, True), (False, False, False)]
    assert "dans 10 jours" in rows[1][1] or "dans 9 jours" in rows[1][1]


def test_no_deadline_is_listed_when_none_is_overdue_or_near(manager_membership, as_viewer):
    walk_to(State.AVANCE_PAID, membership=manager_membership)   # MDV-LGC-VA1 has no avance deadline
    html = as_viewer.get(reverse("home")).content.decode()
    assert "Aucune échéance en retard ni dans les 30 prochains jours." in html
    assert "row--overdue" not in html


def test_only_the_first_rows_are_listed_with_a_link_to_every_deadline(manager_membership, organisation, soon,
                                                                      as_viewer):
    for _ in range(queries.HOME_ROWS + 1):
        walk_to(State.DRAFT, membership=manager_membership, solution=soon)
    home = queries.home(organisation)
    assert len(home.deadlines) == queries.HOME_ROWS and home.more_deadlines
    assert f'href="{reverse("deadlines")}"' in as_viewer.get(reverse("home")).content.decode()


def test_a_deadline_about_a_client_links_to_its_page(organisation, manager_membership, as_viewer):
    client = ClientFactory(organisation=organisation)
    PortabilityRequest.objects.create(client=client, requested_on=days_ago(20))   # due 15 days after: overdue
    deadlines.rebuild(organisation)  # created past the writer (dossiers.followups keeps it)
    html = as_viewer.get(reverse("home")).content.decode()
    section = html[html.index('id="deadlines"'):html.index('id="waiting"')]
    assert f'href="{reverse("client-edit", args=[client.pk])}#portabilite"' in section
    assert "row--overdue" in section and "En retard" in section


# --- isolation, methods, queries ------------------------------------------------------------------------------------

def test_another_organisations_dossiers_and_deadlines_are_absent(manager_membership, outsider_membership, soon,
                                                                 as_outsider):
    mine = [walk_to(State.DEPLOYED, membership=manager_membership),
            walk_to(State.DRAFT, membership=manager_membership, solution=soon)]
    html = as_outsider.get(reverse("home")).content.decode()
    assert all(d.reference not in html for d in mine)
    assert (stat(html, "blocked"), stat(html, "waiting"), stat(html, "avance")) == (0, 0, 0)


def test_the_home_page_reads_only(as_manager):
    assert as_manager.post(reverse("home")).status_code == 405


def test_the_home_answers_in_4_queries_whatever_the_number_of_dossiers(manager_membership, organisation, soon,
                                                                       django_assert_num_queries):
    def grow(n):
        for _ in range(n):
            walk_to(State.DRAFT, membership=manager_membership, solution=soon)
            walk_to(State.DEPLOYED, membership=manager_membership)

    grow(1)
    with django_assert_num_queries(4):
        small = queries.home(organisation)
    grow(4)
    with django_assert_num_queries(4):
        large = queries.home(organisation)
    # Each draft has its avance filing deadline in 10 days, each deployed dossier its VA overdue since 2024.
    assert (small.blocked_total, small.waiting_count, len(small.deadlines)) == (1, 1, 2)
    assert (large.blocked_total, large.waiting_count, len(large.deadlines)) == (5, 5, queries.HOME_ROWS)


def test_the_home_page_answers_in_6_queries_session_and_membership_included(manager_membership, soon, as_viewer,
                                                                           django_assert_num_queries):
    walk_to(State.DRAFT, membership=manager_membership, solution=soon)
    walk_to(State.DEPLOYED, membership=manager_membership)
    with django_assert_num_queries(6):   # 2 for the session, the user with the membership, 4 for the figures
        response = as_viewer.get(reverse("home"))
    assert response.status_code == 200
