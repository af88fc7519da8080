"""Every page answers in a fixed number of queries: the same with 2 or 20 dossiers, documents, history rows,
amendments, clients, solutions, PV pilotes and members, and within a budget."""
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dossiers import followups, services
from dossiers.models import AuditEntry
from dossiers.models import Dispositif, State

from ..factories import MembershipFactory, OrganisationFactory, PvPiloteFactory, SolutionFactory, attach, walk_to

# Queries per page: session, user and membership included (3), and the two of the FAQ guidance when rules
# block the dossier (measured: home 7 since it reads the kept counters, list 9, detail 8, solde 12, json 5, the others 3 to 6); the list reads the
# members its owner filter offers, the client's page its dossiers (issue 16).
BUDGET = {
    "home": 7, "dossier-list": 10, "dossier-detail": 10, "dossier-solde": 13, "dossier-solde-json": 5,
    "dossier-create": 5, "client-list": 5, "client-edit": 7, "client-create": 3, "solution-list": 4,
    "solution-detail": 8, "solution-create": 4, "members": 5, "organisation-switch": 4,
}


class World:
    """An organisation whose every collection can be grown to n items."""

    def __init__(self, membership):
        self.membership = membership
        self.organisation = membership.organisation
        self.user = membership.user
        soon = Dispositif.objects.get(code="MDV-SAS-VA1")
        soon.avance_deadline = timezone.now() + timedelta(days=10)
        soon.save()
        self.soon_solution = SolutionFactory(organisation=self.organisation, dispositif=soon)
        self.detail = walk_to(State.AVANCE_PAID, membership=membership)
        self.solde = walk_to(State.VA_SIGNED, membership=membership)
        self.filed = walk_to(State.SOLDE_FILED, membership=membership)
        self.solution = SolutionFactory(organisation=self.organisation)
        self.drafts, self.deployed, self.pv, self.members, self.other_orgs = [], [], [], [], []

    def grow(self, n: int) -> None:
        while len(self.drafts) < n:       # blocked by bdc.document, avance deadline in 10 days
            self.drafts.append(walk_to(State.DRAFT, membership=self.membership, solution=self.soon_solution))
        while len(self.deployed) < n:     # VA awaited
            self.deployed.append(walk_to(State.DEPLOYED, membership=self.membership))
        for dossier in (self.detail, self.solde, self.filed):
            while dossier.documents.count() < n:
                attach(dossier, "other", self.user)
        while self.detail.amendments.count() < n:
            services.add_amendment(self.detail.pk, by=self.user, filed_on=self.detail.avance_paid_on,
                                   amount=Decimal("10000.00") + self.detail.amendments.count())
        while len(self.pv) < n:
            self.pv.append(PvPiloteFactory(solution=self.solution, status="pending"))
        while len(self.members) < n:
            self.members.append(MembershipFactory(organisation=self.organisation, role="viewer"))
        while len(self.other_orgs) < n:   # the organisations this user may switch to
            self.other_orgs.append(MembershipFactory(user=self.user, organisation=OrganisationFactory()))
        # Follow-up records and the audit shown on the client's and the solution's pages.
        client = self.detail.client
        while client.portability_requests.count() < n:
            followups.save_portability_request(client, by=self.user, changes={
                "requested_on": date(2024, 6, 1), "channel": "written"})
        while self.solution.changes.count() < n:
            followups.save_solution_change(self.solution, by=self.user, changes={
                "changed_on": date(2024, 6, 1), "description": "Module", "affects_conformity": True})
        while AuditEntry.objects.filter(client=client).count() < n:
            client.name = f"{client.name}+"
            services.save_client(client, by=self.user)

    def urls(self) -> dict[str, str]:
        return {
            "home": reverse("home"), "dossier-list": reverse("dossier-list"),
            "dossier-detail": reverse("dossier-detail", args=[self.detail.pk]),
            "dossier-solde": reverse("dossier-solde", args=[self.solde.pk]),
            "dossier-solde-json": reverse("dossier-solde-json", args=[self.filed.pk]),
            "dossier-create": reverse("dossier-create"), "client-list": reverse("client-list"),
            "client-edit": reverse("client-edit", args=[self.detail.client_id]),
            "client-create": reverse("client-create"), "solution-list": reverse("solution-list"),
            "solution-detail": reverse("solution-detail", args=[self.solution.pk]),
            "solution-create": reverse("solution-create"), "members": reverse("members"),
            "organisation-switch": reverse("organisation-switch"),
        }


def count_queries(browser, urls: dict[str, str]) -> dict[str, int]:
    counts = {}
    for name, url in urls.items():
        with CaptureQueriesContext(connection) as captured:
            response = browser.get(url)
        assert response.status_code == 200, (url, response.status_code)
        counts[name] = len(captured.captured_queries)
    return counts


@pytest.mark.slow
def test_every_page_answers_in_a_fixed_number_of_queries(organisation, admin_membership, as_admin):
    world = World(admin_membership)
    world.grow(2)
    small = count_queries(as_admin, world.urls())
    world.grow(20)
    large = count_queries(as_admin, world.urls())
    assert small == large
    assert set(large) == set(BUDGET)
    over = {name: (count, BUDGET[name]) for name, count in large.items() if count > BUDGET[name]}
    assert not over, over
    # The grown pages do list the larger numbers (the counts are not equal because nothing is shown).
    page = as_admin.get(reverse("dossier-detail", args=[world.detail.pk])).content.decode()
    assert page.count('href="/documents/') == 20
    home = as_admin.get(reverse("home")).context["summary"]
    # The deployed dossiers wait for the client: counted apart from the 21 blocked by a rule (drafts, the VA signed).
    assert (home.avance_due_count, home.waiting_count, home.blocked_total) == (20, 20, 21)
