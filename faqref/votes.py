"""Readers' votes: "Cette réponse vous a-t-elle été utile ?", one changeable answer per user and entry in each
organisation; a member sees their organisation's counts, never another's (the staff admin ranks on all votes)."""
from __future__ import annotations

from django.db.models import Count, F, FloatField, Q, QuerySet
from django.db.models.functions import Cast, NullIf

from .models import Entry, Vote


def cast_vote(*, entry_id: int, user, organisation_id: int, useful: bool) -> Vote:
    """Record the user's answer for the entry in the organisation they work for, replacing their previous one."""
    vote, _ = Vote.objects.update_or_create(entry_id=entry_id, user=user, organisation_id=organisation_id,
                                            defaults={"useful": useful})
    return vote


def vote_summary(entry: Entry, user, organisation_id: int) -> dict:
    """Yes and no counts of an entry in the organisation, and the user's own answer there (None before voting);
    one query."""
    counts = Vote.objects.filter(entry=entry, organisation_id=organisation_id).aggregate(
        yes=Count("id", filter=Q(useful=True)), no=Count("id", filter=Q(useful=False)),
        mine_yes=Count("id", filter=Q(user_id=user.pk, useful=True)),
        mine_no=Count("id", filter=Q(user_id=user.pk, useful=False)),
    )
    mine = True if counts["mine_yes"] else False if counts["mine_no"] else None
    return {"yes": counts["yes"], "no": counts["no"], "mine": mine}


def entries_by_no_share() -> QuerySet[Entry]:
    """Entries with `yes`, `no`, `votes_count` and `no_share` (no / votes_count, None without votes), weakest first:
    highest share of "no", then most "no"; entries nobody voted on come last."""
    return (
        Entry.objects.defer("search_title", "search_text", "search_vector")
        .annotate(yes=Count("votes", filter=Q(votes__useful=True)), no=Count("votes", filter=Q(votes__useful=False)),
                  votes_count=Count("votes"))
        .annotate(no_share=Cast("no", FloatField()) / NullIf(Cast("votes_count", FloatField()), 0.0))
        .order_by(F("no_share").desc(nulls_last=True), "-no", "id")
    )
