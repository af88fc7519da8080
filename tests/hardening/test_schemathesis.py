"""Schemathesis against the OpenAPI schema, over the WSGI application: thousands of generated requests, as a
manager of an organisation holding dossiers at many states, and not one 5xx nor one answer off the schema.

Each operation is fuzzed in both of schemathesis' modes (valid data, then data the schema forbids), with its path
parameters either generated or taken from the organisation's real objects (so the requests reach the services,
not only the 404). Hypothesis is derandomized (the same cases on every CI run), with no deadline and no
shrinking (a failure prints its curl command; shrinking against a database that changes under it would mislead).

Each request runs in its own transaction, as in production (`transaction=True`): a database error in one request
cannot poison the next one, so every 5xx is the application's.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, given, settings, strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_headers_conformance, response_schema_conformance, status_code_conformance,
)

from dossiers import rules, services
from dossiers.models import Amendment, Client, Document, Dossier, PvPilote, Solution, State
from reports.models import ExportJob
from faqref.models import Entry, RuleLink
from organisations.models import Role

from ..factories import (
    ClientFactory, EsmsClientFactory, MembershipFactory, PvPiloteFactory, SolutionFactory, attach, token_for, walk_to,
)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

EXAMPLES_PER_OPERATION_AND_MODE = 35
FAQ_EXAMPLES_PER_OPERATION_AND_MODE = 30
MINIMUM_CASES = 2000
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
# Operations left out, and why (none so far: every operation is fuzzed).
EXCLUDED: dict[str, str] = {}


@pytest.fixture(autouse=True)
def budget_the_fuzzer_cannot_exhaust(settings):
    """Thousands of requests a minute from one token: the throttle (tests/api/test_throttling.py) would answer 429."""
    settings.API_THROTTLE_RATES = {"token": "1000000/minute"}


@pytest.fixture
def populated_organisation(keep_connection_open_across_requests):
    """A manager of an organisation with clients, solutions, PV pilotes, FAQ guidance and dossiers at many states;
    and another organisation with its own dossier (never to be seen)."""
    membership = MembershipFactory(role=Role.MANAGER, user__username="fuzzer")
    organisation, user = membership.organisation, membership.user
    solution = SolutionFactory(organisation=organisation)
    PvPiloteFactory(solution=solution)
    for state in (State.DRAFT, State.AVANCE_FILED, State.AVANCE_PAID, State.DEPLOYED, State.VA_SIGNED,
                  State.SOLDE_FILED, State.SOLDE_PAID, State.CANCELLATION_REQUESTED, State.RECOVERY_ISSUED):
        walk_to(state, membership=membership, solution=solution)
    walk_to(State.AVANCE_VALIDATED, membership=membership, client=EsmsClientFactory(organisation=organisation),
            solution=SolutionFactory(organisation=organisation))
    avance = Dossier.objects.filter(organisation=organisation, state=State.AVANCE_PAID).first()
    services.add_amendment(avance.pk, by=user, filed_on=date(2024, 5, 10), amount=Decimal("12000.00"))
    attach(Dossier.objects.get(organisation=organisation, state=State.DRAFT), "other", user)
    ClientFactory(organisation=organisation)
    entry = Entry.objects.create(slug="guide", derived_title="Guide du programme", text="Les règles du programme.",
                                 fingerprint="0" * 64)
    RuleLink.objects.bulk_create([RuleLink(rule=code, entry=entry, origin=RuleLink.Origin.PINNED)
                                  for code in rules.CATALOGUE])
    walk_to(State.BDC_SIGNED)  # another organisation's
    return membership


def real_path_parameters(organisation) -> dict[str, list[dict[str, Any]]]:
    """Path parameter sets naming real objects of the organisation, by the parameter names the schema uses."""
    dossiers = list(Dossier.objects.filter(organisation=organisation).values_list("pk", flat=True))
    documents = list(Document.objects.filter(organisation=organisation).values_list("dossier_id", "pk"))
    amendments = list(Amendment.objects.filter(dossier__organisation=organisation).values_list("dossier_id", "pk"))
    pv_pilotes = list(PvPilote.objects.filter(solution__organisation=organisation).values_list("solution_id", "pk"))
    return {
        "dossier_id": [{"dossier_id": pk} for pk in dossiers],
        "dossier_id,document_id": [{"dossier_id": d, "document_id": pk} for d, pk in documents],
        "amendment_id,dossier_id": [{"dossier_id": d, "amendment_id": pk} for d, pk in amendments],
        "pv_pilote_id,solution_id": [{"solution_id": s, "pv_pilote_id": pk} for s, pk in pv_pilotes],
        "solution_id": [{"solution_id": pk} for pk in Solution.objects.filter(organisation=organisation).values_list(
            "pk", flat=True)],
        "client_id": [{"client_id": pk} for pk in Client.objects.filter(organisation=organisation).values_list(
            "pk", flat=True)],
        "export_id": [{"export_id": pk} for pk in ExportJob.objects.filter(organisation=organisation).values_list(
            "pk", flat=True)],
        "id": [{"id": pk} for pk in Entry.objects.values_list("pk", flat=True)],
    }


def strategy(operation, mode: GenerationMode, real: dict[str, list[dict[str, Any]]]):
    path_names = [p.name for p in operation.path_parameters]
    fixed_names = [n for n in path_names if n not in {"name", "fmt"}]
    key = ",".join(sorted(fixed_names))
    choices = [operation.as_strategy(generation_mode=mode)]
    for fixed in real.get(key, []) if fixed_names else []:
        choices.append(operation.as_strategy(generation_mode=mode, path_parameters=fixed))
    return st.one_of(*choices)


@dataclass
class Run:
    calls: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.calls.values())


def fuzz(membership, *, faq: bool, examples: int) -> Run:
    """Every operation of the schema (the FAQ's, or all the others) in both modes, `examples` cases each at most."""
    token = token_for(membership)
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application())
    real = real_path_parameters(membership.organisation)
    run = Run()
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [op for op in operations if op.path.startswith("/api/v1/faq/") == faq and op.label not in EXCLUDED]
    assert operations
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            label = f"{operation.label} [{mode.value}]"

            @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                      phases=[Phase.explicit, Phase.generate], report_multiple_bugs=False,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                             HealthCheck.data_too_large])
            @given(case=strategy(operation, mode, real))
            def one_case(case):
                case.headers = {**(case.headers or {}), "Authorization": f"Token {token}"}
                run.calls[label] += 1
                response = case.call_and_validate(checks=CHECKS)
                run.statuses[response.status_code] += 1

            try:
                one_case()
            except (Exception, BaseExceptionGroup) as error:  # one operation's failure must not hide the others'
                run.failures.append(f"{label}: {type(error).__name__}: {error}")
    print(f"\n{run.total} cases over {len(run.calls)} operation-modes; statuses {dict(sorted(run.statuses.items()))}")
    return run


@pytest.mark.slow
def test_thousands_of_generated_requests_get_no_5xx_and_answers_that_conform_to_the_schema(populated_organisation):
    run = fuzz(populated_organisation, faq=False, examples=EXAMPLES_PER_OPERATION_AND_MODE)
    assert not run.failures, "\n\n".join(run.failures)
    assert run.total >= MINIMUM_CASES, run.calls
    assert len(run.calls) >= 2 * 30  # every operation, in both modes
    assert not [code for code in run.statuses if code >= 500]
    # The cases reached the services, not only the 404 and the 400.
    assert run.statuses[200] > 100 and run.statuses[201] > 0 and run.statuses[409] > 0


@pytest.mark.slow
def test_generated_requests_to_the_faq_api_get_no_5xx_and_answers_that_conform_to_the_schema(populated_organisation):
    """The FAQ API apart: faqref declares its own schema (it cannot use dossiers.api's documented answers)."""
    run = fuzz(populated_organisation, faq=True, examples=FAQ_EXAMPLES_PER_OPERATION_AND_MODE)
    assert not run.failures, "\n\n".join(run.failures)
    assert run.total >= 100 and run.statuses[200] > 0


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["99999999999999999999", "-1.7976931348623157e+308", "1e40"])
def test_a_solution_filter_beyond_64_bits_is_bad_input_not_a_server_error(api, value):
    """Found by the fuzzing above: SQLite's driver overflowed on the id (a 500) where PostgreSQL returned nothing."""
    response = api.get("/api/v1/dossiers/", {"solution": value})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["solution"]


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["post", "patch"])
def test_a_nul_character_in_a_dispositif_code_is_bad_input_not_a_server_error(api, manager_membership, method):
    """Found by the fuzzing above on PostgreSQL: the code reached the lookup, and PostgreSQL refuses NUL in text."""
    solution = SolutionFactory(organisation=manager_membership.organisation)
    address = "/api/v1/solutions/" if method == "post" else f"/api/v1/solutions/{solution.pk}/"
    response = getattr(api, method)(address, {"name": "Logiciel", "version": "1", "dispositif": "MDV\x00-LGC"},
                                    format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["dispositif"]
