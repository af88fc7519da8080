"""`dossiers.queries`: one scope (`dossiers_of`) and one filter (`filter_dossiers`) for the list page, the API and
the dossier-list export."""
import pytest
from django.urls import reverse

from dossiers.models import Blocker, Dispositif, Dossier, State
from dossiers.queries import dossier_list, dossiers_of, filter_dossiers
from reports.generators import DossierListReport

from ..factories import SolutionFactory
from ..reports.conftest import bulk_dossiers

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(manager_membership, outsider_membership):
    """Three dossiers of the organisation (two solutions, two states, one blocked) and one of another."""
    first, second = bulk_dossiers(manager_membership, 2, state=State.DEPLOYED)
    other_solution = SolutionFactory(organisation=manager_membership.organisation,
                                     dispositif=Dispositif.objects.exclude(pk=first.dispositif_id).order_by("code")[0])
    third = bulk_dossiers(manager_membership, 1, state=State.DRAFT, solution=other_solution)[0]
    Blocker.objects.create(dossier=second, organisation=second.organisation, transition="sign_va", rule="va.document")
    outsider = bulk_dossiers(outsider_membership, 1)[0]
    return {"first": first, "second": second, "third": third, "outsider": outsider}


def ids(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


def test_the_scope_is_one_organisation_or_every_one(book, manager_membership):
    mine = {book["first"].pk, book["second"].pk, book["third"].pk}
    assert ids(dossiers_of(manager_membership.organisation)) == mine
    assert ids(dossiers_of(manager_membership.organisation_id)) == mine
    assert ids(dossiers_of(None)) == mine | {book["outsider"].pk}


@pytest.mark.parametrize(("params", "expected"), [
    ({}, {"first", "second", "third"}),
    ({"state": State.DRAFT}, {"third"}),
    ({"state": State.DEPLOYED, "sort": "client"}, {"first", "second"}),
    ({"rule": "va.document"}, {"second"}),
    ({"rule": "avance.deadline"}, set()),
    ({"q": "BULK"}, {"first", "second", "third"}),
    ({"q": "personne"}, set()),
    ({"state": "", "q": None, "solution": ""}, {"first", "second", "third"}),  # empty values are ignored
    ({"va_request": "returned"}, set()),  # a filter another app registered (varequests)
])
def test_plain_values_filter_the_organisations_dossiers(book, manager_membership, params, expected):
    assert ids(filter_dossiers(dossiers_of(manager_membership.organisation_id), params)) == {
        book[name].pk for name in expected}


def test_dispositif_solution_and_couloir_take_codes_ids_or_objects(book, manager_membership):
    third = Dossier.objects.select_related("dispositif").get(pk=book["third"].pk)
    scope = dossiers_of(manager_membership.organisation_id)
    for params in ({"dispositif": third.dispositif.code}, {"dispositif": third.dispositif},
                   {"solution": third.solution_id}, {"solution": third.solution}):
        assert ids(filter_dossiers(scope, params)) == {third.pk}
    assert third.pk in ids(filter_dossiers(scope, {"couloir": third.dispositif.couloir_id}))
    assert ids(filter_dossiers(scope, {"dispositif": "INCONNU"})) == set()
    assert ids(filter_dossiers(dossiers_of(None), {"organisation": manager_membership.organisation_id})) == ids(scope)


@pytest.mark.parametrize("params", [{"state": State.DEPLOYED}, {"q": "BULK-"}, {"state": State.DRAFT, "q": "x"}, {}])
def test_the_page_list_the_api_and_the_export_list_the_same_dossiers(book, manager_membership, api, params):
    organisation_id = manager_membership.organisation_id
    page = ids(dossier_list(organisation_id, **params))
    answer = api.get(reverse("api:dossier-list"), params).json()
    export = {row["id"] for row in DossierListReport(organisation_id, params).rows()}
    assert page == {row["id"] for row in answer["results"]} == export
