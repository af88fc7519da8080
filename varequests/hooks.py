"""What varequests adds to the dossiers app through its extension points (dossiers.extensions)."""
from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from dossiers.extensions import DossierPanel, ListFilter, ReportFigures
from dossiers.forms import DocumentForm
from dossiers.models import DocumentKind, State

from . import queries
from .forms import VaRequestForm


def dossier_panel(request: HttpRequest, dossier) -> dict[str, Any] | None:
    """The VA requests of the dossier page: each status, revoke, the request form and the unsigned VA upload."""
    rows = queries.requests_of(dossier.pk)
    deployed = dossier.state == State.DEPLOYED
    refused_form = getattr(request, "va_request_form", None)
    if not rows and not deployed and refused_form is None:
        return None
    can_act = request.membership.can_act
    return {
        "rows": rows, "deployed": deployed, "can_act": can_act,
        "form": refused_form or VaRequestForm(), "show_form": can_act and (deployed or refused_form is not None),
        "draft_form": DocumentForm(kinds=[DocumentKind.VA_DRAFT]),
        "drafts": [d for d in getattr(dossier, "document_rows", []) if d.kind == DocumentKind.VA_DRAFT],
    }


PANEL = DossierPanel(template="varequests/_dossier_panel.html", context=dossier_panel)
LIST_FILTER = ListFilter(name="va_request", label=_("Demande de VA"), choices=[
    ("open", _("VA demandée / non retournée")), ("returned", _("VA retournée par le signataire"))],
    apply=queries.filter_dossiers)
REPORT_FIGURES = ReportFigures(template="varequests/_pending_va_figures.html", compute=queries.pending_va_figures)
