"""Pages: the signatory's page `/va/<token>/` (no account), and the manager's request and revoke forms.

An unknown, revoked or expired link, or one whose dossier no longer awaits a VA, answers the same 404 page,
byte for byte: it names nothing of the request. A returned link shows that it was returned and refuses a second
upload (409).
"""
from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dossiers.models import Dossier
from dossiers.services import RulesFailed
from segurtrack.errors import InvalidInput
from dossiers.views.common import member_required, organisation_id
from dossiers.views.dossier_pages import render_detail
from dossiers.views.downloads import _file_response
from organisations.models import Role

from . import queries, services, throttle
from .forms import SignedVaForm, VaRequestForm
from .models import VaRequest

PUBLIC_HEADERS = {"Referrer-Policy": "same-origin", "X-Robots-Tag": "noindex, nofollow"}


def _public(response: HttpResponse) -> HttpResponse:
    # The token is in the URL: never send it to another site in a Referer (same-origin keeps the Origin header the
    # CSRF check needs), never let a search engine keep it.
    for header, value in PUBLIC_HEADERS.items():
        response[header] = value
    return response


def not_found(request: HttpRequest) -> HttpResponse:
    return _public(render(request, "varequests/not_found.html", status=404))


def _page(request: HttpRequest, va_request: VaRequest, form: SignedVaForm, status: int = 200) -> HttpResponse:
    dossier = va_request.dossier
    return _public(render(request, "varequests/sign.html", {
        "va_request": va_request, "dossier": dossier, "client": dossier.client, "solution": dossier.solution,
        "dispositif": dossier.dispositif, "vendor": va_request.organisation, "form": form,
        "draft": queries.latest_draft(dossier.pk),
    }, status=status))


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def sign(request: HttpRequest, token: str) -> HttpResponse:
    va_request = queries.by_token(token)
    if va_request is None:
        return not_found(request)
    if va_request.status == VaRequest.Status.RETURNED:
        status = 409 if request.method == "POST" else 200
        return _public(render(request, "varequests/returned.html", {"va_request": va_request, "second": status == 409},
                              status=status))
    if not services.is_usable(va_request):
        return not_found(request)
    client = va_request.dossier.client
    if request.method == "GET":
        services.mark_opened(va_request)
        return _page(request, va_request, SignedVaForm(esms=client.is_esms, client=client))
    if not throttle.attempt(va_request.token_digest):
        return _public(render(request, "varequests/throttled.html", status=429))
    form = SignedVaForm(request.POST, request.FILES, esms=client.is_esms, client=client)
    if form.is_valid():
        try:
            services.return_va(va_request.pk, upload=form.cleaned_data["file"], prerequisites=form.prerequisites())
        except InvalidInput as invalid:
            form.add_service_errors(invalid.errors)
        except services.LinkClosed:
            return not_found(request)
        except services.AlreadyReturned:
            return _public(render(request, "varequests/returned.html", {"va_request": va_request, "second": True},
                                  status=409))
        else:
            va_request.refresh_from_db()
            return _public(render(request, "varequests/done.html", {"va_request": va_request,
                                                                    "dossier": va_request.dossier}))
    return _page(request, va_request, form, status=400)


@never_cache
@require_GET
def draft_download(request: HttpRequest, token: str) -> HttpResponse:
    """The unsigned VA the vendor attached, only through a usable link."""
    va_request = queries.by_token(token)
    if va_request is None or not services.is_usable(va_request):
        return not_found(request)
    draft = queries.latest_draft(va_request.dossier_id)
    if draft is None:
        return not_found(request)
    return _public(_file_response(draft.file, draft.filename, draft.content_type))


# --- the manager's side (dossier page) ---------------------------------------------------------------------------

@require_POST
@member_required(role=Role.MANAGER)
def request_create(request: HttpRequest, pk: int) -> HttpResponse:
    dossier = get_object_or_404(Dossier.objects.only("id"), pk=pk, organisation_id=organisation_id(request))
    form = VaRequestForm(request.POST)
    va_request, status = form.submit(lambda data: services.request_va(
        dossier.pk, by=request.user, email=data["email"], name=data["name"], message=data["message"]))
    if status == 200:
        messages.success(request, _("VA demandée à %(name)s (%(email)s) : le lien lui est envoyé par e-mail.") % {
            "name": va_request.name, "email": va_request.email})
        return redirect(f"{reverse('dossier-detail', args=[pk])}#va-requests")
    request.va_request_form = form  # the panel shows it with its errors (varequests.hooks)
    return render_detail(request, pk, status=status)


@require_POST
@member_required(role=Role.MANAGER)
def request_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    va_request = get_object_or_404(VaRequest.objects.only("id", "dossier_id"), pk=pk,
                                   organisation_id=organisation_id(request))
    try:
        services.revoke(va_request.pk, by=request.user)
    except RulesFailed as refused:
        for failure in refused.failures:
            messages.error(request, failure.message)
    else:
        messages.success(request, _("Lien révoqué : il ne peut plus servir."))
    return redirect(f"{reverse('dossier-detail', args=[va_request.dossier_id])}#va-requests")
