"""Reports and deadlines answer in a fixed number of queries, whatever the number of dossiers."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports import deadlines as dl, digests
from dossiers import deadlines
from dossiers.models import Blocker, PortabilityRequest, SolutionChange, State

from ..factories import SolutionFactory, days_ago
from .conftest import bulk_dossiers, url


def populate(membership, n: int) -> None:
    """n dossiers of each kind that makes a deadline, plus client and solution follow-ups."""
    organisation = membership.organisation
    deployed = bulk_dossiers(membership, n, deployed_on=days_ago(45))
    bulk_dossiers(membership, n, state=State.SOLDE_TO_FIX, solde_fix_requested_on=days_ago(1), va_signed_on=days_ago(9),
                  maintenance_contract=True)
    recovering = bulk_dossiers(membership, n, state=State.RECOVERY_ISSUED, recovery_issued_on=days_ago(3))
    solution = SolutionFactory(organisation=organisation)
    PortabilityRequest.objects.bulk_create([PortabilityRequest(client=d.client, requested_on=days_ago(2))
                                            for d in recovering])
    SolutionChange.objects.bulk_create([SolutionChange(solution=solution, changed_on=days_ago(i), description="m",
                                                       affects_conformity=True) for i in range(n)])
    Blocker.objects.bulk_create([Blocker(dossier=d, organisation_id=d.organisation_id, transition="sign_va",
                                         rule="va.document") for d in deployed])
    deadlines.rebuild(organisation)  # the follow-ups were bulk-loaded past the writers


@pytest.fixture(autouse=True)
def _token_already_used(api):
    # The first request of a token records its use (one UPDATE): make it before anything is measured.
    api.get(url("pipeline"))


def count_queries(action) -> int:
    with CaptureQueriesContext(connection) as captured:
        action()
    return len(captured.captured_queries)


def test_the_pending_va_report_costs_the_same_for_3_or_30_dossiers(api, manager_membership, django_assert_max_num_queries):
    populate(manager_membership, 3)
    few = count_queries(lambda: api.get(url("pending-va")))
    populate(manager_membership, 27)
    many = count_queries(lambda: api.get(url("pending-va")))
    assert api.get(url("pending-va")).json()["total"] == 30
    assert few == many
    with django_assert_max_num_queries(8):  # auth (2) + summary (2) + count + page
        api.get(url("pending-va"))


def test_the_deadline_list_costs_the_same_for_3_or_30_dossiers(api, manager_membership, django_assert_max_num_queries):
    populate(manager_membership, 3)
    few = count_queries(lambda: api.get(url("deadlines")))
    populate(manager_membership, 27)
    many = count_queries(lambda: api.get(url("deadlines")))
    assert api.get(url("deadlines")).json()["count"] == 30 * 6  # 5 kinds per unit plus 1 maintenance each
    assert few == many
    with django_assert_max_num_queries(6):  # auth (2) + count + page
        api.get(url("deadlines"))


def test_deadlines_for_is_one_query(manager_membership, django_assert_num_queries):
    populate(manager_membership, 5)
    with django_assert_num_queries(1):
        deadlines = dl.deadlines_for(manager_membership.organisation)
    assert len(deadlines) == 5 * 6


def test_the_pipeline_and_the_exports_cost_the_same_for_3_or_30_dossiers(api, manager_membership,
                                                                          django_assert_max_num_queries):
    populate(manager_membership, 3)
    few = [count_queries(lambda: api.get(url("pipeline"))),
           count_queries(lambda: b"".join(api.get(url("pending-va-export", "csv")).streaming_content))]
    populate(manager_membership, 27)
    many = [count_queries(lambda: api.get(url("pipeline"))),
            count_queries(lambda: b"".join(api.get(url("pending-va-export", "csv")).streaming_content))]
    assert few == many
    with django_assert_max_num_queries(4):  # auth (2) + one grouped query
        api.get(url("pipeline"))


def test_the_digest_is_built_in_a_fixed_number_of_queries(manager_membership, django_assert_max_num_queries):
    populate(manager_membership, 3)
    few = count_queries(lambda: digests.build_digest(manager_membership.organisation, days_ago(0)))
    populate(manager_membership, 27)
    many = count_queries(lambda: digests.build_digest(manager_membership.organisation, days_ago(0)))
    assert few == many
    with django_assert_max_num_queries(4):
        digest = digests.build_digest(manager_membership.organisation, days_ago(0))
    assert digest.overdue_va_count == 30 and digest.blockers == [
        {"rule": "va.document", "count": 30, "references": digest.blockers[0]["references"]}]
    assert len(digest.blockers[0]["references"]) == 3
