"""API v1 additions: portability requests and solution changes (API.md "Portability requests and solution
changes"), with their deadlines; isolation and the viewer's 403 are also swept by test_isolation."""
import pytest
from django.urls import reverse

from dossiers.models import PortabilityRequest, SolutionChange

from ..factories import ClientFactory, SolutionFactory
from .conftest import url

pytestmark = pytest.mark.django_db


def deadlines(api) -> list[dict]:
    return api.get(reverse("reports:deadlines")).json()["results"]


def test_a_portability_request_is_recorded_listed_fulfilled_and_leaves_the_deadlines(api, organisation):
    client = ClientFactory(organisation=organisation)
    created = api.post(url("portability-request-list", client.pk),
                       {"requested_on": "2025-12-19", "channel": "in_software"}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body == {**body, "requested_on": "2025-12-19", "channel": "in_software", "fulfilled_on": None,
                    "due_on": "2026-01-03", "client": client.pk}
    listed = api.get(url("portability-request-list", client.pk)).json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == body["id"]
    assert [(d["kind"], d["due"], d["object_id"]) for d in deadlines(api)] == [("portability", "2026-01-03", body["id"])]
    patched = api.patch(url("portability-request-detail", client.pk, body["id"]), {"fulfilled_on": "2025-12-29"},
                        format="json")
    assert patched.status_code == 200 and patched.json()["fulfilled_on"] == "2025-12-29"
    assert api.get(url("portability-request-detail", client.pk, body["id"])).json()["fulfilled_on"] == "2025-12-29"
    assert deadlines(api) == []


@pytest.mark.parametrize(("body", "field"), [
    ({"requested_on": "2025-12-19"}, "channel"),
    ({"requested_on": "2025-12-19", "channel": "fax"}, "channel"),
    ({"requested_on": "19/12/2025", "channel": "written"}, "requested_on"),
    ({"requested_on": "2025-12-19", "channel": "written", "fulfilled_on": "2025-12-01"}, "fulfilled_on"),
    ({"requested_on": "2025-12-19", "channel": "written", "due_on": "2026-01-10"}, "due_on"),
    ({"requested_on": "2025-12-19", "channel": 3}, "channel"),
])
def test_bad_portability_input_is_a_400_naming_the_field_and_nothing_is_saved(api, organisation, body, field):
    client = ClientFactory(organisation=organisation)
    response = api.post(url("portability-request-list", client.pk), body, format="json")
    assert response.status_code == 400 and field in response.json()["errors"], response.json()
    assert not PortabilityRequest.objects.exists()


def test_a_bad_patch_is_a_400_and_changes_nothing(api, organisation):
    client = ClientFactory(organisation=organisation)
    request = PortabilityRequest.objects.create(client=client, requested_on="2025-12-19")
    response = api.patch(url("portability-request-detail", client.pk, request.pk), {"fulfilled_on": "2025-12-01"},
                         format="json")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["fulfilled_on"]
    request.refresh_from_db()
    assert request.fulfilled_on is None


def test_a_request_is_found_only_under_its_own_client(api, organisation):
    client, other = ClientFactory(organisation=organisation), ClientFactory(organisation=organisation)
    request = PortabilityRequest.objects.create(client=client, requested_on="2025-12-19")
    assert api.get(url("portability-request-detail", other.pk, request.pk)).status_code == 404
    assert api.patch(url("portability-request-detail", other.pk, request.pk), {"notes": "x"},
                     format="json").status_code == 404


def test_a_viewer_reads_but_may_not_write_and_another_organisation_gets_404(viewer_api, outsider_api, organisation):
    client = ClientFactory(organisation=organisation)
    body = {"requested_on": "2025-12-19", "channel": "written"}
    assert viewer_api.get(url("portability-request-list", client.pk)).status_code == 200
    assert viewer_api.post(url("portability-request-list", client.pk), body, format="json").status_code == 403
    assert outsider_api.post(url("portability-request-list", client.pk), body, format="json").status_code == 404
    assert outsider_api.get(url("portability-request-list", client.pk)).status_code == 404
    assert not PortabilityRequest.objects.exists()


def test_a_solution_change_shows_its_due_dates_and_stays_in_the_deadlines_while_open(api, organisation):
    solution = SolutionFactory(organisation=organisation)
    created = api.post(url("solution-change-list", solution.pk), {
        "changed_on": "2025-12-01", "description": "Nouveau module", "affects_conformity": True}, format="json")
    assert created.status_code == 201, created.json()
    change = created.json()
    assert change == {**change, "ans_notice_due_on": "2025-12-16", "ans_notified_on": None,
                      "rereferencing_due_on": None, "solution": solution.pk}
    assert [(d["kind"], d["due"]) for d in deadlines(api)] == [("ans_notice", "2025-12-16")]
    address = url("solution-change-detail", solution.pk, change["id"])
    patched = api.patch(address, {"ans_notified_on": "2025-12-12", "rereferencing_requested_on": "2026-01-31"},
                        format="json").json()
    assert (patched["rereferencing_due_on"], patched["ans_notice_due_on"]) == ("2026-02-28", "2025-12-16")
    assert [(d["kind"], d["due"]) for d in deadlines(api)] == [("rereferencing", "2026-02-28")]
    assert api.patch(address, {"rereferencing_filed_on": "2026-02-27"}, format="json").status_code == 200
    assert deadlines(api) == []
    assert api.get(url("solution-change-list", solution.pk)).json()["count"] == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"changed_on": "2025-12-01", "description": "Module"}, "affects_conformity"),
    ({"changed_on": "2025-12-01", "description": "Module", "affects_conformity": "yes"}, "affects_conformity"),
    ({"changed_on": "2025-12-01", "description": "", "affects_conformity": True}, "description"),
    ({"changed_on": "2025-12-01", "description": "Module", "affects_conformity": True,
      "rereferencing_filed_on": "2026-01-10"}, "rereferencing_filed_on"),
    ({"changed_on": "2025-13-01", "description": "Module", "affects_conformity": True}, "changed_on"),
])
def test_bad_solution_change_input_is_a_400_and_nothing_is_saved(api, organisation, body, field):
    solution = SolutionFactory(organisation=organisation)
    response = api.post(url("solution-change-list", solution.pk), body, format="json")
    assert response.status_code == 400 and field in response.json()["errors"], response.json()
    assert not SolutionChange.objects.exists()


def test_solution_changes_are_refused_to_a_viewer_and_hidden_from_another_organisation(viewer_api, outsider_api,
                                                                                         organisation):
    solution = SolutionFactory(organisation=organisation)
    change = SolutionChange.objects.create(solution=solution, changed_on="2025-12-01", description="Module",
                                           affects_conformity=True)
    address = url("solution-change-detail", solution.pk, change.pk)
    assert viewer_api.patch(address, {"ans_notified_on": "2025-12-05"}, format="json").status_code == 403
    assert outsider_api.patch(address, {"ans_notified_on": "2025-12-05"}, format="json").status_code == 404
    assert outsider_api.get(address).status_code == 404
    change.refresh_from_db()
    assert change.ans_notified_on is None


def test_the_lists_answer_in_a_constant_number_of_queries(api, manager, organisation, django_assert_max_num_queries):
    from datetime import date

    from dossiers import followups, services

    client, solution = ClientFactory(organisation=organisation), SolutionFactory(organisation=organisation)
    addresses = [url("portability-request-list", client.pk), url("solution-change-list", solution.pk),
                 url("client-history", client.pk), url("solution-history", solution.pk)]

    def grow(n: int) -> None:
        while client.portability_requests.count() < n:
            followups.save_portability_request(client, by=manager, changes={
                "requested_on": date(2025, 12, 1), "channel": "written"})
            client.name = f"{client.name}+"
            services.save_client(client, by=manager)
        while solution.changes.count() < n:
            followups.save_solution_change(solution, by=manager, changes={
                "changed_on": date(2025, 12, 1), "description": "Module", "affects_conformity": True})
            solution.version = f"{solution.version}.1"
            services.save_solution(solution, by=manager)

    grow(2)
    api.get(addresses[0])  # the session and the membership, once
    for address in addresses:
        with django_assert_max_num_queries(6):
            assert api.get(address).json()["count"] == 2
    grow(20)
    for address in addresses:
        with django_assert_max_num_queries(6):
            assert api.get(address).json()["count"] == 20


def test_the_api_lists_the_avance_deadline_of_a_dossier_sent_back_for_correction(api, manager_membership):
    from datetime import datetime, time, timedelta

    from django.utils import timezone

    from dossiers.models import Dispositif, State

    from ..factories import walk_to

    deadline = timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=30), time(12)))
    dispositif = Dispositif.objects.create(code="TEST-AV-30", label="Test", couloir_id="hopital", vague=2,
                                           avance_deadline=deadline)
    solution = SolutionFactory(organisation=manager_membership.organisation, dispositif=dispositif)
    to_fix = walk_to(State.AVANCE_TO_FIX, membership=manager_membership, solution=solution)
    filed = walk_to(State.AVANCE_FILED, membership=manager_membership, solution=solution)
    listed = {(d["kind"], d["dossier"]) for d in deadlines(api)}
    assert ("avance_filing", to_fix.pk) in listed and ("avance_to_fix", to_fix.pk) in listed
    assert not {kind for kind, dossier in listed if dossier == filed.pk}
