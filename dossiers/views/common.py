"""What every page view shares: the current membership, role checks, errors from the services."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from organisations.decorators import member_required as guard
from organisations.models import Role

from segurtrack.errors import NotPermitted

from ..models import TRANSITION_LABELS
from ..models import Dossier, State
from ..services import Outcome


def member_required(view: Callable | None = None, *, role: str = Role.VIEWER):
    """The shared page guard (signed in, member, at least `role`); a service's NotPermitted is the 403 page too.

    The service checks the role again, under its lock, so a role changed meanwhile still refuses.
    """
    def decorate(func: Callable) -> Callable:
        @wraps(func)
        def refusing(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            try:
                return func(request, *args, **kwargs)
            except NotPermitted as refused:
                raise PermissionDenied(str(refused))
        return guard(refusing, role=role)
    return decorate(view) if view is not None else decorate


def organisation_id(request: HttpRequest) -> int:
    return request.membership.organisation_id


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The `next` field of a form when it points inside the site, else the fallback."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return fallback


def require_can_act(request: HttpRequest) -> None:
    """For pages that read for every member and write for managers: refuse the write to the others."""
    if not request.membership.can_act:
        raise PermissionDenied(_("Votre rôle ne permet pas cette action."))


def own_dossier(request: HttpRequest, pk: int) -> Dossier:
    """The dossier if the current organisation owns it, else 404 (before any role or input check is shown)."""
    return get_object_or_404(Dossier.objects.only("id", "reference", "state"), pk=pk,
                             organisation_id=organisation_id(request))


def announce_transition(request: HttpRequest, outcome: Outcome, name: str) -> None:
    """The message a step leaves on the next page: what was recorded, the state now, and any warnings."""
    messages.success(request, _("« %(action)s » enregistré : le dossier est maintenant « %(state)s ».") % {
        "action": TRANSITION_LABELS.get(name, name), "state": State(outcome.dossier.state).label})
    for warning in outcome.warnings:
        messages.warning(request, f"{warning.message} ({warning.rule})")
