"""Organisation isolation, swept over the API's URLconfs so that a new route is covered without a new test.

Every route naming an object (a `…_id` kwarg), with every method its view allows, answers 404 to another
organisation's member, exactly as a missing object would; every other route shows them nothing of the first
organisation; a viewer of the first organisation gets 403 on every write. Nothing changes in any case.
"""
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.urls import URLPattern, reverse

from dossiers import services
from dossiers.api import urls
from dossiers.models import (
    Amendment, Client, Document, Dossier, HistoryEntry, IdempotencyRecord, PvPilote, Solution, State,
)
from dossiers.models import AuditEntry, PortabilityRequest, SolutionChange
from organisations.models import Role
from reports import api_urls as report_urls
from reports.models import ExportJob

from ..factories import PvPiloteFactory, attach, walk_to

pytestmark = pytest.mark.django_db

ROUTES = [(module.app_name, p) for module in (urls, report_urls) for p in module.urlpatterns
          if isinstance(p, URLPattern) and p.name != "not-found"]
WRITE_METHODS = ("post", "put", "patch", "delete")
MODELS = (Dossier, HistoryEntry, Document, Amendment, PvPilote, Client, Solution, IdempotencyRecord, ExportJob,
          PortabilityRequest, SolutionChange, AuditEntry)


def kwargs_of(pattern: URLPattern) -> set[str]:
    return set(pattern.pattern.regex.groupindex)


def names_an_object(pattern: URLPattern) -> bool:
    return any(kwarg.endswith("_id") for kwarg in kwargs_of(pattern))


def methods(pattern: URLPattern) -> list[str]:
    view = getattr(pattern.callback, "cls", None)
    if view is None:
        return ["get"]
    return [m for m in ("get", *WRITE_METHODS) if m in view.http_method_names and hasattr(view, m)]


def writes_need_a_manager(pattern: URLPattern) -> bool:
    # A view may open a write to every member (an export only reads the data): it declares write_role.
    return getattr(getattr(pattern.callback, "cls", None), "write_role", Role.MANAGER) != Role.VIEWER


OBJECT_ROUTES = [(ns, p) for ns, p in ROUTES if names_an_object(p)]
OTHER_ROUTES = [(ns, p) for ns, p in ROUTES if not names_an_object(p) and "get" in methods(p)]
WRITE_ROUTES = [(ns, p) for ns, p in ROUTES if set(methods(p)) & set(WRITE_METHODS) and writes_need_a_manager(p)]


def route_id(route: tuple[str, URLPattern]) -> str:
    return f"{route[0]}:{route[1].name}"


def snapshot() -> dict[str, list[dict[str, Any]]]:
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in MODELS}


@pytest.fixture
def alpha(manager_membership) -> dict[str, Any]:
    """One object of each kind in the first organisation, by the URL kwarg that names it."""
    user = manager_membership.user
    dossier = walk_to(State.AVANCE_FILED, membership=manager_membership)
    amendment = services.add_amendment(dossier.pk, by=user, filed_on=date(2024, 6, 25), amount=Decimal("9000.00"))
    return {
        "dossier_id": dossier.pk, "client_id": dossier.client_id, "solution_id": dossier.solution_id,
        "document_id": attach(dossier, "other", user).pk, "amendment_id": amendment.pk,
        "pv_pilote_id": PvPiloteFactory(solution=dossier.solution).pk,
        "export_id": ExportJob.objects.create(organisation=manager_membership.organisation, user=user,
                                              kind=ExportJob.Kind.DOSSIERS).pk,
        "portability_request_id": PortabilityRequest.objects.create(
            client=dossier.client, requested_on=date(2024, 6, 1)).pk,
        "solution_change_id": SolutionChange.objects.create(
            solution=dossier.solution, changed_on=date(2024, 6, 1), description="Nouveau module").pk,
        "name": "file_solde", "fmt": "csv",
        "markers": [dossier.reference, dossier.client.name, dossier.solution.name],
    }


def route_url(route: tuple[str, URLPattern], values: dict[str, Any]) -> str:
    namespace, pattern = route
    missing = kwargs_of(pattern) - set(values)
    assert not missing, f"route {route_id(route)} takes {missing}: give the `alpha` fixture a value for it"
    return reverse(f"{namespace}:{pattern.name}", kwargs={k: values[k] for k in kwargs_of(pattern)})


def content(response) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return body.decode(errors="replace")


def test_the_sweep_finds_the_routes_of_the_contract():
    names = {p.name for _, p in OBJECT_ROUTES}
    assert {"client-detail", "solution-detail", "pv-pilote-list", "dossier-detail", "dossier-history",
            "document-list", "amendment-detail", "dossier-transition", "dossier-checklist",
            "dossier-solde-json"} <= names


@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=route_id)
def test_another_organisation_gets_404_on_every_method_of_an_object_route(route, alpha, outsider_api):
    before = snapshot()
    address = route_url(route, alpha)
    for method in methods(route[1]):
        response = getattr(outsider_api, method)(address, {}, format="json")
        assert response.status_code == 404, (method, address, content(response))
        assert list(response.json()) == ["detail"]
    assert snapshot() == before


@pytest.mark.parametrize("route", OTHER_ROUTES, ids=route_id)
def test_another_organisation_sees_nothing_of_it_elsewhere(route, alpha, outsider_api):
    response = outsider_api.get(route_url(route, alpha))
    assert response.status_code == 200, content(response)
    assert not [marker for marker in alpha["markers"] if marker in content(response)]


@pytest.mark.parametrize("route", WRITE_ROUTES, ids=route_id)
def test_a_viewer_gets_403_on_every_write_and_nothing_changes(route, alpha, viewer_api):
    before = snapshot()
    address = route_url(route, alpha)
    for method in set(methods(route[1])) & set(WRITE_METHODS):
        response = getattr(viewer_api, method)(address, {}, format="json")
        assert response.status_code == 403, (method, address, content(response))
    assert snapshot() == before


def test_a_missing_object_answers_exactly_like_another_organisations(alpha, outsider_api, api):
    foreign = outsider_api.get(reverse("api:dossier-detail", args=[alpha["dossier_id"]]))
    missing = api.get(reverse("api:dossier-detail", args=[alpha["dossier_id"] + 1000]))
    assert (foreign.status_code, foreign.json()) == (missing.status_code, missing.json())
