"""Votes: "Cette réponse vous a-t-elle été utile ?", one changeable answer per user and entry."""
import itertools

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from faqref.models import Entry, Vote
from faqref.votes import cast_vote, entries_by_no_share, vote_summary

from ..factories import OrganisationFactory

pytestmark = pytest.mark.django_db

_USERS = itertools.count()


def user(organisation=None):
    # No password: hashing one per voter would make these tests slow for nothing.
    voter = get_user_model().objects.create(username=f"lecteur{next(_USERS)}")
    voter.organisation_id = (organisation or OrganisationFactory(name="Éditeur Alpha")).pk
    return voter


def make_entry(n: int) -> Entry:
    entry = Entry(slug=f"reponse-{n}", derived_title=f"Réponse {n}", text=f"Réponse {n} sur le solde.",
                  fingerprint=f"{n:064d}")
    entry.save()
    return entry


def votes(entry: Entry, yes: int, no: int) -> None:
    for i in range(yes + no):
        voter = user()
        cast_vote(entry_id=entry.pk, user=voter, organisation_id=voter.organisation_id, useful=i < yes)


def test_a_user_has_one_vote_per_entry_which_they_may_change():
    entry, voter = make_entry(1), user()

    cast_vote(entry_id=entry.pk, user=voter, organisation_id=voter.organisation_id, useful=True)
    cast_vote(entry_id=entry.pk, user=voter, organisation_id=voter.organisation_id, useful=False)

    assert list(Vote.objects.values_list("user_id", "useful")) == [(voter.pk, False)]
    assert vote_summary(entry, voter, voter.organisation_id) == {"yes": 0, "no": 1, "mine": False}
    assert vote_summary(entry, user(), voter.organisation_id) == {"yes": 0, "no": 1, "mine": None}


def test_votes_are_counted_per_organisation_and_never_shown_to_another():
    entry = make_entry(1)
    alpha, beta = OrganisationFactory(name="Éditeur Alpha"), OrganisationFactory(name="Éditeur Bêta")
    ours, theirs = user(alpha), user(beta)
    cast_vote(entry_id=entry.pk, user=ours, organisation_id=alpha.pk, useful=True)
    cast_vote(entry_id=entry.pk, user=theirs, organisation_id=beta.pk, useful=False)
    cast_vote(entry_id=entry.pk, user=user(beta), organisation_id=beta.pk, useful=False)

    assert vote_summary(entry, ours, alpha.pk) == {"yes": 1, "no": 0, "mine": True}
    assert vote_summary(entry, theirs, beta.pk) == {"yes": 0, "no": 2, "mine": False}
    # A member of both votes once in each; the staff ranking counts every vote.
    cast_vote(entry_id=entry.pk, user=ours, organisation_id=beta.pk, useful=True)
    assert vote_summary(entry, ours, beta.pk) == {"yes": 1, "no": 2, "mine": True}
    assert vote_summary(entry, ours, alpha.pk) == {"yes": 1, "no": 0, "mine": True}
    assert [(e.yes, e.no) for e in entries_by_no_share()] == [(2, 2)]


def test_the_database_refuses_a_second_vote_row_for_the_same_user_and_entry():
    entry, voter = make_entry(1), user()
    Vote.objects.create(entry=entry, user=voter, organisation_id=voter.organisation_id, useful=True)

    with pytest.raises(IntegrityError), transaction.atomic():
        Vote.objects.create(entry=entry, user=voter, organisation_id=voter.organisation_id, useful=False)


def test_entries_are_listed_weakest_first_by_share_of_no_then_number_of_no():
    liked, mixed, disliked, unvoted, few_no = (make_entry(n) for n in range(5))
    votes(liked, yes=3, no=0)
    votes(mixed, yes=2, no=2)
    votes(disliked, yes=1, no=3)
    votes(few_no, yes=1, no=1)

    ranked = list(entries_by_no_share())

    assert ranked == [disliked, mixed, few_no, liked, unvoted]
    assert [(e.yes, e.no, e.votes_count) for e in ranked] == [(1, 3, 4), (2, 2, 4), (1, 1, 2), (3, 0, 3), (0, 0, 0)]
    assert ranked[0].no_share == 0.75 and ranked[3].no_share == 0.0 and ranked[4].no_share is None


def test_the_weakest_first_list_is_one_query(django_assert_num_queries):
    votes(make_entry(1), yes=1, no=2)
    votes(make_entry(2), yes=2, no=1)

    with django_assert_num_queries(1):
        assert [e.no for e in entries_by_no_share()] == [2, 1]
