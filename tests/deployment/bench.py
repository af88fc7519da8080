"""Throughput of the multi-process deployment on this machine, for docs/deployment.md ("Sizing").

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/seg_bench TEST_REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python -m tests.deployment.bench [--seconds 20] [--clients 8] [--workers 2]

Builds a database of dossiers (created if missing, migrated), starts the cluster of the integration test (PgBouncer
in transaction mode, moto's S3 server, two gunicorn processes, a worker) and sends, for a bounded time, requests from
`--clients` threads alternating between the two web processes, to loopback addresses only. Prints requests per
second and latency percentiles per endpoint. Not a test: figures depend on the machine and on what else runs on it.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def prepare(dossiers: int) -> tuple[str, list[int]]:
    """Migrate, then (once) an organisation with a token, `dossiers` dossiers and a document each."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segurtrack.settings")
    django.setup()
    from django.core.management import call_command

    from dossiers.models import Document, Dossier, State
    from organisations.models import ApiToken, Membership

    from tests.factories import MembershipFactory, attach, token_for, walk_to

    call_command("migrate", verbosity=0)
    membership = Membership.objects.filter(user__username="bench").first()
    if membership is None:
        membership = MembershipFactory(user__username="bench", organisation__name="Éditeur banc d'essai")
    existing = Dossier.objects.filter(organisation=membership.organisation).count()
    states = [State.DRAFT, State.AVANCE_PAID, State.DEPLOYED, State.SOLDE_FILED]
    for n in range(existing, dossiers):
        dossier = walk_to(states[n % len(states)], membership=membership)
        if n % len(states) == 0:
            attach(dossier, "bdc", membership.user)
    ApiToken.objects.filter(membership=membership).delete()
    documents = list(Document.objects.filter(organisation=membership.organisation)
                     .values_list("dossier_id", "id")[:20])
    return token_for(membership), documents


def load(name: str, urls: list[str], token: str, seconds: float, clients: int) -> dict:
    import requests

    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(index: int) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Token {token}"
        i = index
        while time.monotonic() < stop_at:
            url = urls[i % len(urls)]
            i += 1
            began = time.perf_counter()
            response = session.get(url, timeout=60)
            elapsed = time.perf_counter() - began
            with lock:
                latencies.append(elapsed)
                if response.status_code != 200:
                    errors[0] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    latencies.sort()
    return {"endpoint": name, "requests": len(latencies), "errors": errors[0],
            "per_second": round(len(latencies) / elapsed, 1),
            "p50_ms": round(statistics.median(latencies) * 1000),
            "p95_ms": round(latencies[int(len(latencies) * .95)] * 1000)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per web process")
    parser.add_argument("--dossiers", type=int, default=400)
    args = parser.parse_args()
    database = os.environ["DATABASE_URL"]
    name = database.rsplit("/", 1)[1]
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], capture_output=True)
    token, documents = prepare(args.dossiers)

    from django.db import connection

    from tests.deployment.cluster import Cluster

    cluster = Cluster(connection.settings_dict, os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14"))
    connection.close()
    try:
        cluster.start_pgbouncer()
        cluster.start_s3()
        webs = [cluster.start_web("web-1", args.workers), cluster.start_web("web-2", args.workers)]
        # The documents of the database are in no bucket yet: upload one per dossier through web 1.
        import requests

        session = requests.Session()
        session.headers["Authorization"] = f"Token {token}"
        uploaded = []
        for dossier_id, _ in documents:
            answer = session.post(f"{webs[0]}/api/v1/dossiers/{dossier_id}/documents/", data={"kind": "other"},
                                  files={"file": ("facture.pdf", b"%PDF-1.4\n" + b"x" * 200_000, "application/pdf")})
            answer.raise_for_status()
            uploaded.append((dossier_id, answer.json()["id"]))
        ids = [dossier_id for dossier_id, _ in uploaded]
        plans = {
            "GET /health/ (database, cache, storage, Redis, broker)": ["/health/"],
            "GET /api/v1/dossiers/ (a page of 50)": ["/api/v1/dossiers/"],
            "GET /api/v1/dossiers/{id}/": [f"/api/v1/dossiers/{i}/" for i in ids],
            "GET /api/v1/dossiers/{id}/checklist/": [f"/api/v1/dossiers/{i}/checklist/" for i in ids],
            "GET a 200 kB document (from S3, streamed)": [f"/api/v1/dossiers/{d}/documents/{doc}/download/"
                                                         for d, doc in uploaded],
        }
        print(f"# {args.clients} clients, 2 web processes × {args.workers} gunicorn workers, {args.seconds:.0f} s "
              f"each, load average before: {os.getloadavg()[0]:.1f}")
        for label, paths in plans.items():
            urls = [f"{webs[n % 2]}{path}" for n, path in enumerate(paths * 2)]
            print(load(label, urls, token, args.seconds, args.clients), flush=True)
    finally:
        cluster.stop_all()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
