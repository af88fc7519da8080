"""The pipeline report's read of the kept counters (its statement written out) answers what the ORM's read of them
(`counters.pipeline`) and the live count from the dossiers answer, for every filter and scope, in one query."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import translation

from dossiers import counters
from dossiers.models import Dispositif, State
from reports import queries

from ..factories import SolutionFactory, walk_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(manager_membership, outsider_membership):
    """Dossiers of two organisations in several states, on two dispositifs (one of another couloir)."""
    late = Dispositif.objects.get(code="HOP-PFI-VA2")
    made = {}
    for member in (manager_membership, outsider_membership):
        solution, other = SolutionFactory(organisation=member.organisation), SolutionFactory(
            organisation=member.organisation, dispositif=late)
        made[member.organisation_id] = (solution, other)
        for state, on in ((State.DRAFT, solution), (State.DRAFT, other), (State.BDC_SIGNED, other),
                          (State.AVANCE_PAID, solution), (State.DEPLOYED, solution), (State.DEPLOYED, other)):
            walk_to(state, membership=member, solution=on)
    return made


def filter_sets(book, organisation_id):
    solution, other = book[organisation_id]
    return [{}, {"dispositif": other.dispositif.code}, {"couloir": other.dispositif.couloir_id},
            {"couloir": solution.dispositif.couloir_id}, {"solution": solution.pk}, {"dispositif": "AUCUN"},
            {"dispositif": "", "couloir": None}, {"organisation": organisation_id},
            {"organisation": organisation_id, "dispositif": other.dispositif.code, "solution": other.pk}]


def test_every_filter_and_scope_reads_what_the_orm_and_the_live_count_read(book, manager_membership,
                                                                           django_assert_num_queries):
    organisation = manager_membership.organisation
    for scope in (organisation, organisation.pk, None):
        for filters in filter_sets(book, organisation.pk):
            with django_assert_num_queries(1):
                read = queries.pipeline(scope, **filters)
            assert read == counters.pipeline(scope, **filters)
            assert read == queries.pipeline_live(scope, **{k: v for k, v in filters.items() if v})
    every = queries.pipeline(None)
    assert sum(row["count"] for row in every) == 12 and [row["state"] for row in every] == State.values
    mine = {row["state"]: row for row in queries.pipeline(organisation)}
    assert (mine[State.DRAFT]["count"], mine[State.DEPLOYED]["count"], mine[State.CANCELLED]["count"]) == (2, 2, 0)
    assert mine[State.CANCELLED]["declared_amount"] == Decimal("0.00")
    assert all(isinstance(row[key], Decimal) for row in every
               for key in ("declared_amount", "avance_paid", "solde_paid"))


def test_a_change_shows_on_the_next_read(book, manager_membership):
    organisation = manager_membership.organisation
    solution, _other = book[organisation.pk]
    before = {row["state"]: row["count"] for row in queries.pipeline(organisation)}
    walk_to(State.DRAFT, membership=manager_membership, solution=solution)
    after = {row["state"]: row["count"] for row in queries.pipeline(organisation)}
    assert after[State.DRAFT] == before[State.DRAFT] + 1
    assert queries.pipeline(organisation) == counters.pipeline(organisation)


def test_a_filter_the_counters_do_not_keep_is_counted_live(book, manager_membership):
    organisation = manager_membership.organisation
    read = queries.pipeline(organisation, state=State.DRAFT)
    assert read == queries.pipeline_live(organisation, state=State.DRAFT)
    assert [row["state"] for row in read if row["count"]] == [State.DRAFT]


def test_the_labels_are_those_of_the_language_of_the_read(book, manager_membership):
    organisation = manager_membership.organisation
    for language in ("fr", "en", None):
        with translation.override(language):
            assert [row["label"] for row in queries.pipeline(organisation)] == [str(s.label) for s in State]
