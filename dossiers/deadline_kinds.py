"""The deadlines of DOMAIN.md §6 computed from the data in one SQL statement (a UNION ALL of one query per kind):
the kinds, their due dates and the builder `live`, which `dossiers.deadlines` keeps and compares with what it kept.
Design choices are in `dossiers.deadlines`' docstring."""
from __future__ import annotations

from typing import Any

from django.db.models import CharField, DateField, DateTimeField, DecimalField, ExpressionWrapper, F, IntegerField, Q, QuerySet, Value
from django.db.models.functions import Cast, Coalesce, Concat, TruncDate

from .date_sql import AddDays, AddMonths
from .models import Client, Dossier, PortabilityRequest, SolutionChange, State


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


KINDS = [Kind.AVANCE_FILING, Kind.ESMS_PREREQUISITES, Kind.PENDING_VA, Kind.SOLDE_TO_FIX, Kind.AVANCE_TO_FIX,
         Kind.PORTABILITY, Kind.ANS_NOTICE, Kind.REREFERENCING, Kind.MAINTENANCE_END, Kind.RECOVERY]
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

# The readers' row (reports.deadlines.as_deadline), and the kept column each comes from.
COLUMNS = ("dl_kind", "dl_due", "dl_due_at", "dl_dossier", "dl_reference", "dl_client_id", "dl_client",
           "dl_solution_id", "dl_solution", "dl_object", "dl_amount")
KEPT_COLUMNS = {"dl_kind": "kind", "dl_due": "due_on", "dl_due_at": "due_at", "dl_dossier": "dossier_id",
                "dl_reference": "reference", "dl_client_id": "client_id", "dl_client": "client_name",
                "dl_solution_id": "solution_id", "dl_solution": "solution_label", "dl_object": "object_id",
                "dl_amount": "amount"}
ORDER = ("dl_due", "dl_due_at", "dl_kind", "dl_dossier", "dl_object")

MONEY = DecimalField(max_digits=12, decimal_places=2)


# --- computed from the data --------------------------------------------------------------------------------------

def _null(field) -> Cast:
    return Cast(Value(None), output_field=field)


def _label(prefix: str) -> Concat:
    return Concat(F(f"{prefix}name"), Value(" "), F(f"{prefix}version"), output_field=CharField())


def _dossier_columns() -> dict[str, Any]:
    return {
        "dl_organisation": F("organisation_id"), "dl_dossier": F("id"), "dl_reference": F("reference"),
        "dl_client_id": F("client_id"), "dl_client": F("client__name"), "dl_solution_id": F("solution_id"),
        "dl_solution": _label("solution__"), "dl_object": _null(IntegerField()),
    }


def _correction_due(step: str) -> Coalesce:
    """The due date recorded in jours ouvrés by the ASP's request, else the calendar fallback."""
    return Coalesce(F(f"{step}_fix_due_on"), AddDays(F(f"{step}_fix_requested_on"), CORRECTION_FALLBACK_DAYS),
                    output_field=DateField())


def _part(queryset: QuerySet, kind: str, *, due: Any, columns: dict[str, Any], due_at: Any = None,
          amount: Any = None) -> QuerySet:
    """One kind's rows, with the same columns in the same order as every other kind (for the UNION)."""
    annotations = {"dl_kind": Value(kind, output_field=CharField()), "dl_due": due,
                   "dl_due_at": due_at if due_at is not None else _null(DateTimeField()),
                   "dl_amount": amount if amount is not None else _null(MONEY), **columns}
    names = ("dl_organisation", *COLUMNS)
    return queryset.order_by().annotate(**{name: annotations[name] for name in names}).values(*names)


ALL = Q()


def _any_of(**ids: list[int]) -> Q | None:
    """`a__in=[…] OR b__in=[…]` over the non-empty lists; None when every list is empty."""
    found = [Q(**{f"{name}__in": values}) for name, values in ids.items() if values]
    if not found:
        return None
    scope = found[0]
    for one in found[1:]:
        scope |= one
    return scope


def live(dossiers: Q | None = ALL, requests: Q | None = ALL, changes: Q | None = ALL) -> QuerySet:
    """The deadlines of the dossiers, portability requests and solution changes matching each filter (None: none
    of them; default: all) as rows of `dl_organisation` and `COLUMNS`, unordered: one SQL statement."""
    parts = []
    if dossiers is not None:
        parts += _dossier_parts(Dossier.objects.filter(dossiers))
    if requests is not None:
        parts.append(_part(
            PortabilityRequest.objects.filter(requests, fulfilled_on__isnull=True),
            Kind.PORTABILITY, due=AddDays(F("requested_on"), PORTABILITY_DAYS), columns={
                "dl_organisation": F("client__organisation_id"), "dl_dossier": _null(IntegerField()),
                "dl_reference": _null(CharField()), "dl_client_id": F("client_id"), "dl_client": F("client__name"),
                "dl_solution_id": _null(IntegerField()), "dl_solution": _null(CharField()), "dl_object": F("id")}))
    if changes is not None:
        parts += _change_parts(SolutionChange.objects.filter(changes))
    first, *others = parts
    return first.union(*others, all=True) if others else first


def _dossier_parts(dossiers: QuerySet) -> list[QuerySet]:
    incomplete_esms = (Q(client__ans_contract_signed_on__isnull=True)
                       | ~Q(client__cpe_cards__in=Client.Prerequisite.values)
                       | ~Q(client__software_certificates__in=Client.Prerequisite.values))
    return [
        _part(dossiers.filter(state__in=NOT_FILED_STATES, dispositif__avance_deadline__isnull=False),
              Kind.AVANCE_FILING, due=TruncDate("dispositif__avance_deadline"), due_at=F("dispositif__avance_deadline"),
              columns=_dossier_columns()),
        _part(dossiers.filter(incomplete_esms, client__kind=Client.Kind.ESMS, state__in=BEFORE_VA_STATES,
                              bdc_signed_on__isnull=False),
              Kind.ESMS_PREREQUISITES, due=AddDays(F("bdc_signed_on"), ESMS_PREREQUISITES_DAYS),
              columns=_dossier_columns()),
        _part(dossiers.filter(state=State.DEPLOYED, deployed_on__isnull=False),
              Kind.PENDING_VA, due=AddDays(F("deployed_on"), F("organisation__pending_va_days")),
              columns=_dossier_columns()),
        _part(dossiers.filter(state=State.SOLDE_TO_FIX, solde_fix_requested_on__isnull=False),
              Kind.SOLDE_TO_FIX, due=_correction_due("solde"), columns=_dossier_columns()),
        _part(dossiers.filter(state=State.AVANCE_TO_FIX, avance_fix_requested_on__isnull=False),
              Kind.AVANCE_TO_FIX, due=_correction_due("avance"), columns=_dossier_columns()),
        _part(dossiers.filter(state__in=AFTER_VA_STATES, va_signed_on__isnull=False, maintenance_contract=True),
              Kind.MAINTENANCE_END, due=AddMonths(F("va_signed_on"), MAINTENANCE_MONTHS),
              columns=_dossier_columns()),
        _part(dossiers.filter(state=State.RECOVERY_ISSUED, recovery_issued_on__isnull=False),
              Kind.RECOVERY, due=F("recovery_issued_on"), columns=_dossier_columns(),
              amount=ExpressionWrapper(F("avance_paid_total") - F("recovery_repaid"), output_field=MONEY)),
    ]


def _change_parts(changes: QuerySet) -> list[QuerySet]:
    columns = {
        "dl_organisation": F("solution__organisation_id"), "dl_dossier": _null(IntegerField()),
        "dl_reference": _null(CharField()), "dl_client_id": _null(IntegerField()), "dl_client": _null(CharField()),
        "dl_solution_id": F("solution_id"), "dl_solution": _label("solution__"), "dl_object": F("id"),
    }
    return [
        _part(changes.filter(affects_conformity=True, ans_notified_on__isnull=True),
              Kind.ANS_NOTICE, due=AddDays(F("changed_on"), ANS_NOTICE_DAYS), columns=columns),
        _part(changes.filter(rereferencing_requested_on__isnull=False, rereferencing_filed_on__isnull=True),
              Kind.REREFERENCING, due=AddMonths(F("rereferencing_requested_on"), REREFERENCING_MONTHS),
              columns=columns),
    ]


def of_organisations(organisations: list[int]) -> QuerySet:
    """Every deadline of these organisations, computed from the data (`live`)."""
    return live(Q(organisation_id__in=organisations), Q(client__organisation_id__in=organisations),
                Q(solution__organisation_id__in=organisations))
