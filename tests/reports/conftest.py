"""Report fixtures: deployed dossiers of a given age, dossiers in bulk for query budgets."""
from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from dossiers import counters, deadlines
from dossiers.models import Client, Dispositif, Dossier, Solution, State
from organisations.models import Membership

from ..factories import SolutionFactory, days_ago, next_finess, walk_to
from ..pages.conftest import as_manager, as_outsider, as_viewer  # noqa: F401 (fixtures of the report pages' tests)

_BULK = itertools.count(1)


def url(name: str, *args: Any) -> str:
    return reverse(f"reports:{name}", args=args)


def deployed(membership: Membership, age: int, *, solution: Solution | None = None) -> Dossier:
    """A dossier deployed `age` days ago (Europe/Paris), reached through the service (the date set past the writer,
    its kept deadlines with it)."""
    dossier = walk_to(State.DEPLOYED, membership=membership, solution=solution)
    Dossier.objects.filter(pk=dossier.pk).update(deployed_on=days_ago(age))
    deadlines.keep(dossier_ids=[dossier.pk])
    counters.rebuild(dossier.organisation_id)  # the kept pending-VA cells too
    dossier.refresh_from_db()
    return dossier


def bulk_dossiers(membership: Membership, count: int, *, state: str = State.DEPLOYED,
                  solution: Solution | None = None, **fields: Any) -> list[Dossier]:
    """`count` dossiers written straight to the database (query budgets only need rows, not their history); like any
    bulk loader that bypasses the writers, it recounts the organisation's kept counters."""
    organisation = membership.organisation
    solution = solution or SolutionFactory(organisation=organisation)
    n = next(_BULK)
    clients = Client.objects.bulk_create([
        Client(organisation=organisation, name=f"Client en masse {n}-{i}", kind=Client.Kind.PS,
               finess_geo=next_finess(), department="75") for i in range(count)])
    defaults = {"declared_amount": Decimal("10000.00"), "avance_paid_total": Decimal("3000.00")}
    dossiers = Dossier.objects.bulk_create([
        Dossier(organisation=organisation, client=client, solution=solution, dispositif_id=solution.dispositif_id,
                state=state, reference=f"BULK-{n}-{i}", **{**defaults, **fields})
        for i, client in enumerate(clients)])
    counters.rebuild([organisation.pk])
    return dossiers


@pytest.fixture
def hospital_solution(organisation) -> Solution:
    return SolutionFactory(organisation=organisation, dispositif=Dispositif.objects.get(code="HOP-DPI-VA1"))


# A port nothing listens on: connecting is refused at once, as when Redis is down.
UNREACHABLE_BROKER = "redis://127.0.0.1:1/14"


@contextmanager
def celery_config(**values: Any) -> Iterator[None]:
    """Change the Celery app's configuration for a block, then put every value back."""
    from segurtrack.celery import app

    saved = {key: app.conf[key] for key in values}
    app.conf.update(values)
    _forget_connections(app)
    try:
        yield
    finally:
        app.conf.update(saved)
        _forget_connections(app)


def _forget_connections(app) -> None:
    """Forget the app's pools: each keeps the URL it was created with (even an eager call makes one). kombu's
    registry, keyed by connection, hands back the right one for the URL now configured (never close them: shared)."""
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


def broker_unreachable() -> Any:
    return celery_config(task_always_eager=False, broker_url=UNREACHABLE_BROKER)
