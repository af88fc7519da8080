"""Query budgets: a dossier's detail and checklist cost the same whatever it holds; a list page costs the same
whatever its length."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dossiers import services
from dossiers.models import State

from ..factories import PvPiloteFactory, attach, walk_to
from .conftest import url

pytestmark = pytest.mark.django_db
BUDGET = 10


def queries(api, address: str) -> int:
    api.get(address)  # the token's first use updates its last_used_at: not part of the steady cost
    with CaptureQueriesContext(connection) as captured:
        response = api.get(address)
    assert response.status_code == 200, response.content
    return len(captured)


def dossier_holding(membership, documents: int, changes: int):
    dossier = walk_to(State.VA_SIGNED, membership=membership)
    PvPiloteFactory(solution=dossier.solution)
    for n in range(documents):
        attach(dossier, "other", membership.user, name=f"piece-{n}.pdf")
    for n in range(changes):
        # The VA fixed the scenario: the installed version still changes, each change a history row.
        services.update_dossier(dossier.pk, by=membership.user, changes={"installed_version": f"5.{n}"})
    return dossier


@pytest.mark.slow
@pytest.mark.parametrize("route", ["dossier-detail", "dossier-checklist", "dossier-history", "document-list"])
def test_a_dossier_route_costs_the_same_with_thirty_documents_and_fifty_changes(route, api, manager_membership,
                                                                               django_assert_max_num_queries):
    small = dossier_holding(manager_membership, documents=1, changes=1)
    large = dossier_holding(manager_membership, documents=30, changes=50)
    assert large.history.count() > 80
    cost = queries(api, url(route, small.pk))
    assert queries(api, url(route, large.pk)) == cost
    with django_assert_max_num_queries(BUDGET):
        api.get(url(route, large.pk))


def test_the_dossier_list_costs_the_same_for_one_row_or_forty(api, manager_membership):
    walk_to(State.DEPLOYED, membership=manager_membership)
    one = queries(api, url("dossier-list"))
    for _ in range(39):
        walk_to(State.DRAFT, membership=manager_membership)
    assert queries(api, url("dossier-list")) == one <= BUDGET
