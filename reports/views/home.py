"""The home page: the dossiers that need action, with counts."""
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from dossiers.views.common import member_required

from .. import queries
from .home_rows import home_blocked_groups, home_deadline_rows, home_state_chips, home_waiting_rows


def _link(deadline: dict[str, Any]) -> tuple[str, str]:
    """The page a deadline links to and what it names (a dossier, a client, a solution), as on /echeances/."""
    if deadline["dossier"] is not None:
        return reverse("dossier-detail", args=[deadline["dossier"]]), deadline["reference"] or f"#{deadline['dossier']}"
    if deadline["solution_id"] is not None and deadline["client_id"] is None:
        return reverse("solution-detail", args=[deadline["solution_id"]]) + "#modifications", deadline["solution"]
    return reverse("client-edit", args=[deadline["client_id"]]) + "#portabilite", deadline["client"]


@require_GET
@member_required
def home(request: HttpRequest) -> HttpResponse:
    summary = queries.home(request.membership.organisation)
    for deadline in summary.deadlines:
        deadline["page_url"], deadline["target"] = _link(deadline)
        deadline["is_datetime"] = hasattr(deadline["due"], "hour")
        deadline["late_days"] = max(-deadline["days_left"], 0)
    return render(request, "reports/home.html", {
        "summary": summary, "deadline_days": queries.AVANCE_DEADLINE_DAYS,
        "deadline_rows": home_deadline_rows(summary.deadlines), "waiting_rows": home_waiting_rows(summary.waiting),
        "state_chips": home_state_chips(summary.state_counts),
        "blocked_groups": home_blocked_groups(summary.blocked_rules)})
