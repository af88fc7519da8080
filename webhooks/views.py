"""Webhook pages (organisation admins): endpoints, their delivery log with redelivery, secret rotation."""
from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods, require_POST

from segurtrack.errors import InvalidInput
from organisations.decorators import member_required
from organisations.models import Role

from . import services
from .forms import EndpointForm
from .models import Delivery, Endpoint

LOG_LENGTH = 50

admin_required = member_required(role=Role.ADMIN, refusal=_lazy(
    "Seuls les administrateurs de l'organisation gèrent les webhooks."))


def _endpoint(request: HttpRequest, pk: int) -> Endpoint:
    return get_object_or_404(Endpoint, pk=pk, organisation_id=request.membership.organisation_id)


def _refused(form: EndpointForm, refused: InvalidInput) -> None:
    for field, errors in refused.errors.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


def _secret_page(request: HttpRequest, endpoint: Endpoint, *, created: bool) -> HttpResponse:
    return render(request, "webhooks/secret.html", {"endpoint": endpoint, "created": created})


@require_http_methods(["GET", "POST"])
@admin_required
def endpoints(request: HttpRequest) -> HttpResponse:
    """The organisation's endpoints; POST adds one and shows its secret, once."""
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = services.create_endpoint(organisation=request.membership.organisation, by=request.user,
                                                **form.cleaned_data)
        except InvalidInput as refused:
            _refused(form, refused)
        else:
            return _secret_page(request, endpoint, created=True)
    rows = Endpoint.objects.filter(organisation_id=request.membership.organisation_id).order_by("id")
    return render(request, "webhooks/endpoints.html", {"endpoints": rows, "form": form},
                  status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@admin_required
def endpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One endpoint: its settings (POST saves them) and its latest deliveries."""
    endpoint = _endpoint(request, pk)
    initial = {"url": endpoint.url, "events": endpoint.events, "active": endpoint.active}
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_endpoint(endpoint, by=request.user, changes=form.cleaned_data)
        except InvalidInput as refused:
            _refused(form, refused)
            endpoint.refresh_from_db()
        else:
            messages.success(request, _("Point de réception enregistré."))
            return redirect("webhooks:endpoint", pk=endpoint.pk)
    deliveries = endpoint.deliveries.order_by("-id")[:LOG_LENGTH]
    return render(request, "webhooks/endpoint.html", {"endpoint": endpoint, "form": form, "deliveries": deliveries},
                  status=400 if form.errors else 200)


@require_POST
@admin_required
def endpoint_delete(request: HttpRequest, pk: int) -> HttpResponse:
    services.delete_endpoint(_endpoint(request, pk), by=request.user)
    messages.success(request, _("Point de réception supprimé."))
    return redirect("webhooks:endpoints")


@require_POST
@admin_required
def endpoint_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    services.rotate_secret(endpoint, by=request.user)
    return _secret_page(request, endpoint, created=False)


@require_POST
@admin_required
def redeliver(request: HttpRequest, pk: int, delivery_pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    delivery = get_object_or_404(Delivery, pk=delivery_pk, endpoint=endpoint)
    try:
        services.redeliver(delivery, by=request.user)
    except InvalidInput as refused:
        for errors in refused.errors.values():
            for error in errors:
                messages.error(request, error)
    else:
        messages.success(request, _("Livraison n° %(id)s remise en file d'envoi.") % {"id": delivery.pk})
    return redirect("webhooks:endpoint", pk=endpoint.pk)
