"""Attach the current membership to each browser request (lazily: one query, only when used); hold pages until an
initial password is changed."""
from django.shortcuts import redirect
from django.utils.functional import SimpleLazyObject

from .current import session_membership
from .passwords import SESSION_FLAG


class CurrentOrganisationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = SimpleLazyObject(lambda: session_membership(request))
        return self.get_response(request)


class PasswordChangeRequiredMiddleware:
    """Pages wait until a user whose password someone else chose has chosen their own (the API never waits:
    tokens and scripts are not people at a sign-in form)."""

    ALLOWED = ("/api/", "/static/", "/password/", "/logout/", "/invitations/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if (session is not None and session.get(SESSION_FLAG) and request.user.is_authenticated
                and not request.path.startswith(self.ALLOWED)):
            return redirect("password_change")
        return self.get_response(request)
