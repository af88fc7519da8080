"""Votes: "Cette réponse vous a-t-elle été utile ?", one changeable answer per user and entry."""
import itertools

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from faqref.models import Entry, Vote
from faqref.votes import cast_vote, entries_by_no_share, vote_summary

pytestmark = pytest.mark.django_db

_USERS = itertools.count()


def user():
    # No password: hashing one per voter would make these tests slow for nothing.
    return get_user_model().objects.create(username=f"lecteur{next(_USERS)}")


def make_entry(n: int) -> Entry:
    entry = Entry(slug=f"reponse-{n}", derived_title=f"Réponse {n}", text=f"Réponse {n} sur le solde.",
                  fingerprint=f"{n:064d}")
    entry.save()
    return entry


def votes(entry: Entry, yes: int, no: int) -> None:
    for i in range(yes + no):
        cast_vote(entry_id=entry.pk, user=user(), useful=i < yes)


def test_a_user_has_one_vote_per_entry_which_they_may_change():
    entry, voter = make_entry(1), user()

    cast_vote(entry_id=entry.pk, user=voter, useful=True)
    cast_vote(entry_id=entry.pk, user=voter, useful=False)

    assert list(Vote.objects.values_list("user_id", "useful")) == [(voter.pk, False)]
    assert vote_summary(entry, voter) == {"yes": 0, "no": 1, "mine": False}
    assert vote_summary(entry, user()) == {"yes": 0, "no": 1, "mine": None}


def test_the_database_refuses_a_second_vote_row_for_the_same_user_and_entry():
    entry, voter = make_entry(1), user()
    Vote.objects.create(entry=entry, user=voter, useful=True)

    with pytest.raises(IntegrityError), transaction.atomic():
        Vote.objects.create(entry=entry, user=voter, useful=False)


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
