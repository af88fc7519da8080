"""Every page and every GET endpoint of the API, walked from the URL patterns: the same number of queries with 3
dossiers and with 12, and no more than its budget below, so a new N+1 (or a new route without a budget) fails.

Each route is called on an object of the test organisation (the dossier page on one of its dossiers, …) by its
admin: signed in for the pages, with an API token for /api/v1/. A route that cannot be called with GET is listed in
EXCLUDED with the reason; every route of the URL configuration must be in one table or the other.
"""
from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from dossiers import followups, services, tasks
from dossiers.models import Dossier, Notification, State
from faqref.models import Entry
from imports import samples
from imports import services as imports_services
from organisations.models import ApiToken
from organisations.services import invite_member
from reports import calendar
from reports import services as report_services
from reports import tasks as report_tasks
from varequests import services as va_services
from webhooks import services as webhook_services
from webhooks.models import Delivery

from .factories import PvPiloteFactory, attach, walk_to
from .faqref.conftest import DEMO_0, DEMO_1
from .pages.conftest import signed_in

# Queries per route with the admin signed in (pages: session, then user with membership, included) or by token (API: the
# token and its membership included), measured on this world.
BUDGET: dict[str, int] = {
    "dossiers/<int:pk>/corriger/<slug:step>/": 3,
    "documents/<int:pk>/remplacer/": 3,
    "documents/<int:pk>/retirer/": 3,
    "dossiers/<int:pk>/solde/brouillon/supprimer/": 3,
    "dossiers/export.csv": 5,
    "dossiers/export.xlsx": 5,
    "echeances/export.csv": 3,
    "echeances/export.xlsx": 3,
    "api/v1/faq/": 2,
    "api/v1/faq/<int:pk>/": 6,
    "api/v1/tokens/": 3,
    "api/v1/tokens/<int:token_id>/": 2,
    "api/v1/imports/": 3,
    "api/v1/imports/<int:import_id>/": 2,
    "api/v1/imports/<int:import_id>/report/": 2,
    "api/v1/webhooks/": 3,
    "api/v1/webhooks/<int:webhook_id>/": 2,
    "api/v1/webhooks/<int:webhook_id>/deliveries/": 3,
    "api/v1/dossiers/<int:dossier_id>/va-requests/": 4,
    "api/v1/dossiers/<int:dossier_id>/va-requests/<int:va_request_id>/": 3,
    "api/v1/reports/pending-va/": 4,
    "api/v1/^reports/pending-va/export\\.(?P<fmt>csv|xlsx)$": 2,
    "api/v1/reports/pipeline/": 2,
    "api/v1/deadlines/": 3,
    "api/v1/exports/": 3,
    "api/v1/exports/<int:export_id>/": 2,
    "api/v1/exports/<int:export_id>/download/": 2,
    "api/v1/^reports/pipeline/export\\.(?P<fmt>csv|xlsx)$": 2,
    "api/v1/schema/": 1,
    "api/v1/docs/": 2,
    "api/v1/dispositifs/": 3,
    "api/v1/solutions/": 3,
    "api/v1/solutions/<int:solution_id>/": 2,
    "api/v1/solutions/<int:solution_id>/pv-pilotes/": 4,
    "api/v1/solutions/<int:solution_id>/pv-pilotes/<int:pv_pilote_id>/": 3,
    "api/v1/solutions/<int:solution_id>/pv-pilotes/<int:pv_pilote_id>/download/": 3,
    "api/v1/clients/": 3,
    "api/v1/clients/<int:client_id>/": 2,
    "api/v1/dossiers/": 3,
    "api/v1/dossiers/<int:dossier_id>/": 2,
    "api/v1/dossiers/<int:dossier_id>/history/": 3,
    "api/v1/dossiers/<int:dossier_id>/documents/": 4,
    "api/v1/dossiers/<int:dossier_id>/documents/<int:document_id>/download/": 3,
    "api/v1/dossiers/<int:dossier_id>/amendments/": 4,
    "api/v1/dossiers/<int:dossier_id>/amendments/<int:amendment_id>/": 3,
    "api/v1/dossiers/<int:dossier_id>/checklist/": 6,
    "api/v1/dossiers/<int:dossier_id>/solde.json": 2,
    "api/v1/clients/<int:client_id>/portability-requests/": 4,
    "api/v1/clients/<int:client_id>/portability-requests/<int:portability_request_id>/": 3,
    "api/v1/clients/<int:client_id>/history/": 3,
    "api/v1/solutions/<int:solution_id>/changes/": 4,
    "api/v1/solutions/<int:solution_id>/changes/<int:solution_change_id>/": 3,
    "api/v1/solutions/<int:solution_id>/history/": 3,
    "api/v1/": 0,
    "faq/": 5,
    "faq/<int:pk>/": 7,
    "va/<str:token>/": 4,
    "va/<str:token>/va-a-signer/": 4,
    "imports/": 4,
    "imports/<int:pk>/": 3,
    "imports/<int:pk>/statut/": 3,
    "imports/<int:pk>/rapport/": 3,
    "webhooks/": 3,
    "webhooks/<int:pk>/": 4,
    "login/": 2,
    "password/change/": 2,
    "password/change/done/": 2,
    "password/reset/": 2,
    "password/reset/sent/": 2,
    "password/reset/<uidb64>/<token>/": 2,
    "password/reset/complete/": 2,
    "organisation/": 3,
    "organisation/members/": 4,
    "invitations/<str:token>/": 3,
    "account/tokens/": 3,
    "dossiers/": 9,
    "dossiers/new/": 4,
    "dossiers/<int:pk>/": 10,
    "dossiers/<int:pk>/solde/": 7,
    "dossiers/<int:pk>/solde.json": 4,
    "clients/": 4,
    "clients/new/": 2,
    "clients/identifier-check/": 2,
    "clients/<int:pk>/": 6,
    "solutions/": 3,
    "solutions/new/": 3,
    "solutions/<int:pk>/": 7,
    "documents/<int:pk>/": 3,
    "pv-pilotes/<int:pk>/": 3,
    "notifications/": 5,
    "notifications/non-lues/": 3,
    "dossiers/actions/": 2,
    "dossiers/actions/releve/": 2,
    "dossiers/actions/reassigner/": 2,
    "activite/": 5,
    "notifications/<int:pk>/": 4,
    "notifications/preferences/": 3,
    "": 11,
    "echeances/": 4,
    "echeances/agenda/": 3,
    "rapports/va-en-attente/": 7,
    "rapports/exports/<int:pk>/": 3,
    "rapports/pipeline/": 4,
    "agenda/<str:key>.ics": 4,
    "health/": 2,
}

# The answer a route gives here when it is not 200, and why it is still worth counting.
STATUS = {
    "api/v1/": 404,                     # the API's catch-all: the contract's 404 body for an unknown address
    "login/": 302,                      # a signed-in user is sent on to the home page
    "dossiers/actions/": 302,           # the bulk form without a selection goes back to the list
    "dossiers/actions/reassigner/": 302,  # likewise
    "notifications/<int:pk>/": 302,     # opening a notification marks it read and goes to its dossier
}
# Query strings some routes need to answer 200.
QUERY = {
    "clients/identifier-check/": lambda w: f"?finess_geo={w.client.finess_geo}",
}

# Routes not called, and why.
POST_ONLY = "POST only (a write: its service and its permission are tested with the page or the endpoint)"
EXCLUDED: dict[str, str] = {
    "api/v1/faq/<int:pk>/vote/": POST_ONLY,
    "api/v1/webhooks/<int:webhook_id>/rotate-secret/": POST_ONLY,
    "api/v1/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/redeliver/": POST_ONLY,
    "api/v1/dossiers/<int:dossier_id>/va-requests/<int:va_request_id>/revoke/": POST_ONLY,
    "api/v1/dossiers/bulk-transitions/": POST_ONLY,
    "api/v1/dossiers/<int:dossier_id>/transitions/<slug:name>/": POST_ONLY,
    "va/dossiers/<int:pk>/demandes/": POST_ONLY,
    "va/demandes/<int:pk>/revoquer/": POST_ONLY,
    "imports/<int:pk>/confirmer/": POST_ONLY,
    "webhooks/<int:pk>/delete/": POST_ONLY,
    "webhooks/<int:pk>/rotate-secret/": POST_ONLY,
    "webhooks/<int:pk>/deliveries/<int:delivery_pk>/redeliver/": POST_ONLY,
    "logout/": POST_ONLY,
    "organisation/members/<int:pk>/role/": POST_ONLY,
    "organisation/members/<int:pk>/remove/": POST_ONLY,
    "organisation/invitations/<int:pk>/revoke/": POST_ONLY,
    "account/tokens/<int:pk>/revoke/": POST_ONLY,
    "dossiers/<int:pk>/transitions/<slug:name>/": POST_ONLY,
    "dossiers/<int:pk>/documents/": POST_ONLY,
    "dossiers/<int:pk>/amendments/": POST_ONLY,
    "dossiers/<int:pk>/scenario/": POST_ONLY,
    "dossiers/<int:pk>/installation/": POST_ONLY,
    "dossiers/<int:pk>/solde/file/": POST_ONLY,
    "amendments/<int:pk>/status/": POST_ONLY,
    "solutions/<int:pk>/pv-pilotes/": POST_ONLY,
    "pv-pilotes/<int:pk>/status/": POST_ONLY,
    "notifications/tout-lu/": POST_ONLY,
    "clients/<int:pk>/portabilite/": POST_ONLY,
    "portabilite/<int:pk>/": POST_ONLY,
    "solutions/<int:pk>/modifications/": POST_ONLY,
    "modifications/<int:pk>/": POST_ONLY,
    "dossiers/actions/simulation/": POST_ONLY,
    "dossiers/actions/application/": POST_ONLY,
    "dossiers/<int:pk>/responsable/": POST_ONLY,
    "dossiers/<int:pk>/notes/": POST_ONLY,
    "echeances/agenda/revoquer/": POST_ONLY,
    "rapports/va-en-attente/export/": POST_ONLY,
}

# The routes this test does not walk: Django's admin (its changelists are ReadOnlyAdmin, tested in
# tests/test_readonly_admin.py and tests/dossiers/test_admin.py).
SKIPPED_PREFIXES = ("admin/",)


def routes() -> list[str]:
    """Every route of the URL configuration, as its pattern text (unique, unlike names across namespaces)."""
    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                yield prefix + str(p.pattern)
    return [r for r in walk(get_resolver().url_patterns) if not r.startswith(SKIPPED_PREFIXES)]


def fill(route: str, values: dict[str, object]) -> str:
    """The path of a route with its converters replaced by the world's objects."""
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values[m.group(1)]), route)  # a regex route's group
    path = path.replace("^", "").replace("$", "").replace("\\.", ".")
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), path)
    return "/" + path


class World:
    """The test organisation with one object of each kind the routes name, and a number of dossiers to grow."""

    def __init__(self, admin, manager):
        self.admin, self.manager = admin, manager
        organisation = admin.organisation
        user = manager.user
        self.dossier = walk_to(State.DEPLOYED, membership=manager)
        self.filed = walk_to(State.SOLDE_FILED, membership=manager)
        PvPiloteFactory(solution=self.filed.solution)
        self.document = attach(self.dossier, "other", user)
        self.amendment = services.add_amendment(self.dossier.pk, by=user, filed_on=self.dossier.avance_paid_on,
                                                amount=Decimal("12000.00"))
        self.client = self.dossier.client
        self.solution = self.dossier.solution
        self.pv = PvPiloteFactory(solution=self.solution)
        self.portability = followups.save_portability_request(
            self.client, by=user, changes={"requested_on": date(2024, 6, 1), "channel": "written"})
        self.change = followups.save_solution_change(
            self.solution, by=user, changes={"changed_on": date(2024, 6, 1), "description": "Module",
                                             "affects_conformity": True})
        self.va_request = va_services.request_va(self.dossier.pk, by=user, email="jeanne.martin@clinique.example",
                                                 name="Dr Jeanne Martin")
        self.endpoint = webhook_services.create_endpoint(
            organisation=organisation, by=admin.user, url="https://crm.example.com/hooks", events=["*"])
        services.update_dossier(self.dossier.pk, by=user, changes={"installed_version": "5.1"})
        self.delivery = Delivery.objects.filter(endpoint=self.endpoint).first()
        self.export = report_services.request_export(organisation_id=organisation.pk, user=admin.user,
                                                     validated={"kind": "pending_va", "format": "csv"})
        self.feed_key = calendar.issue_feed(membership=admin)
        upload = SimpleUploadedFile("dossiers.csv", _csv(), content_type="text/csv")
        self.job = imports_services.create_job(organisation=organisation, by=admin.user, upload=upload)
        attach(self.dossier, "va_draft", user)  # the VA to sign, downloaded through the signatory's link
        tasks.notify_history_entry(self.dossier.history.order_by("-seq").first().pk)  # run by the outbox after commit
        self.notification = Notification.objects.get(user=admin.user)
        report_tasks.run_export(self.export.pk)  # the export task, run by the outbox after commit
        self.api_token_row, self.api_token = ApiToken.issue(admin)
        links: list[str] = []
        invite_member(organisation=organisation, email="new.member@example.com", role="viewer", by=admin.user,
                      link=lambda token: links.append(token) or token)
        self.invitation_token = links[0]
        call_command("import_faq", str(DEMO_0), str(DEMO_1), stdout=io.StringIO(), stderr=io.StringIO())
        self.faq_entry = Entry.objects.order_by("id").first()
        self.grown: list = []

    def grow(self, n: int) -> None:
        states = [State.DRAFT, State.AVANCE_FILED, State.DEPLOYED, State.VA_SIGNED]
        while len(self.grown) + 2 < n:
            self.grown.append(walk_to(states[len(self.grown) % len(states)], membership=self.manager))

    def values(self) -> dict[str, object]:
        return {
            "pk": self.dossier.pk, "dossier_id": self.dossier.pk, "document_id": self.document.pk,
            "amendment_id": self.amendment.pk, "client_id": self.client.pk, "solution_id": self.solution.pk,
            "pv_pilote_id": self.pv.pk, "portability_request_id": self.portability.pk,
            "solution_change_id": self.change.pk, "va_request_id": self.va_request.pk,
            "webhook_id": self.endpoint.pk, "delivery_id": getattr(self.delivery, "pk", 0),
            "export_id": self.export.pk, "import_id": self.job.pk, "token_id": self.api_token_row.pk, "key": self.feed_key, "delivery_pk": getattr(self.delivery, "pk", 0),
            "token": self.va_request.token, "name": "validate_avance", "uidb64": "x", "fmt": "csv",
        }


def _csv() -> bytes:
    text = io.StringIO()
    samples.write_csv(iter(samples.sample_rows(2, today=timezone.localdate())), text, kind="french",
                      delimiter=";", bom=True)
    return text.getvalue().encode("utf-8")


def measure(browser, api, world: World, routes_called: list[str]) -> dict[str, tuple[int, int]]:
    """{route: (status, queries)} for every route called, each asked twice (the first warms what is cached)."""
    values = world.values()
    seen = {}
    for route in routes_called:
        path = fill(route, {**values, **PKS.get(route, lambda w: {})(world)}) + QUERY.get(route, lambda w: "")(world)
        client = api if route.startswith("api/") else browser
        client.get(path)  # warm: a token's first use, a session's first write
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
            if response.streaming:  # a streamed file or export reads as it is sent
                b"".join(response.streaming_content)
        seen[route] = (response.status_code, len(captured.captured_queries))
    return seen


# What each route's `pk` (or another converter) names, when not the dossier of `World.values`.
PKS = {
    "imports/<int:pk>/": lambda w: {"pk": w.job.pk},
    "imports/<int:pk>/statut/": lambda w: {"pk": w.job.pk},
    "imports/<int:pk>/rapport/": lambda w: {"pk": w.job.pk},
    "webhooks/<int:pk>/": lambda w: {"pk": w.endpoint.pk},
    "dossiers/<int:pk>/solde.json": lambda w: {"pk": w.filed.pk},
    "api/v1/dossiers/<int:dossier_id>/solde.json": lambda w: {"dossier_id": w.filed.pk},
    "clients/<int:pk>/": lambda w: {"pk": w.client.pk},
    "solutions/<int:pk>/": lambda w: {"pk": w.solution.pk},
    "pv-pilotes/<int:pk>/": lambda w: {"pk": w.pv.pk},
    "documents/<int:pk>/": lambda w: {"pk": w.document.pk},
    "clients/<int:pk>/portabilite/": lambda w: {"pk": w.client.pk},
    "portabilite/<int:pk>/": lambda w: {"pk": w.portability.pk},
    "solutions/<int:pk>/modifications/": lambda w: {"pk": w.solution.pk},
    "modifications/<int:pk>/": lambda w: {"pk": w.change.pk},
    "notifications/<int:pk>/": lambda w: {"pk": w.notification.pk},
    "faq/<int:pk>/": lambda w: {"pk": w.faq_entry.pk},
    "api/v1/faq/<int:pk>/": lambda w: {"pk": w.faq_entry.pk},
    "invitations/<str:token>/": lambda w: {"token": w.invitation_token},
    "rapports/exports/<int:pk>/": lambda w: {"pk": w.export.pk},
    "documents/<int:pk>/remplacer/": lambda w: {"pk": w.document.pk},
    "documents/<int:pk>/retirer/": lambda w: {"pk": w.document.pk},
    "dossiers/<int:pk>/corriger/<slug:step>/": lambda w: {"step": "mark_deployed"},
}


@pytest.mark.django_db
def test_every_route_costs_the_same_with_3_or_12_dossiers_within_its_budget(admin_membership, manager_membership):
    world = World(admin_membership, manager_membership)
    browser = signed_in(admin_membership)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {world.api_token}")
    every = routes()
    assert not set(BUDGET) & set(EXCLUDED)
    assert set(every) == set(BUDGET) | set(EXCLUDED), "a route without a budget (or a budget without its route)"
    called = [r for r in every if r not in EXCLUDED]
    world.grow(3)
    assert Dossier.objects.filter(organisation=admin_membership.organisation).count() == 3
    small = measure(browser, api, world, called)
    world.grow(12)
    assert Dossier.objects.filter(organisation=admin_membership.organisation).count() == 12
    large = measure(browser, api, world, called)
    statuses = {route: status for route, (status, _) in large.items()}
    assert statuses == {route: STATUS.get(route, 200) for route in called}
    grew = {route: (small[route][1], large[route][1]) for route in called if small[route] != large[route]}
    assert not grew, f"queries that grow with the number of dossiers: {grew}"
    over = {route: (count, BUDGET[route]) for route, (_, count) in large.items() if count > BUDGET[route]}
    assert not over, f"over budget: {over}"


@pytest.mark.django_db
def test_the_routes_left_out_refuse_a_get(admin_membership, manager_membership):
    """What EXCLUDED calls POST only is: a GET is refused (405) before any read of the route's object."""
    world = World(admin_membership, manager_membership)
    browser = signed_in(admin_membership)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {world.api_token}")
    values = world.values()
    refused = {}
    for route, reason in EXCLUDED.items():
        assert reason == POST_ONLY
        client = api if route.startswith("api/") else browser
        refused[route] = client.get(fill(route, values)).status_code
    assert refused == {route: 405 for route in EXCLUDED}
