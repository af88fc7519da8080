"""Permission-checked downloads: a document or a PV pilote of the current organisation, never another's."""
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from ..models import Document, PvPilote


def _organisation_id(request) -> int:
    membership = request.membership
    if not membership:
        raise Http404
    return membership.organisation_id


def _file_response(field, filename: str, content_type: str) -> FileResponse:
    try:
        handle = field.open("rb")
    except FileNotFoundError:
        raise Http404
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


@require_GET
@login_required
def download_document(request, pk: int):
    document = get_object_or_404(Document, pk=pk, organisation_id=_organisation_id(request))
    return _file_response(document.file, document.filename, document.content_type)


@require_GET
@login_required
def download_pv_pilote(request, pk: int):
    pv = get_object_or_404(PvPilote, pk=pk, solution__organisation_id=_organisation_id(request))
    return _file_response(pv.file, pv.filename, "application/pdf")
