"""The dossiers app's reads: the dossiers of a scope, the one filter every list shares, the pages' reads, and a
team's (members, owners, activity, notifications, the client page).

Each function answers in a fixed number of queries, whatever the data size. Reports (`reports.queries`) build on
`dossiers_of` and `filter_dossiers`."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Exists, F, Lookup, OuterRef, Prefetch, Q, QuerySet, Value
from django.db.models.functions import StrIndex
from django.db.models.lookups import GreaterThan
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import get_language

from faqref.links import guidance_for
from organisations.models import Membership, Organisation, Role
from segurtrack.search import Fold, fold, folded_contains

from . import rules
from .extensions import apply_list_filters
from .identifiers import compact, finess_department
from .models import (
    Amendment, Blocker, Channel, Client, Dispositif, Document, Dossier, HistoryEntry, Notification, NotificationKind,
    NotificationPreference, PvPilote, Solution,
)
from .models.team import DEFAULT_CHANNEL
from .rules import money

EXCERPT_WORDS = 30
LIST_RELATED = ("client", "solution", "dispositif__couloir")
# What the list page shows of a dossier and its relations (and its sorts' columns, which its page keys hold): a
# dossier has some seventy columns, which the page would otherwise read and build 26 times a page.
LIST_COLUMNS = (
    "id", "organisation_id", "reference", "state", "updated_at", "client_name", "owner_id",
    "client", "client__name", "client__finess_geo", "client__siret",
    "solution", "solution__name", "solution__version",
    "dispositif", "dispositif__code", "dispositif__couloir", "dispositif__couloir__label",
)


def dossiers_of(scope: Organisation | int | None) -> QuerySet[Dossier]:
    """The dossiers of one organisation (an instance or its id), or of every organisation (None: platform staff's
    reports), unordered."""
    queryset = Dossier.objects.order_by()
    return queryset if scope is None else queryset.filter(organisation=scope)


def filter_dossiers(queryset: QuerySet[Dossier], params: Mapping[str, Any], *,
                    organisation_id: int | None = None) -> QuerySet[Dossier]:
    """The dossier filters every list shares (the page, the API, the reports, the exports), from plain values:
    `state`; `couloir` (code); `dispositif` (a code, or a Dispositif); `solution` and `organisation` (ids or
    instances); `rule` (a blocking rule's code); `q` (free search); and the filters other apps registered
    (`dossiers.extensions.LIST_FILTERS`). Empty values and other keys (`sort`) are ignored. `organisation_id`:
    the one organisation `queryset` holds, when the caller knows it (the search then reads only its clients)."""
    values = {name: value for name, value in params.items() if value not in (None, "")}
    if "state" in values:
        queryset = queryset.filter(state=values["state"])
    if "couloir" in values:
        queryset = queryset.filter(dispositif__couloir_id=values["couloir"])
    if "dispositif" in values:
        dispositif = values["dispositif"]
        queryset = queryset.filter(**{"dispositif" if isinstance(dispositif, Dispositif) else "dispositif__code":
                                      dispositif})
    if "solution" in values:
        queryset = queryset.filter(solution=values["solution"])
    if "organisation" in values:
        queryset = queryset.filter(organisation=values["organisation"])
    if "rule" in values:
        queryset = queryset.filter(Exists(Blocker.objects.filter(dossier_id=OuterRef("pk"), rule=values["rule"])))
    queryset = apply_list_filters(queryset, values)
    return search_dossiers(queryset, values.get("q", ""), organisation_id=organisation_id)


# --- dossier list ------------------------------------------------------------------------------------------------

SORTS: dict[str, tuple[str, ...]] = {
    "reference": ("reference", "id"),
    "-reference": ("-reference", "-id"),
    "client": ("client_name", "id"),
    "-client": ("-client_name", "-id"),
    "state": ("state", "id"),
    "-state": ("-state", "-id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
}
DEFAULT_SORT = "-updated"


def dossier_list(organisation_id: int, **params: Any) -> QuerySet[Dossier]:
    """The organisation's dossiers filtered (`filter_dossiers`), searched and sorted (`sort`: a key of SORTS), with
    their client, solution and dispositif; a page of them names its blocking rules with `blocking_rules`."""
    queryset = dossiers_of(organisation_id).select_related(*LIST_RELATED)
    return filter_dossiers(queryset, params, organisation_id=organisation_id).order_by(*sort_fields(params.get("sort")))


def blocking_rules(dossier_ids: list[int]) -> dict[int, list[str]]:
    """The codes of the rules blocking each dossier of `dossier_ids`, in code order (one query, none for no dossier:
    plain pairs, where a prefetch built a Blocker for each)."""
    rules: dict[int, list[str]] = {}
    if dossier_ids:
        for dossier_id, rule in Blocker.objects.filter(dossier_id__in=dossier_ids).order_by("rule").values_list(
                "dossier_id", "rule"):
            rules.setdefault(dossier_id, []).append(rule)
    return rules


def sort_fields(sort: str | None) -> tuple[str, ...]:
    """The ordering of a list sort (a key of SORTS; the default for anything else): a column, then the id."""
    return SORTS.get(sort or DEFAULT_SORT, SORTS[DEFAULT_SORT])


def sort_key(dossier: Dossier, sort: str | None) -> tuple[Any, int]:
    """The row's place in the sort: the values of its sort columns (what `after_key` seeks past)."""
    column, _id = (name.lstrip("-") for name in sort_fields(sort))
    return getattr(dossier, column), dossier.pk


def after_key(queryset: QuerySet[Dossier], sort: str | None, key: tuple[Any, int], *,
              before: bool = False) -> QuerySet[Dossier]:
    """The rows that follow `key` in the sort (keyset pagination: the index seeks there instead of counting an
    OFFSET); `before`: those that precede it, nearest first (the caller reverses them)."""
    column, id_field = sort_fields(sort)
    descending = column.startswith("-")
    name, value, pk = column.lstrip("-"), key[0], key[1]
    forward = "lt" if descending != before else "gt"
    # `column <= value` alone is what the index seeks with; the OR then drops the rows of equal value before `pk`.
    bound = {f"{name}__{forward}e": value}
    rest = Q(**{f"{name}__{forward}": value}) | Q(**{name: value, f"pk__{forward}": pk})
    ordering = (column, id_field)
    if before:
        ordering = tuple(field[1:] if field.startswith("-") else f"-{field}" for field in ordering)
    return queryset.filter(rest, **bound).order_by(*ordering)


# A number matching up to this many clients is passed to the search as their ids (an index path, hashed as a filter);
# past it, as the clients' query (a hashed subplan): a short number matches thousands of clients.
CLIENT_IDS_INLINE = 20_000


def search_dossiers(queryset: QuerySet[Dossier], q: str, *, organisation_id: int | None = None) -> QuerySet[Dossier]:
    """The free search of the list page and the API: client name (the dossier's kept copy) or reference, or part of
    an identifier typed with spaces or dots ("75 000 001 2" finds 750000012, stored compact). Each part is read from
    a trigram index (migration 0015); identifiers, which hold digits, only for a term with one: among the clients
    of `organisation_id` when given (a dossier's client is of its organisation: services.create_dossier), else of
    every organisation.

    The matching clients' ids are read first (one query, at most CLIENT_IDS_INLINE + 1 ids) and passed as one array
    constant, which PostgreSQL either reads through the client index (a full identifier: a few clients) or hashes
    to test each dossier. `= ANY(ARRAY(subquery))` compared each dossier with every id in turn: a short number
    ("75", ~2,600 clients of the largest organisation) took 4 s for the count and as much for the page. Past
    CLIENT_IDS_INLINE clients, `IN (subquery)`, which PostgreSQL hashes (no index path: most dossiers match)."""
    q = (q or "").strip()
    if not q:
        return queryset
    match = Q()
    number = compact(q)
    if any(char.isdigit() for char in number):
        clients = identifier_clients(number, organisation_id)
        ids = list(clients.values_list("pk", flat=True)[:CLIENT_IDS_INLINE + 1])
        # First: the cheapest test, which spares the others' folding for the dossiers it matches.
        match = Q(client_id__in=clients.values("pk")) if len(ids) > CLIENT_IDS_INLINE else Q(AnyOf(F("client_id"), ids))
    return queryset.filter(match | _contains("reference", q) | _contains("client_name", q))


def identifier_clients(number: str, organisation_id: int | None) -> QuerySet[Client]:
    """The clients (of `organisation_id`, or of all) one of whose identifiers contains `number` (compact), unsorted."""
    clients = Client.objects.filter(
        Q(finess_geo__contains=number) | Q(siret__contains=number) | Q(finess_legal__contains=number)).order_by()
    return clients if organisation_id is None else clients.filter(organisation_id=organisation_id)


TRIGRAM = 3


def _contains(field: str, q: str) -> Q:
    """`field` contains `q`, accents and case aside: through its trigram index (`folded_contains`) for a term of three
    characters or more; for a shorter one, which holds no trigram, `strpos(...) > 0`, the same answer as a filter:
    the index would return every row of every organisation (`LIKE '%75%'` read all 200,000 dossiers' entries,
    0.13 s, where reading the organisation's rows costs a few ms)."""
    folded = fold(q)
    if len(folded) >= TRIGRAM:
        return folded_contains(field, q)
    return Q(GreaterThan(StrIndex(Fold(F(field)), Value(folded)), 0))


class AnyOf(Lookup):
    """`lhs = ANY(%s)` with the ids as one array parameter on PostgreSQL (one constant, whatever the number of ids:
    an index condition the planner can OR with the others, or a hashed test per row); `IN (...)` elsewhere."""
    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", (*lhs_params, list(self.rhs))
        ids = list(self.rhs) or [None]
        return f"{lhs} IN ({', '.join(['%s'] * len(ids))})", (*lhs_params, *ids)


# --- one dossier -------------------------------------------------------------------------------------------------

def dossier_detail(organisation_id: int, pk: int) -> Dossier:
    """A dossier with what its page shows: documents, amendments, history and blockers (five queries)."""
    dossier = get_object_or_404(dossiers_of(organisation_id).select_related(*LIST_RELATED), pk=pk)
    _attach(dossier, "document_rows", _documents(dossier.pk))
    _attach(dossier, "amendment_rows", Amendment.objects.filter(dossier_id=dossier.pk).order_by("filed_on", "id"))
    _attach(dossier, "history_rows", HistoryEntry.objects.filter(dossier_id=dossier.pk).order_by("seq"))
    _attach(dossier, "blocker_rows", Blocker.objects.filter(dossier_id=dossier.pk).order_by("rule"))
    return dossier


def dossier_for_solde(organisation_id: int, pk: int) -> Dossier:
    """A dossier with its documents (the checklist page lists them beside the rules)."""
    dossier = get_object_or_404(dossiers_of(organisation_id).select_related(*LIST_RELATED), pk=pk)
    _attach(dossier, "document_rows", _documents(dossier.pk))
    return dossier


def _documents(dossier_id: int) -> QuerySet[Document]:
    return Document.objects.filter(dossier_id=dossier_id).select_related("uploaded_by").order_by("uploaded_at", "id")


def _attach(dossier: Dossier, name: str, rows: QuerySet) -> None:
    """A dossier's rows of one kind read by their own query (one dossier: what `prefetch_related` would do, without
    its machinery, which cost ~1 ms a page in building `dossier_id IN (…)` lookups and matching rows to their
    dossier), each row knowing its dossier as a prefetch would have told it."""
    rows = list(rows)
    for row in rows:
        row._state.fields_cache["dossier"] = dossier
    setattr(dossier, name, rows)


@lru_cache(maxsize=1024)
def excerpt(text: str, language: str | None) -> str:
    """An FAQ answer's first words as the pages show them beside a rule. Remembered per (text, language): a pure
    function of both (the truncation mark is translated), so an edited answer is a new key and shows at once; the
    checklist showed 16 of them, truncated again on every request."""
    return Truncator(" ".join(text.split())).words(EXCERPT_WORDS)


def guidance(codes) -> dict[str, list[dict[str, Any]]]:
    """Each rule code's FAQ guidance with a short excerpt of the answer (one query, with the entries' text)."""
    links = guidance_for(codes, entry_fields=("text", "is_demo"))

    def shown(ref: dict[str, Any]) -> dict[str, Any]:
        rest = {name: value for name, value in ref.items() if name != "text"}
        return {**rest, "excerpt": excerpt(ref["text"], get_language())}

    return {code: [shown(ref) for ref in refs]
            for code, refs in links.items()}


@dataclass
class RuleOutcome:
    rule: str
    title: str
    severity: str
    status: str          # ok, failed, pending
    message: str
    guidance: list[dict[str, Any]] = field(default_factory=list)


def with_guidance(failures: list[rules.Failure], links: dict[str, list] | None = None) -> list[RuleOutcome]:
    """Refused rules as the page shows them: title, message and FAQ guidance (fetched unless given)."""
    if links is None:
        links = guidance(f.rule for f in failures)
    return [RuleOutcome(f.rule, rule_title(f.rule), f.severity.value, "failed", f.message, links.get(f.rule, []))
            for f in failures]


def rule_title(code: str) -> str:
    rule = rules.CATALOGUE.get(code)
    return str(rule.title) if rule else code


# --- clients, solutions ------------------------------------------------------------------------------------------

def clients_of(organisation_id: int, q: str = "") -> QuerySet[Client]:
    queryset = Client.objects.filter(organisation_id=organisation_id).annotate(dossier_count=Count("dossiers"))
    q = (q or "").strip()
    if q:
        match = folded_contains("name", q)
        number = compact(q)
        if number:
            match |= Q(finess_geo__startswith=number) | Q(siret__startswith=number) | Q(finess_legal__startswith=number)
        queryset = queryset.filter(match)
    return queryset.order_by("name", "id")


def solutions_of(organisation_id: int) -> QuerySet[Solution]:
    return (
        Solution.objects.filter(organisation_id=organisation_id).select_related("dispositif")
        .annotate(
            pv_count=Count("pv_pilotes", distinct=True),
            pv_validated=Count("pv_pilotes", filter=Q(pv_pilotes__status=PvPilote.Status.VALIDATED), distinct=True),
            dossier_count=Count("dossiers", distinct=True),
        )
        .order_by("name", "version", "id")
    )


def solution_detail(organisation_id: int, pk: int) -> Solution:
    return get_object_or_404(
        Solution.objects.filter(organisation_id=organisation_id).select_related("dispositif").prefetch_related(
            Prefetch("pv_pilotes", queryset=PvPilote.objects.select_related("uploaded_by").order_by("-signed_on", "-id"),
                     to_attr="pv_rows")),
        pk=pk,
    )


def today() -> date:
    return timezone.localdate()


# --- a team's work: members, owners, activity, notifications, the client page ----------------------------------

DIGEST_NOTICES_SHOWN = 50

# --- owners ------------------------------------------------------------------------------------------------------

# The values of the list's owner filter besides a membership id.
MINE, EVERYONE, NOBODY = "me", "all", "none"


def members_of(organisation_id: int, *, assignable: bool = False, owns: bool = True) -> list[Membership]:
    """The organisation's members by name; `assignable`: only those who may be responsible for a dossier, its
    managers and admins, each annotated `owns` (whether they own a dossier) in the same query unless `owns=False`
    (the list given an owner filter needs no default, and the subquery costs more to compile than to run)."""
    queryset = Membership.objects.filter(organisation_id=organisation_id)
    if assignable:
        queryset = queryset.filter(role__in=[Role.MANAGER, Role.ADMIN])
        if owns:
            queryset = queryset.annotate(owns=Exists(Dossier.objects.filter(owner_id=OuterRef("pk"))))
    return list(queryset.select_related("user").order_by("user__last_name", "user__first_name", "user__username"))


def member_name(membership: Membership) -> str:
    user = membership.user
    return user.get_full_name() or user.get_username()


def owner_names(dossiers: list[Dossier], members: list[Membership]) -> dict[int, str]:
    """The name of each owner of `dossiers` by membership id: from `members` (the organisation's assignable
    members, read already for the owner filter), and an owner no longer among them (a manager since made viewer)
    read by one more query, only then."""
    known = {member.pk: member for member in members}
    missing = {d.owner_id for d in dossiers if d.owner_id is not None and d.owner_id not in known}
    if missing:
        known.update((m.pk, m) for m in Membership.objects.filter(pk__in=missing).select_related("user"))
    return {d.owner_id: member_name(known[d.owner_id]) for d in dossiers if d.owner_id in known}


def filter_by_owner(queryset: QuerySet[Dossier], owner: str, membership: Membership) -> QuerySet[Dossier]:
    """`owner`: MINE, EVERYONE, NOBODY or a membership id (already checked to be one of the organisation's).

    The owners are not joined: two more tables in the list's query cost PostgreSQL more to plan (5 ms) than the
    page takes to run it; the list names them from the members it has read (`owner_names`)."""
    if owner == MINE:
        return queryset.filter(owner=membership)
    if owner == NOBODY:
        return queryset.filter(owner__isnull=True)
    if owner and owner != EVERYONE:
        return queryset.filter(owner_id=int(owner))
    return queryset


# --- activity ----------------------------------------------------------------------------------------------------

def activity(organisation_id: int, *, user_id: int | None = None, reference: str = "", start: date | None = None,
             end: date | None = None) -> QuerySet[HistoryEntry]:
    """Who did what: the organisation's history rows, newest first, by person, dossier reference and day (Paris)."""
    queryset = HistoryEntry.objects.filter(dossier__organisation_id=organisation_id).select_related("dossier")
    if user_id:
        queryset = queryset.filter(user_id=user_id)
    if reference:
        queryset = queryset.filter(dossier__reference__icontains=reference.strip())
    if start:
        queryset = queryset.filter(at__gte=_day_start(start))
    if end:
        queryset = queryset.filter(at__lt=_day_start(end + timedelta(days=1)))
    return queryset.order_by("-at", "-id")


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


# --- notifications -----------------------------------------------------------------------------------------------

def channels_of(membership: Membership) -> dict[str, str]:
    """The member's channel for every kind, defaults included (one query)."""
    chosen = dict(NotificationPreference.objects.filter(membership=membership).values_list("kind", "channel"))
    return {kind: chosen.get(kind, DEFAULT_CHANNEL) for kind in NotificationKind.values}


def channel_for(membership: Membership, kind: str) -> str:
    """How the member wants to be told of `kind`: Channel.IN_APP (the default), DIGEST or NONE (one query).

    The daily digest lists a member's notices of the kinds whose channel is DIGEST, and only those.
    """
    chosen = NotificationPreference.objects.filter(membership=membership, kind=kind).values_list(
        "channel", flat=True).first()
    return chosen or DEFAULT_CHANNEL


def _kinds_not_in(membership: Membership, channel: str) -> QuerySet:
    return NotificationPreference.objects.filter(membership=membership).exclude(channel=channel).values("kind")


def notifications_of(membership: Membership) -> QuerySet[Notification]:
    """The member's notifications in the application: since they joined the organisation, of the kinds they
    want told there (one query, the preferences read in a subquery)."""
    return Notification.objects.filter(
        user_id=membership.user_id, organisation_id=membership.organisation_id, created_at__gte=membership.created_at,
    ).exclude(kind__in=_kinds_not_in(membership, Channel.IN_APP))


def unread_count(membership: Membership) -> int:
    return notifications_of(membership).filter(read_at__isnull=True).count()


def digest_notices(membership: Membership, day: date) -> list[str]:
    """The member's notices of the day before `day` of the kinds they chose to read in the digest (one query)."""
    digest_kinds = NotificationPreference.objects.filter(membership=membership, channel=Channel.DIGEST).values("kind")
    return list(Notification.objects.filter(
        user_id=membership.user_id, organisation_id=membership.organisation_id, kind__in=digest_kinds,
        created_at__gte=max(_day_start(day - timedelta(days=1)), membership.created_at),
        created_at__lt=_day_start(day),
    ).order_by("created_at", "id").values_list("message", flat=True)[:DIGEST_NOTICES_SHOWN])


def grouped_by_dossier(notifications: list[Notification]) -> list[dict]:
    """A page of notifications grouped by dossier, the group of the most recent first; those about no dossier
    (the digest) form one group of their own."""
    groups: dict[int | None, dict] = {}
    for notification in notifications:
        group = groups.setdefault(notification.dossier_id, {"dossier": notification.dossier, "notifications": []})
        group["notifications"].append(notification)
    return list(groups.values())


# --- clients -----------------------------------------------------------------------------------------------------

def client_page(client: Client) -> dict[str, Any]:
    """What the client's page adds to its form: its dossiers, newest first, with their state and declared amount in
    force (one query), and whether its FINESS géographique names another department than its own."""
    dossiers = [] if client.pk is None else [
        {"pk": d.pk, "reference": d.reference, "state": d.state, "state_label": d.get_state_display(),
         "dispositif": d.dispositif.code, "amount": money(d.declared_amount)}
        for d in Dossier.objects.filter(client=client, organisation_id=client.organisation_id)
        .select_related("dispositif").only("id", "reference", "state", "declared_amount", "dispositif__code")
        .order_by("-id")]
    return {"client_dossiers": dossiers, "finess_department": finess_department(client.finess_geo) or "",
            "finess_mismatch": client.finess_department_mismatch}
