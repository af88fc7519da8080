"""The reports and the deadlines of the API (API.md): thin views over the report objects (`reports.generators`).

Choices: the pending-VA `results` use the standard pagination (`page`, `page_size`; `count`, `next`, `previous`
beside the summary, which always covers every matching dossier); its CSV and XLSX exports are separate routes
(`export.csv`, `export.xlsx`), since `?format=` is DRF's renderer switch. Platform staff (`is_staff`) see every
organisation in the reports and may filter on one (`organisation`); for members that filter only narrows
their own organisation's data.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import generics, permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from segurtrack.api.pagination import Pagination
from dossiers.api.schema import answers
from dossiers.models import Dossier, State
from organisations.permissions import IsOrganisationMember, request_membership, token_allows

from .. import deadlines as dl, generators, queries
from .exports import FILE_ANSWERS, PassThroughNegotiation, file_answer
from .params import (
    PAGE_PARAMETERS, REPORT_PARAMETERS, DeadlineFilterSerializer, bad_input, report_filters, report_scope,
)


class ReportReader(permissions.BasePermission):
    """Members of an organisation, and platform staff (who see every organisation's reports)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if user is None or not user.is_authenticated:
            return False
        if not token_allows(request, view):
            return False
        return bool(user.is_staff or request_membership(request) is not None)


# --- pending VA -------------------------------------------------------------------------------------------------------

class MoneyField(serializers.DecimalField):
    def __init__(self, **kwargs: Any):
        super().__init__(max_digits=14, decimal_places=2, coerce_to_string=True, **kwargs)


class BucketSerializer(serializers.Serializer):
    label = serializers.ChoiceField(choices=[label for label, _l, _h in queries.PENDING_VA_BUCKETS])
    count = serializers.IntegerField()


class DispositifCountSerializer(serializers.Serializer):
    dispositif = serializers.CharField()
    count = serializers.IntegerField()
    overdue = serializers.IntegerField()


class PartySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PendingVaClientSerializer(PartySerializer):
    finess_geo = serializers.CharField()
    siret = serializers.CharField()


class PendingVaSolutionSerializer(PartySerializer):
    version = serializers.CharField()


class PendingVaRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    organisation = serializers.IntegerField()
    client = PendingVaClientSerializer()
    solution = PendingVaSolutionSerializer()
    dispositif = serializers.CharField()
    couloir = serializers.CharField()
    deployed_on = serializers.DateField()
    age_days = serializers.IntegerField(help_text=gettext_lazy("Aujourd'hui (Europe/Paris) moins deployed_on."))
    overdue = serializers.BooleanField(help_text=gettext_lazy("Âge supérieur au délai de VA de l'organisation."))
    declared_amount = MoneyField(allow_null=True, help_text=gettext_lazy("Montant déclaré en vigueur (avenants inclus)."))
    avance_paid_total = MoneyField(help_text=gettext_lazy("Avance payée, avenants payés inclus."))
    amount_at_stake = MoneyField()
    url = serializers.CharField()


class PendingVaReportSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    overdue = serializers.IntegerField()
    amount_at_stake = MoneyField(help_text=gettext_lazy("Somme de (montant déclaré en vigueur − avance payée)."))
    buckets = BucketSerializer(many=True)
    by_dispositif = DispositifCountSerializer(many=True)
    count = serializers.IntegerField(help_text=gettext_lazy("Nombre de lignes de `results`, toutes pages."))
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = PendingVaRowSerializer(many=True)


def pending_va_item(item: queries.PendingVa) -> dict[str, Any]:
    row = item.row
    return {
        "id": row["id"], "reference": row["reference"], "organisation": row["organisation_id"],
        "client": {"id": row["client_id"], "name": row["client__name"], "finess_geo": row["client__finess_geo"],
                   "siret": row["client__siret"]},
        "solution": {"id": row["solution_id"], "name": row["solution__name"], "version": row["solution__version"]},
        "dispositif": row["dispositif__code"], "couloir": row["dispositif__couloir_id"],
        "deployed_on": row["deployed_on"], "age_days": item.age_days, "overdue": item.overdue,
        "declared_amount": row["declared_amount"], "avance_paid_total": row["avance_paid_total"],
        "amount_at_stake": item.amount_at_stake, "url": reverse("api:dossier-detail", args=[row["id"]]),
    }


class PagedRows(generics.GenericAPIView):
    # Rows a report computes, paginated as every list of the API.
    queryset = Dossier.objects.none()  # the schema generator asks for a model; rows come from the report
    pagination_class = Pagination


class PendingVaReport(PagedRows):
    permission_classes = [ReportReader]
    serializer_class = PendingVaReportSerializer

    @extend_schema(summary="VA en attente (dossiers déployés) : totaux, tranches d'âge, par dispositif, dossiers",
                   parameters=REPORT_PARAMETERS + PAGE_PARAMETERS,
                   responses=answers({200: PendingVaReportSerializer}, bad_input=True, not_found=True))
    def get(self, request: Request) -> Response:
        filters, error = report_filters(request)
        if error:
            return error
        report = generators.PendingVaReport(report_scope(request), filters)
        page = self.paginate_queryset(report.paginated())
        body = {
            **report.summary,
            "count": self.paginator.page.paginator.count,
            "next": self.paginator.get_next_link(), "previous": self.paginator.get_previous_link(),
            "results": [pending_va_item(report.item(row)) for row in page],
        }
        return Response({**PendingVaReportSerializer(body).data, **report.figures()})


# A report's rows as CSV or XLSX (`fmt`), with the report's filters (a comment: a docstring would be the
# operations' description in the schema).
class ReportExport(APIView):
    permission_classes = [ReportReader]
    content_negotiation_class = PassThroughNegotiation
    report: type[generators.PendingVaReport | generators.PipelineReport]

    def get(self, request: Request, fmt: str):
        filters, error = report_filters(request)
        if error:
            return error
        return file_answer(self.report(report_scope(request), filters), fmt)


@extend_schema_view(get=extend_schema(
    summary="VA en attente : export CSV ou XLSX des mêmes lignes (en-têtes en français)",
    parameters=REPORT_PARAMETERS, responses=answers(FILE_ANSWERS, bad_input=True, not_found=True)))
class PendingVaExport(ReportExport):
    report = generators.PendingVaReport


# --- pipeline ---------------------------------------------------------------------------------------------------------

class PipelineStateSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=State.choices)
    label = serializers.CharField()
    count = serializers.IntegerField()
    declared_amount = MoneyField(help_text=gettext_lazy("Montant déclaré en vigueur (avenants inclus)."))
    avance_paid = MoneyField(help_text=gettext_lazy("Avance payée, avenants payés inclus."))
    solde_paid = MoneyField()


class PipelineTotalSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    declared_amount = MoneyField()
    avance_paid = MoneyField()
    solde_paid = MoneyField()


class PipelineSerializer(serializers.Serializer):
    states = PipelineStateSerializer(many=True)
    totals = PipelineTotalSerializer()


class PipelineReport(APIView):
    permission_classes = [ReportReader]

    @extend_schema(summary="Pipeline : nombre et montants par état (tous les états, zéros compris)",
                   parameters=REPORT_PARAMETERS, responses=answers({200: PipelineSerializer}, bad_input=True))
    def get(self, request: Request) -> Response:
        filters, error = report_filters(request)
        if error:
            return error
        report = generators.PipelineReport(report_scope(request), filters)
        return Response(PipelineSerializer({"states": report.states, "totals": report.totals}).data)


@extend_schema_view(get=extend_schema(
    summary="Pipeline : export CSV ou XLSX (un état par ligne, puis le total ; en-têtes en français)",
    parameters=REPORT_PARAMETERS, responses=answers(FILE_ANSWERS, bad_input=True, not_found=True)))
class PipelineExport(ReportExport):
    report = generators.PipelineReport


# --- deadlines --------------------------------------------------------------------------------------------------------

@extend_schema_field(OpenApiTypes.STR)
class DueField(serializers.Field):
    """A date (`YYYY-MM-DD`), or a datetime with its offset for deadlines set to the minute (avance filing)."""

    def to_representation(self, value: date | datetime) -> str:
        return value.isoformat()


class DeadlineSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[(k, dl.LABELS[k]) for k in dl.KINDS])
    label = serializers.CharField()
    due = DueField(help_text=gettext_lazy("Date, ou date et heure (Europe/Paris) pour l'avance."))
    overdue = serializers.BooleanField()
    days_left = serializers.IntegerField(help_text=gettext_lazy("Négatif en cas de retard."))
    dossier = serializers.IntegerField(allow_null=True)
    reference = serializers.CharField(allow_null=True)
    client_id = serializers.IntegerField(allow_null=True)
    client = serializers.CharField(allow_null=True)
    solution_id = serializers.IntegerField(allow_null=True)
    solution = serializers.CharField(allow_null=True)
    object_id = serializers.IntegerField(allow_null=True, help_text=gettext_lazy(
        "Id de la demande de portabilité ou de la modification de solution concernée."))
    url = serializers.CharField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True, required=False,
                                      help_text=gettext_lazy("Reste dû pour un ordre de recouvrement, sinon null."))


class DeadlineList(PagedRows):
    permission_classes = [IsOrganisationMember]
    serializer_class = DeadlineSerializer

    @extend_schema(summary="Échéances de l'organisation, à venir et en retard, la plus proche d'abord",
                   parameters=[OpenApiParameter("due_before", OpenApiTypes.DATE, description=(
                       "Échéances au plus tard ce jour-là (AAAA-MM-JJ), retards compris.")),
                       OpenApiParameter("kind", str, many=True, enum=dl.KINDS, description=(
                           "Types d'échéance (répétable) ; maintenance_end : fins de couverture de maintenance.")),
                       *PAGE_PARAMETERS],
                   responses=answers({200: DeadlineSerializer(many=True)}, bad_input=True, not_found=True))
    def get(self, request: Request) -> Response:
        params = DeadlineFilterSerializer(data=request.query_params)
        if not params.is_valid():
            return bad_input(params.errors)
        report = generators.DeadlinesReport(request_membership(request).organisation,
                                            due_before=params.validated_data.get("due_before"),
                                            kinds=params.validated_data.get("kind") or None)
        page = self.paginate_queryset(report.paginated())
        return self.get_paginated_response([represent_deadline(deadline) for deadline in page])


def represent_deadline(deadline: dict[str, Any]) -> dict[str, Any]:
    """What `DeadlineSerializer` writes of a deadline (`reports.deadlines.Shaper`), without its per-field calls:
    every other value is already what JSON writes (tests/reports/test_deadline_shapes.py holds them equal)."""
    return {**deadline, "due": deadline["due"].isoformat()}
