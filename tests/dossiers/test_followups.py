"""Portability requests and solution changes through the service, with their deadlines (DOMAIN.md §6, §8)."""
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from dossiers import followups
from reports import deadlines as dl
from dossiers.models import Dispositif, PortabilityRequest, SolutionChange, State
from segurtrack.errors import InvalidInput, NotPermitted

from ..factories import ClientFactory, SolutionFactory, walk_to

pytestmark = pytest.mark.django_db


def kinds_of(organisation) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for deadline in dl.deadlines_for(organisation):
        grouped.setdefault(deadline["kind"], []).append(deadline)
    return grouped


def test_a_portability_request_is_due_in_15_calendar_days_and_listed_until_fulfilled(manager, organisation):
    client = ClientFactory(organisation=organisation)
    request = followups.save_portability_request(client, by=manager, changes={
        "requested_on": date(2025, 12, 19), "channel": "customer_space", "notes": "Export complet"})
    assert (request.due_on, request.channel, request.client) == (date(2026, 1, 3), "customer_space", client)
    listed, = kinds_of(organisation)[dl.Kind.PORTABILITY]
    assert (listed["due"], listed["object_id"], listed["client_id"]) == (date(2026, 1, 3), request.pk, client.pk)
    followups.save_portability_request(client, by=manager, request=request, changes={"fulfilled_on": date(2025, 12, 30)})
    assert dl.Kind.PORTABILITY not in kinds_of(organisation)


def test_a_viewer_may_not_record_a_portability_request(viewer_membership, organisation):
    client = ClientFactory(organisation=organisation)
    with pytest.raises(NotPermitted):
        followups.save_portability_request(client, by=viewer_membership.user, changes={
            "requested_on": date(2025, 12, 19), "channel": "written"})
    assert not PortabilityRequest.objects.exists()


@pytest.mark.parametrize(("changes", "field"), [
    ({"requested_on": date(2025, 12, 19), "channel": "fax"}, "channel"),
    ({"channel": "written"}, "requested_on"),
    ({"requested_on": date(2025, 12, 19), "channel": "written", "fulfilled_on": date(2025, 12, 18)}, "fulfilled_on"),
    ({"requested_on": date(2025, 12, 19), "channel": "written", "client": 3}, "client"),
])
def test_bad_portability_input_is_refused_naming_the_field(manager, organisation, changes, field):
    client = ClientFactory(organisation=organisation)
    with pytest.raises(InvalidInput) as refused:
        followups.save_portability_request(client, by=manager, changes=changes)
    assert field in refused.value.errors
    assert not PortabilityRequest.objects.exists()


def test_a_change_affecting_conformity_awaits_its_ans_notice_then_the_new_referencing(manager, organisation):
    solution = SolutionFactory(organisation=organisation)
    change = followups.save_solution_change(solution, by=manager, changes={
        "changed_on": date(2025, 12, 1), "description": "Nouveau module de prescription", "affects_conformity": True})
    assert (change.ans_notice_due_on, change.rereferencing_due_on) == (date(2025, 12, 16), None)
    notice, = kinds_of(organisation)[dl.Kind.ANS_NOTICE]
    assert (notice["due"], notice["object_id"], notice["solution_id"]) == (date(2025, 12, 16), change.pk, solution.pk)
    followups.save_solution_change(solution, by=manager, change=change, changes={
        "ans_notified_on": date(2025, 12, 10), "rereferencing_requested_on": date(2026, 1, 31)})
    kinds = kinds_of(organisation)
    assert dl.Kind.ANS_NOTICE not in kinds
    assert kinds[dl.Kind.REREFERENCING][0]["due"] == date(2026, 2, 28) == change.rereferencing_due_on
    followups.save_solution_change(solution, by=manager, change=change, changes={"rereferencing_filed_on": date(2026, 2, 20)})
    assert not kinds_of(organisation)


def test_a_change_not_affecting_conformity_has_no_deadline(manager, organisation):
    solution = SolutionFactory(organisation=organisation)
    change = followups.save_solution_change(solution, by=manager, changes={
        "changed_on": date(2025, 12, 1), "description": "Couleurs", "affects_conformity": False})
    assert change.ans_notice_due_on is None and not kinds_of(organisation)


@pytest.mark.parametrize(("changes", "field"), [
    ({"changed_on": date(2025, 12, 1), "description": "  ", "affects_conformity": True}, "description"),
    ({"description": "Module", "affects_conformity": True}, "changed_on"),
    ({"changed_on": date(2025, 12, 1), "description": "Module", "affects_conformity": True,
      "ans_notified_on": date(2025, 11, 30)}, "ans_notified_on"),
    ({"changed_on": date(2025, 12, 1), "description": "Module", "affects_conformity": True,
      "rereferencing_filed_on": date(2026, 1, 5)}, "rereferencing_filed_on"),
    ({"changed_on": date(2025, 12, 1), "description": "Module", "affects_conformity": True,
      "rereferencing_requested_on": date(2026, 1, 5), "rereferencing_filed_on": date(2026, 1, 4)},
     "rereferencing_filed_on"),
])
def test_bad_solution_change_input_is_refused_naming_the_field(manager, organisation, changes, field):
    solution = SolutionFactory(organisation=organisation)
    with pytest.raises(InvalidInput) as refused:
        followups.save_solution_change(solution, by=manager, changes=changes)
    assert field in refused.value.errors
    assert not SolutionChange.objects.exists()


def test_a_viewer_may_not_record_a_solution_change(viewer_membership, organisation):
    solution = SolutionFactory(organisation=organisation)
    with pytest.raises(NotPermitted):
        followups.save_solution_change(solution, by=viewer_membership.user, changes={
            "changed_on": date(2025, 12, 1), "description": "Module", "affects_conformity": True})
    assert not SolutionChange.objects.exists()


@pytest.mark.parametrize(("state", "reminded"), [(State.AVANCE_TO_FIX, True), (State.BDC_SIGNED, True),
                                                 (State.AVANCE_FILED, False)])
def test_the_avance_deadline_is_reminded_until_filed_including_a_dossier_sent_back_for_correction(
        manager_membership, state, reminded):
    deadline = timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=7), time(12)))
    dispositif = Dispositif.objects.create(code="TEST-AV-7", label="Test", couloir_id="hopital", vague=2,
                                           avance_deadline=deadline)
    solution = SolutionFactory(organisation=manager_membership.organisation, dispositif=dispositif)
    dossier = walk_to(state, membership=manager_membership, solution=solution)
    reminders = [(d["kind"], d["dossier"]) for d in dl.reminders_for(dossier.organisation)]
    assert ((dl.Kind.AVANCE_FILING, dossier.pk) in reminders) is reminded
