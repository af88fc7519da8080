"""Bad input to every page and endpoint: NUL bytes, unknown choices, empty bodies, overlong values. Never a 5xx, and
nothing saved.

The routes are read from the root URL resolver (admin aside), so a route added later is swept without being listed.
An id in a route names a real object of the organisation where the route's kwarg says which (an unknown one gets an
id that exists nowhere: the answer is then a 404, which still must not be a 500).
"""
from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.test import Client as PageClient
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from dossiers import services
from dossiers.models import PvPilote, State
from reports.models import ExportJob
from faqref.models import Entry

from ..factories import attach, token_for, walk_to
from ..pages.test_access import OBJECT_OF

pytestmark = pytest.mark.django_db

# Every name a form or a filter of the application reads, and a few it does not.
FIELDS = [
    "q", "search", "page", "page_size", "ordering", "sort", "state", "kind", "kinds", "dispositif", "couloir", "theme",
    "solution", "client", "organisation", "format", "fmt", "due_before", "overdue", "name", "version", "reference",
    "scenario", "finess_geo", "finess_legal", "siret", "department", "vat_liable", "signed_on", "on", "filed_on",
    "amount", "paid_amount", "status", "useful", "role", "username", "password", "email", "transition", "dry_run",
    "referenced_on", "proofs_submitted_on", "declared_finess", "installed_version", "maintenance_contract",
    "signer_name", "signature_type", "reason", "description", "changed_on", "requested_on", "channel", "url",
    "events", "scope", "expires_on", "return_to", "next", "file", "data", "items", "solde_draft",
]
BAD = {
    "nul": "a\x00b",
    "unknown choice": "bogus",
    # Overlong, and a number no integer column holds.
    "overlong": "9" * 5000,
}
INPUTS = [*BAD, "empty"]
# Signing out is no data change, whatever the input; a member's calendar address is made or revoked by a bare POST
# (there is no input to refuse).
NOT_SAVED_CHECK_EXEMPT = {"logout", "calendar", "calendar-revoke"}
# Input that is valid there, so saved: "bogus" is a possible scenario (free text); an export request needs no field.
VALID_THERE = {("dossier-scenario", "unknown choice"), ("report-export-create", "empty")}
# Models whose rows a request may legitimately touch whatever its input (audit of sign-in attempts, sessions).
VOLATILE_FIELDS = {"last_used_at", "last_login", "updated_at"}


def routes() -> Iterator[tuple[str, URLPattern]]:
    def walk(patterns, namespace: str | None) -> Iterator[tuple[str, URLPattern]]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    continue
                inner = ":".join(filter(None, [namespace, pattern.namespace])) or None
                yield from walk(pattern.url_patterns, inner)
            elif pattern.name:
                yield (f"{namespace}:{pattern.name}" if namespace else pattern.name), pattern
    seen = set()
    for name, pattern in walk(get_resolver().url_patterns, None):
        if name not in seen:
            seen.add(name)
            yield name, pattern


def kwargs_for(name: str, pattern: URLPattern, world: dict[str, Any]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for kwarg, converter in pattern.pattern.converters.items():
        if converter.regex == "[0-9]+":
            key = OBJECT_OF.get(name.rpartition(":")[2]) if kwarg == "pk" else kwarg
            kwargs[kwarg] = world.get(key, 987654)
        else:
            kwargs[kwarg] = {"name": "validate_solde", "fmt": "csv"}.get(kwarg, "x")
    return kwargs


def url_for(name: str, pattern: URLPattern, world: dict[str, Any]) -> str:
    kwargs = kwargs_for(name, pattern, world)
    try:
        return reverse(name, kwargs=kwargs)
    except Exception:  # a regex route (the API's catch-all): its own prefix
        return "/api/v1/pas-une-route/" if name.startswith("api:") else "/pas-une-page/"


@pytest.fixture
def world(manager_membership, viewer_membership) -> dict[str, Any]:
    """One object of each kind, by the name a route's kwarg (API) or OBJECT_OF (pages) gives it."""
    user = manager_membership.user
    dossier = walk_to(State.SOLDE_FILED, membership=manager_membership)
    open_dossier = walk_to(State.AVANCE_PAID, membership=manager_membership)
    amendment = services.add_amendment(open_dossier.pk, by=user, filed_on=open_dossier.avance_paid_on,
                                       amount=Decimal("12000.00"))
    document = attach(open_dossier, "other", user)
    pv = PvPilote.objects.get(solution=dossier.solution)
    job = ExportJob.objects.create(organisation=dossier.organisation, user=user, kind=ExportJob.Kind.PENDING_VA)
    entry = Entry.objects.order_by("pk").first()
    objects = {"dossier": open_dossier.pk, "client": dossier.client_id, "solution": dossier.solution_id,
               "document": document.pk, "amendment": amendment.pk, "pv_pilote": pv.pk, "export": job.pk,
               "export_job": job.pk, "membership": viewer_membership.pk, "entry": entry.pk if entry else 987654}
    return {**objects, **{f"{key}_id": value for key, value in objects.items()}}


def snapshot() -> dict[str, list[tuple]]:
    """Every row of the application's own tables, volatile timestamps aside."""
    state = {}
    for label in ("dossiers", "organisations", "faqref", "imports", "webhooks", "varequests"):
        for model in apps.get_app_config(label).get_models():
            names = [f.attname for f in model._meta.concrete_fields if f.attname not in VOLATILE_FIELDS]
            state[model.__name__] = list(model.objects.order_by("pk").values_list(*names))
    return state


def send(clients: dict[str, Any], name: str, url: str, kind: str, method: str) -> int:
    """One request with the bad input of `kind`: in the query string of a GET, in the body otherwise."""
    values: dict[str, Any] = {} if kind == "empty" else {field: BAD[kind] for field in FIELDS}
    if kind == "unknown choice":
        values["kinds"] = ["bogus", "autre-inconnu"]
    if name.startswith("api:"):
        client = clients["api"]
        if method == "get":
            return client.get(url, values).status_code
        return getattr(client, method)(url, values, format="json").status_code
    client = clients["pages"]
    client.force_login(clients["user"])  # a sign-out or a sign-in page met on the way ends the session
    if method == "get":
        return client.get(url, values).status_code
    return client.post(url, values).status_code


@pytest.mark.slow
@pytest.mark.parametrize("kind", INPUTS)
def test_bad_input_to_every_page_and_endpoint_is_never_a_5xx_and_saves_nothing(
        world, manager_membership, kind, django_capture_on_commit_callbacks):
    # A view's exception is answered 500 as in production (listed below), not raised into the test.
    api = APIClient(raise_request_exception=False)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(manager_membership)}")
    clients = {"api": api, "pages": PageClient(raise_request_exception=False), "user": manager_membership.user}
    before = snapshot()
    failures, sent = [], 0
    for name, pattern in routes():
        url = url_for(name, pattern, world)
        methods = ["get", "post", "patch", "put", "delete"] if name.startswith("api:") else ["get", "post"]
        for method in methods:
            if method == "delete" and kind != "empty":
                continue  # a DELETE carries no input; once is enough
            with django_capture_on_commit_callbacks(execute=True):
                status = send(clients, name, url, kind, method)
            sent += 1
            if status >= 500:
                failures.append(f"{method.upper()} {url} ({name}): {status}")
        after = snapshot()
        route = name.rpartition(":")[2]
        if after != before and route not in NOT_SAVED_CHECK_EXEMPT and (route, kind) not in VALID_THERE:
            changed = sorted(model for model in after if after[model] != before[model])
            failures.append(f"{url} ({name}) with {kind} input saved {changed}")
        before = after
    assert sent > 100  # every route was reached
    assert failures == [], "\n".join(failures)
