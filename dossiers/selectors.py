"""Reads for the pages: each function answers in a fixed number of queries, whatever the data size."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.text import Truncator

from faqref.links import guidance_for
from faqref.models import Entry
from segurtrack.search import folded_contains

from . import rules
from .identifiers import compact
from .models import Amendment, Blocker, Client, Document, Dossier, HistoryEntry, PvPilote, Solution, State

AVANCE_DEADLINE_DAYS = 30
HOME_ROWS = 8             # dossiers listed under each heading of the home page
BLOCKED_ROWS_PER_RULE = 5
EXCERPT_WORDS = 30
LIST_RELATED = ("client", "solution", "dispositif__couloir")


def dossiers_of(organisation_id: int) -> QuerySet[Dossier]:
    return Dossier.objects.filter(organisation_id=organisation_id).select_related(*LIST_RELATED)


# --- home --------------------------------------------------------------------------------------------------------

@dataclass
class BlockedRule:
    rule: str
    title: str
    count: int
    dossiers: list[Dossier] = field(default_factory=list)


@dataclass
class Home:
    state_counts: list[tuple[str, str, int]]
    total: int
    blocked_total: int
    blocked_rules: list[BlockedRule]
    avance_due_count: int
    avance_due: list[Dossier]
    va_awaited_count: int
    va_awaited: list[Dossier]
    pending_va_days: int


def home(organisation, *, now=None) -> Home:
    """What needs action: blocked dossiers by rule, avance deadlines within 30 days, VA awaited (8 queries)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    org = organisation.pk
    by_state = dict(Dossier.objects.filter(organisation_id=org).values_list("state").annotate(n=Count("id"))
                    .order_by())
    state_counts = [(value, label, by_state.get(value, 0)) for value, label in State.choices]

    blockers = Blocker.objects.filter(dossier__organisation_id=org)
    counts = list(blockers.values("rule").annotate(n=Count("dossier_id")).order_by("-n", "rule"))
    blocked_total = blockers.values("dossier_id").distinct().count()
    # The first few dossiers of each rule in one query: a row number per rule, filtered in SQL.
    rows = (
        blockers.select_related("dossier__client", "dossier__dispositif")
        .annotate(position=Window(RowNumber(), partition_by=[F("rule")], order_by=[F("dossier__updated_at").asc(),
                                                                                    F("dossier_id").asc()]))
        .filter(position__lte=BLOCKED_ROWS_PER_RULE)
        .order_by("rule", "position")
    )
    grouped: dict[str, list[Dossier]] = {}
    for row in rows:
        grouped.setdefault(row.rule, []).append(row.dossier)
    blocked_rules = [
        BlockedRule(c["rule"], rule_title(c["rule"]),
                    c["n"], grouped.get(c["rule"], []))
        for c in counts
    ]

    due = (dossiers_of(org).filter(state__in=[State.DRAFT, State.BDC_SIGNED],
                                   dispositif__avance_deadline__gte=now,
                                   dispositif__avance_deadline__lte=now + timedelta(days=AVANCE_DEADLINE_DAYS))
           .order_by("dispositif__avance_deadline", "id"))
    awaited = dossiers_of(org).filter(state=State.DEPLOYED).order_by(F("deployed_on").asc(nulls_last=True), "id")
    avance_due = list(due[:HOME_ROWS])
    for dossier in avance_due:
        dossier.days_left = (timezone.localtime(dossier.dispositif.avance_deadline).date() - today).days
    va_awaited = list(awaited[:HOME_ROWS])
    for dossier in va_awaited:
        dossier.age_days = (today - dossier.deployed_on).days if dossier.deployed_on else None
        dossier.overdue = dossier.age_days is not None and dossier.age_days > organisation.pending_va_days
    return Home(
        state_counts=state_counts, total=sum(by_state.values()), blocked_total=blocked_total,
        blocked_rules=blocked_rules, avance_due_count=due.count(), avance_due=avance_due,
        va_awaited_count=awaited.count(), va_awaited=va_awaited, pending_va_days=organisation.pending_va_days,
    )


# --- dossier list ------------------------------------------------------------------------------------------------

SORTS: dict[str, tuple[str, ...]] = {
    "reference": ("reference", "id"),
    "-reference": ("-reference", "-id"),
    "client": ("client__name", "id"),
    "-client": ("-client__name", "-id"),
    "state": ("state", "id"),
    "-state": ("-state", "-id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
}
DEFAULT_SORT = "-updated"


def dossier_list(organisation_id: int, *, state: str = "", couloir: str = "", dispositif: Any = None,
                 solution: Any = None, rule: str = "", q: str = "", sort: str = DEFAULT_SORT,
                 **extensions: str) -> QuerySet[Dossier]:
    """The organisation's dossiers filtered, searched and sorted; each row's blockers prefetched (one query).

    `extensions`: the values of filters other apps registered (dossiers.extensions.LIST_FILTERS)."""
    queryset = dossiers_of(organisation_id).prefetch_related(
        Prefetch("blockers", queryset=Blocker.objects.order_by("rule"), to_attr="blocker_rows"))
    if state:
        queryset = queryset.filter(state=state)
    if couloir:
        queryset = queryset.filter(dispositif__couloir_id=couloir)
    if dispositif:
        queryset = queryset.filter(dispositif=dispositif)
    if solution:
        queryset = queryset.filter(solution=solution)
    if rule:
        queryset = queryset.filter(Exists(Blocker.objects.filter(dossier_id=OuterRef("pk"), rule=rule)))
    if extensions:
        from .extensions import apply_list_filters

        queryset = apply_list_filters(queryset, extensions)
    return search_dossiers(queryset, q).order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT]))


def search_dossiers(queryset: QuerySet[Dossier], q: str) -> QuerySet[Dossier]:
    """The free search of the list page and the API: client name or reference, or part of an identifier typed
    with spaces or dots ("75 000 001 2" finds 750000012, stored compact)."""
    q = (q or "").strip()
    if not q:
        return queryset
    match = folded_contains("client__name", q) | folded_contains("reference", q)
    number = compact(q)
    if number:
        match |= (Q(client__finess_geo__icontains=number) | Q(client__siret__icontains=number)
                  | Q(client__finess_legal__icontains=number))
    return queryset.filter(match)


# --- one dossier -------------------------------------------------------------------------------------------------

def dossier_detail(organisation_id: int, pk: int) -> Dossier:
    """A dossier with what its page shows: documents, amendments, history and blockers (five queries)."""
    return get_object_or_404(
        dossiers_of(organisation_id).prefetch_related(
            Prefetch("documents", queryset=Document.objects.select_related("uploaded_by").order_by("uploaded_at", "id"),
                     to_attr="document_rows"),
            Prefetch("amendments", queryset=Amendment.objects.order_by("filed_on", "id"), to_attr="amendment_rows"),
            Prefetch("history", queryset=HistoryEntry.objects.order_by("seq"), to_attr="history_rows"),
            Prefetch("blockers", queryset=Blocker.objects.order_by("rule"), to_attr="blocker_rows"),
        ),
        pk=pk,
    )


def dossier_for_solde(organisation_id: int, pk: int) -> Dossier:
    """A dossier with its documents (the checklist page lists them beside the rules)."""
    return get_object_or_404(
        dossiers_of(organisation_id).prefetch_related(
            Prefetch("documents", queryset=Document.objects.select_related("uploaded_by").order_by("uploaded_at", "id"),
                     to_attr="document_rows")),
        pk=pk,
    )


def guidance(codes) -> dict[str, list[dict[str, Any]]]:
    """Each rule code's FAQ guidance with a short excerpt of the answer (two queries, one when none is linked)."""
    links = guidance_for(codes)
    ids = {ref["id"] for refs in links.values() for ref in refs}
    rows = Entry.objects.filter(pk__in=ids).values_list("id", "text", "is_demo") if ids else []
    entries = {pk: (text, is_demo) for pk, text, is_demo in rows}

    def shown(ref: dict[str, Any]) -> dict[str, Any]:
        text, is_demo = entries.get(ref["id"], ("", False))
        return {**ref, "excerpt": Truncator(" ".join(text.split())).words(EXCERPT_WORDS), "is_demo": is_demo}

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
