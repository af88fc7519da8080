"""Deadlines of DOMAIN.md §6, computed from the data in one SQL statement (a UNION ALL of one query per kind).

Design choices (DOMAIN.md leaves them open):
- ESMS VA prerequisites are due one week after the BDC is signed ("as soon as possible"), then reminded weekly
  until the client's three prerequisites are complete or the VA is signed.
- Avance or solde to fix: CORRECTION_BUSINESS_DAYS jours ouvrés after the ASP's request, in the client's department
  (DOMAIN.md §8), recorded on the dossier by the transition; a dossier brought in without it (an import, older
  data) falls back to 14 calendar days. Pending VA: deployed_on + the organisation's delay (default 30).
- The avance filing deadline is also reminded for a dossier the ASP sent back for correction (`avance_to_fix`).
- Recovery: due from the day the recovery order is issued, listed (overdue) with the amount still owed until the
  repayments reach the avance paid (DOMAIN.md §8).
- Maintenance coverage (6 years after the VA) is information: listed until it ends, never overdue, and only for
  a dossier with a maintenance contract (SEED-1: the obligations depend on one).
- `due_before` keeps deadlines due on or before that date (overdue ones included).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import CharField, DateField, DateTimeField, DecimalField, ExpressionWrapper, F, IntegerField, Q, QuerySet, Value
from django.db.models.functions import Cast, Coalesce, Concat, TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dossiers.models import Client, Dossier, PortabilityRequest, SolutionChange, State
from organisations.models import Organisation

from .queries import AddDays, AddMonths


class Kind:
    AVANCE_FILING = "avance_filing"
    ESMS_PREREQUISITES = "esms_prerequisites"
    PENDING_VA = "pending_va"
    SOLDE_TO_FIX = "solde_to_fix"
    AVANCE_TO_FIX = "avance_to_fix"
    PORTABILITY = "portability"
    ANS_NOTICE = "ans_notice"
    REREFERENCING = "rereferencing"
    MAINTENANCE_END = "maintenance_end"
    RECOVERY = "recovery"


LABELS = {
    Kind.AVANCE_FILING: _("Date limite de dépôt de l'avance"),
    Kind.ESMS_PREREQUISITES: _("Prérequis ESMS avant la VA"),
    Kind.PENDING_VA: _("VA attendue après déploiement"),
    Kind.SOLDE_TO_FIX: _("Solde à corriger"),
    Kind.AVANCE_TO_FIX: _("Avance à corriger"),
    Kind.PORTABILITY: _("Demande de portabilité des données"),
    Kind.ANS_NOTICE: _("Informer l'ANS d'une modification affectant la conformité"),
    Kind.REREFERENCING: _("Nouveau référencement demandé par l'ANS"),
    Kind.MAINTENANCE_END: _("Fin de la maintenance (6 ans après la VA)"),
    Kind.RECOVERY: _("Remboursement de l'avance (ordre de recouvrement)"),
}
KINDS = list(LABELS)
INFORMATION_KINDS = frozenset({Kind.MAINTENANCE_END})

ESMS_PREREQUISITES_DAYS = 7
# Only for a correction whose due date was not recorded: about ten jours ouvrés.
CORRECTION_FALLBACK_DAYS = 14
PORTABILITY_DAYS = 15
ANS_NOTICE_DAYS = 15
REREFERENCING_MONTHS = 1
MAINTENANCE_MONTHS = 6 * 12

NOT_FILED_STATES = [State.DRAFT, State.BDC_SIGNED, State.AVANCE_TO_FIX]
BEFORE_VA_STATES = [State.BDC_SIGNED, State.AVANCE_FILED, State.AVANCE_TO_FIX, State.AVANCE_VALIDATED,
                    State.AVANCE_PAID, State.DEPLOYED]
AFTER_VA_STATES = [State.VA_SIGNED, State.SOLDE_FILED, State.SOLDE_TO_FIX, State.SOLDE_VALIDATED, State.SOLDE_PAID]

# Days before the due date on which a reminder goes out; weekly kinds are reminded every 7 days once due.
REMINDER_DAYS: dict[str, frozenset[int]] = {
    Kind.AVANCE_FILING: frozenset({30, 7, 1}),
    Kind.PENDING_VA: frozenset({7, 0}),
    Kind.SOLDE_TO_FIX: frozenset({3, 1}),
    Kind.AVANCE_TO_FIX: frozenset({3, 1}),
    Kind.PORTABILITY: frozenset({7, 1}),
    Kind.ANS_NOTICE: frozenset({7, 1}),
    Kind.REREFERENCING: frozenset({7, 1}),
    Kind.MAINTENANCE_END: frozenset({180, 30}),
}
WEEKLY_KINDS = frozenset({Kind.ESMS_PREREQUISITES, Kind.RECOVERY})
REMINDER_HORIZON_DAYS = max(max(days) for days in REMINDER_DAYS.values())

COLUMNS = ("dl_kind", "dl_due", "dl_due_at", "dl_dossier", "dl_reference", "dl_client_id", "dl_client",
           "dl_solution_id", "dl_solution", "dl_object", "dl_amount")


MONEY = DecimalField(max_digits=12, decimal_places=2)


def _null(field) -> Cast:
    return Cast(Value(None), output_field=field)


def _dossier_columns() -> dict[str, Any]:
    return {
        "dl_dossier": F("id"), "dl_reference": F("reference"), "dl_client_id": F("client_id"),
        "dl_client": F("client__name"), "dl_solution_id": F("solution_id"),
        "dl_solution": Concat(F("solution__name"), Value(" "), F("solution__version"), output_field=CharField()),
        "dl_object": _null(IntegerField()),
    }


def _correction_due(step: str) -> Coalesce:
    """The due date recorded in jours ouvrés by the ASP's request, else the calendar fallback."""
    return Coalesce(F(f"{step}_fix_due_on"), AddDays(F(f"{step}_fix_requested_on"), CORRECTION_FALLBACK_DAYS),
                    output_field=DateField())


def _part(queryset: QuerySet, kind: str, *, due: Any, columns: dict[str, Any], due_at: Any = None,
          today: date, due_before: date | None, amount: Any = None) -> tuple[str, QuerySet]:
    """One kind's rows, with the same columns in the same order as every other kind (for the UNION)."""
    annotations = {"dl_kind": Value(kind, output_field=CharField()), "dl_due": due,
                   "dl_due_at": due_at if due_at is not None else _null(DateTimeField()),
                   "dl_amount": amount if amount is not None else _null(MONEY), **columns}
    queryset = queryset.order_by().annotate(**{name: annotations[name] for name in COLUMNS})
    if due_before is not None:
        queryset = queryset.filter(dl_due__lte=due_before)
    if kind in INFORMATION_KINDS:
        queryset = queryset.filter(dl_due__gte=today)
    return kind, queryset.values(*COLUMNS)


def deadline_queryset(organisation: Organisation, *, due_before: date | None = None, today: date | None = None,
                      kinds: Iterable[str] | None = None) -> QuerySet:
    """Every deadline of the organisation (of `kinds`, default all) as rows of `COLUMNS`, soonest first: one SQL
    statement."""
    today = today or timezone.localdate()
    dossiers = Dossier.objects.filter(organisation=organisation)
    common = {"today": today, "due_before": due_before}
    incomplete_esms = (Q(client__ans_contract_signed_on__isnull=True)
                       | ~Q(client__cpe_cards__in=Client.Prerequisite.values)
                       | ~Q(client__software_certificates__in=Client.Prerequisite.values))
    solution_columns = {
        "dl_dossier": _null(IntegerField()), "dl_reference": _null(CharField()), "dl_client_id": _null(IntegerField()),
        "dl_client": _null(CharField()), "dl_solution_id": F("solution_id"),
        "dl_solution": Concat(F("solution__name"), Value(" "), F("solution__version"), output_field=CharField()),
        "dl_object": F("id"),
    }
    wanted = set(KINDS if kinds is None else kinds)
    parts = [
        _part(dossiers.filter(state__in=NOT_FILED_STATES, dispositif__avance_deadline__isnull=False),
              Kind.AVANCE_FILING, due=TruncDate("dispositif__avance_deadline"), due_at=F("dispositif__avance_deadline"),
              columns=_dossier_columns(), **common),
        _part(dossiers.filter(incomplete_esms, client__kind=Client.Kind.ESMS, state__in=BEFORE_VA_STATES,
                              bdc_signed_on__isnull=False),
              Kind.ESMS_PREREQUISITES, due=AddDays(F("bdc_signed_on"), ESMS_PREREQUISITES_DAYS),
              columns=_dossier_columns(), **common),
        _part(dossiers.filter(state=State.DEPLOYED, deployed_on__isnull=False),
              Kind.PENDING_VA, due=AddDays(F("deployed_on"), organisation.pending_va_days),
              columns=_dossier_columns(), **common),
        _part(dossiers.filter(state=State.SOLDE_TO_FIX, solde_fix_requested_on__isnull=False),
              Kind.SOLDE_TO_FIX, due=_correction_due("solde"), columns=_dossier_columns(), **common),
        _part(dossiers.filter(state=State.AVANCE_TO_FIX, avance_fix_requested_on__isnull=False),
              Kind.AVANCE_TO_FIX, due=_correction_due("avance"), columns=_dossier_columns(), **common),
        _part(PortabilityRequest.objects.filter(client__organisation=organisation, fulfilled_on__isnull=True),
              Kind.PORTABILITY, due=AddDays(F("requested_on"), PORTABILITY_DAYS), columns={
                  "dl_dossier": _null(IntegerField()), "dl_reference": _null(CharField()),
                  "dl_client_id": F("client_id"), "dl_client": F("client__name"),
                  "dl_solution_id": _null(IntegerField()), "dl_solution": _null(CharField()), "dl_object": F("id")},
              **common),
        _part(SolutionChange.objects.filter(solution__organisation=organisation, affects_conformity=True,
                                            ans_notified_on__isnull=True),
              Kind.ANS_NOTICE, due=AddDays(F("changed_on"), ANS_NOTICE_DAYS), columns=solution_columns, **common),
        _part(SolutionChange.objects.filter(solution__organisation=organisation, rereferencing_requested_on__isnull=False,
                                            rereferencing_filed_on__isnull=True),
              Kind.REREFERENCING, due=AddMonths(F("rereferencing_requested_on"), REREFERENCING_MONTHS),
              columns=solution_columns, **common),
        _part(dossiers.filter(state__in=AFTER_VA_STATES, va_signed_on__isnull=False, maintenance_contract=True),
              Kind.MAINTENANCE_END, due=AddMonths(F("va_signed_on"), MAINTENANCE_MONTHS),
              columns=_dossier_columns(), **common),
        _part(dossiers.filter(state=State.RECOVERY_ISSUED, recovery_issued_on__isnull=False),
              Kind.RECOVERY, due=F("recovery_issued_on"), columns=_dossier_columns(), **common,
              amount=ExpressionWrapper(F("avance_paid_total") - F("recovery_repaid"), output_field=MONEY)),
    ]
    first, *others = [part for kind, part in parts if kind in wanted] or [parts[0][1].none()]
    return first.union(*others, all=True).order_by("dl_due", "dl_due_at", "dl_kind", "dl_dossier", "dl_object")


def _url(row: dict[str, Any]) -> str:
    if row["dl_dossier"] is not None:
        return reverse("api:dossier-detail", args=[row["dl_dossier"]])
    if row["dl_kind"] == Kind.PORTABILITY:
        return reverse("api:client-detail", args=[row["dl_client_id"]])
    return reverse("api:solution-detail", args=[row["dl_solution_id"]])


def as_deadline(row: dict[str, Any], *, today: date, now: datetime) -> dict[str, Any]:
    """A row of `deadline_queryset` as the deadline the API, the pages and the digest show."""
    kind, due_on, due_at = row["dl_kind"], row["dl_due"], row["dl_due_at"]
    if kind in INFORMATION_KINDS:
        overdue = False
    elif due_at is not None:
        overdue = due_at <= now
    else:
        overdue = due_on < today
    return {
        "kind": kind, "label": str(LABELS[kind]),
        "due": timezone.localtime(due_at) if due_at is not None else due_on,
        "overdue": overdue, "days_left": (due_on - today).days,
        "dossier": row["dl_dossier"], "reference": row["dl_reference"],
        "client_id": row["dl_client_id"], "client": row["dl_client"],
        "solution_id": row["dl_solution_id"], "solution": row["dl_solution"],
        "object_id": row["dl_object"], "url": _url(row),
        # What is still owed (a recovery order), else None.
        "amount": None if row["dl_amount"] is None else f"{row['dl_amount']:.2f}",
    }


def due_date(deadline: dict[str, Any]) -> date:
    """The day a deadline falls due (the avance's is set to the minute: its day in Europe/Paris)."""
    due = deadline["due"]
    return timezone.localtime(due).date() if hasattr(due, "hour") else due


def _moment(today: date | None) -> tuple[date, datetime]:
    if today is None:
        return timezone.localdate(), timezone.now()
    # As of the start of that day in Europe/Paris.
    return today, timezone.make_aware(datetime.combine(today, time.min))


def deadlines_for(organisation: Organisation, due_before: date | None = None, today: date | None = None,
                  kinds: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """The organisation's upcoming and overdue deadlines, soonest first (one query).

    `kinds=[Kind.MAINTENANCE_END]` is the report of maintenance coverage expiries.
    """
    today, now = _moment(today)
    return [as_deadline(row, today=today, now=now)
            for row in deadline_queryset(organisation, due_before=due_before, today=today, kinds=kinds)]


def is_reminder_day(deadline: dict[str, Any]) -> bool:
    """Whether a reminder for this deadline goes out today (D-30, D-7, D-1 for the avance; weekly for some)."""
    days_left = deadline["days_left"]
    if deadline["kind"] in WEEKLY_KINDS:
        return days_left <= 0 and days_left % 7 == 0
    return days_left in REMINDER_DAYS.get(deadline["kind"], frozenset())


def reminders_for(organisation: Organisation, today: date | None = None) -> list[dict[str, Any]]:
    """The deadlines to remind today (one query)."""
    today = today or timezone.localdate()
    upcoming = deadlines_for(organisation, due_before=today + timedelta(days=REMINDER_HORIZON_DAYS), today=today)
    return [deadline for deadline in upcoming if is_reminder_day(deadline)]
