"""The page guard every app shares: signed in, member of the current organisation, holding a role."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from .models import Role


def member_required(view: Callable | None = None, *, role: str = Role.VIEWER, refusal: str | None = None):
    """Anonymous users go to the sign-in page; members below `role` get the 403 page (with `refusal`)."""
    def decorate(func: Callable) -> Callable:
        @wraps(func)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = request.membership
            if not membership:
                raise PermissionDenied(_("Vous n'êtes membre d'aucune organisation."))
            if not membership.has_role(role):
                raise PermissionDenied(refusal or _("Votre rôle ne permet pas cette action."))
            return func(request, *args, **kwargs)
        return wrapper
    return decorate(view) if view is not None else decorate
