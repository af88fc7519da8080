"""Which organisation a request acts for, and with which role."""
from __future__ import annotations

from django.http import HttpRequest

from .models import Membership

SESSION_KEY = "organisation_id"


def session_membership(request: HttpRequest) -> Membership | None:
    """The membership chosen in the session, else the user's first one."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    memberships = Membership.objects.select_related("organisation").filter(user=user)
    chosen = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if chosen is not None:
        membership = next((m for m in memberships if m.organisation_id == chosen), None)
        if membership is not None:
            return membership
    return memberships.order_by("organisation__name").first()
