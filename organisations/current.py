"""Which organisation a request acts for, and with which role."""
from __future__ import annotations

from django.db.models import F
from django.http import HttpRequest

from .models import Membership

SESSION_KEY = "organisation_id"


def session_membership(request: HttpRequest) -> Membership | None:
    """The membership chosen in this session, else the one the user chose last (remembered across sessions),
    else their oldest one. Never decided by organisation names: joining another organisation moves nobody."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    memberships = list(Membership.objects.select_related("organisation").filter(user=user).order_by(
        F("last_chosen_at").desc(nulls_last=True), "created_at", "pk"))
    chosen = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if chosen is not None:
        membership = next((m for m in memberships if m.organisation_id == chosen), None)
        if membership is not None:
            return membership
    return memberships[0] if memberships else None
