"""Reads of VA requests: by token, per dossier, the list filter and the pending-VA report's figures."""
from __future__ import annotations

from statistics import median
from typing import Any

from django.db import connection
from django.db.models import Aggregate, Count, Exists, F, FloatField, OuterRef, Q, QuerySet
from django.db.models.functions import Extract

from django.utils import timezone

from dossiers import queries as dossier_queries
from dossiers.models import Document, DocumentKind, Dossier, State

from .models import VaRequest, digest_of

PUBLIC_RELATED = ("organisation", "dossier__client", "dossier__solution", "dossier__dispositif")


def by_token(token: str) -> VaRequest | None:
    """The request a token opens, whatever its status (the caller decides what a closed one shows), or None."""
    if not token or len(token) > 128:
        return None
    return VaRequest.objects.select_related(*PUBLIC_RELATED).filter(token_digest=digest_of(token)).first()


def latest_draft(dossier_id: int) -> Document | None:
    """The unsigned VA the vendor attached last, if any."""
    return (Document.objects.filter(dossier_id=dossier_id, kind=DocumentKind.VA_DRAFT)
            .order_by("-uploaded_at", "-id").first())


def requests_of(dossier_id: int) -> list[VaRequest]:
    return list(VaRequest.objects.filter(dossier_id=dossier_id).order_by("-created_at", "-id"))


def of_organisation(organisation_id: int) -> QuerySet[VaRequest]:
    return VaRequest.objects.filter(organisation_id=organisation_id)


# --- the dossier list's filter -------------------------------------------------------------------------------------

def open_request_of_dossier() -> Exists:
    return Exists(VaRequest.objects.open().filter(dossier_id=OuterRef("pk")))


def filter_dossiers(queryset: QuerySet[Dossier], value: str) -> QuerySet[Dossier]:
    """`open`: a VA was asked and is not returned (link still open); `returned`: a signatory returned it."""
    if value == "open":
        return queryset.filter(open_request_of_dossier())
    if value == "returned":
        return queryset.filter(Exists(VaRequest.objects.filter(dossier_id=OuterRef("pk"),
                                                               status=VaRequest.Status.RETURNED)))
    return queryset


# --- the pending-VA report ---------------------------------------------------------------------------------------

class Median(Aggregate):
    """PostgreSQL's exact median (percentile_cont); other databases compute it in Python."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def median_days_to_return(returned: QuerySet[VaRequest]) -> float | None:
    seconds = Extract(F("returned_at") - F("created_at"), "epoch") if connection.vendor == "postgresql" else None
    if seconds is not None:
        value = returned.aggregate(m=Median(seconds))["m"]
        return None if value is None else round(value / 86400, 1)
    spans = [(r - c).total_seconds() for c, r in returned.values_list("created_at", "returned_at")]
    return round(median(spans) / 86400, 1) if spans else None


def pending_va_figures(scope: int | None, filters: dict[str, Any], pending: QuerySet[Dossier], *,
                       total: int | None = None) -> dict[str, Any]:
    """Share of pending VAs with an open request, and the median days from request to return (two queries).
    `total`: the pending VAs, when the report already counted them (its kept summary); counted here otherwise.

    The open requests are read from the requests' side (the organisation's open ones, their dossier among the
    pending): a few rows, where counting from the dossiers' side tested every deployed dossier."""
    if (total is not None and scope is not None and connection.vendor == "postgresql"
            and not any(value not in (None, "") for value in filters.values())):
        return _unfiltered_figures(scope, total)
    open_requests = VaRequest.objects.open().filter(dossier__in=pending.values("pk"))
    if scope is not None:
        open_requests = open_requests.filter(organisation_id=scope)
    if total is None:
        counts = pending.aggregate(total=Count("id"), with_open=Count("id", filter=Q(open_request_of_dossier())))
        total, with_open = counts["total"], counts["with_open"]
    else:
        with_open = open_requests.values("dossier_id").distinct().count()
    scoped = dossier_queries.filter_dossiers(dossier_queries.dossiers_of(scope), filters)
    returned = VaRequest.objects.filter(status=VaRequest.Status.RETURNED, dossier__in=scoped.values("pk"))
    if scope is not None:
        returned = returned.filter(organisation_id=scope)
    return {
        "va_requests_open": with_open,
        "va_requests_open_share": round(with_open / total, 3) if total else None,
        "va_return_median_days": median_days_to_return(returned),
    }


# The figures of one organisation's whole report (no filter, the page's default), written out: the ORM took longer to
# build and compile its two statements (a few ms: `filter_dossiers`, two subqueries) than the database to answer
# them. Same figures as the ORM's (tests/varequests/test_pending_va_figures_sql.py).
_UNFILTERED_FIGURES = f"""
SELECT (SELECT COUNT(DISTINCT v.dossier_id) FROM {VaRequest._meta.db_table} v
        JOIN {Dossier._meta.db_table} d ON d.id = v.dossier_id
        WHERE v.organisation_id = %(org)s AND d.organisation_id = %(org)s AND d.state = %(deployed)s
          AND v.status = ANY(%(open)s) AND v.expires_at > %(now)s),
       (SELECT PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM (v.returned_at - v.created_at)))
        FROM {VaRequest._meta.db_table} v JOIN {Dossier._meta.db_table} d ON d.id = v.dossier_id
        WHERE v.organisation_id = %(org)s AND d.organisation_id = %(org)s AND v.status = %(returned)s)"""


def _unfiltered_figures(scope: int | Any, total: int) -> dict[str, Any]:
    """`pending_va_figures` of an organisation's report without filter, in one statement (PostgreSQL)."""
    organisation_id = getattr(scope, "pk", scope)
    with connection.cursor() as cursor:
        cursor.execute(_UNFILTERED_FIGURES, {
            "org": organisation_id, "deployed": State.DEPLOYED.value, "open": [str(status) for status in VaRequest.OPEN_STATUSES],
            "now": timezone.now(), "returned": VaRequest.Status.RETURNED.value})
        with_open, seconds = cursor.fetchone()
    return {
        "va_requests_open": with_open,
        "va_requests_open_share": round(with_open / total, 3) if total else None,
        "va_return_median_days": None if seconds is None else round(float(seconds) / 86400, 1),
    }
