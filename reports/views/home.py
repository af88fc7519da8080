"""The home page: the dossiers that need action, with counts."""
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dossiers.views.common import member_required

from .. import queries


@require_GET
@member_required
def home(request: HttpRequest) -> HttpResponse:
    summary = queries.home(request.membership.organisation)
    return render(request, "reports/home.html", {"summary": summary, "deadline_days": queries.AVANCE_DEADLINE_DAYS})
