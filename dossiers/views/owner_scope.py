"""The dossier list's owner filter, « mes dossiers » by default; shared by the list and a bulk selection made from it.

Its own module so the list, the bulk pages and the team pages can all use it without importing each other.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict
from django.urls import reverse

from organisations.models import Membership

from .. import queries
from ..models import Dossier
from ..team_forms import OwnerFilterForm
from ..queries import EVERYONE, MINE


# --- the list's owner filter ---------------------------------------------------------------------------------------

@dataclass
class OwnerScope:
    """Whose dossiers the list shows: the member's own by default when they own any, else everyone's."""

    value: str
    membership: Membership
    form: OwnerFilterForm
    mine_url: str
    all_url: str
    members: list[Membership]       # the organisation's assignable members (the filter's choices; rows' owners)

    @property
    def mine(self) -> bool:
        return self.value == MINE

    def apply(self, queryset: QuerySet[Dossier]) -> QuerySet[Dossier]:
        return queries.filter_by_owner(queryset, self.value, self.membership)


def _with_owner(query: QueryDict, value: str) -> str:
    query = query.copy()
    query.pop("page", None)
    query["owner"] = value
    return f"{reverse('dossier-list')}?{query.urlencode()}"


def owner_scope(request: HttpRequest) -> OwnerScope:
    """The owner filter of the list (and of a bulk selection made from it): `owner` in the query, else the default."""
    membership = request.membership
    # Whether each owns a dossier decides only the default filter: not asked for when the query names one.
    members = queries.members_of(membership.organisation_id, assignable=True, owns="owner" not in request.GET)
    if "owner" in request.GET:
        form = OwnerFilterForm(request.GET, members=members)
        value = (form.cleaned_data["owner"] or EVERYONE) if form.is_valid() else EVERYONE
    else:
        # A manager who owns dossiers starts from theirs; a viewer, or a member who owns none yet, from all.
        owns = any(m.owns for m in members if m.pk == membership.pk)
        value = MINE if owns else EVERYONE
        form = OwnerFilterForm(initial={"owner": value}, members=members)
    return OwnerScope(value, membership, form, _with_owner(request.GET, MINE), _with_owner(request.GET, EVERYONE),
                      members)
