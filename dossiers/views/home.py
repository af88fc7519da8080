"""The home page: the dossiers that need action, with counts."""
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .. import selectors
from .common import member_required


@require_GET
@member_required
def home(request: HttpRequest) -> HttpResponse:
    summary = selectors.home(request.membership.organisation)
    return render(request, "dossiers/home.html", {"summary": summary,
                                                  "deadline_days": selectors.AVANCE_DEADLINE_DAYS})
