"""Issue 17's integration test: two gunicorn web processes and a Celery worker, all on one PostgreSQL through
PgBouncer in transaction mode, one Redis (cache, broker) and an S3 server (moto): what one web process stores the
other serves, the worker builds what a web process asked for, and a dossier walks from draft to solde_paid with
every step sent to the other web process than the step before."""
from __future__ import annotations

import csv
import io
import json
import os
import re

import pytest
import requests
from django.db import connection

from dossiers.models import Dossier, State

from ..factories import DOCUMENTS_BEFORE, PATHS, PDF, next_finess, token_for, valid_payload
from ..reports.test_worker import transactional, wait_for
from .cluster import BUCKET, Cluster

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")

pytestmark = [pytest.mark.slow, pytest.mark.celery_worker]


@pytest.fixture
def cluster():
    if connection.vendor != "postgresql":
        pytest.fail("the deployment test needs the PostgreSQL test database (CI runs on PostgreSQL)")
    started = Cluster(connection.settings_dict, REDIS_URL)
    try:
        started.start_pgbouncer()
        started.start_s3()
        started.webs = [started.start_web("web-1"), started.start_web("web-2")]
        started.start_worker()
        yield started
    finally:
        started.stop_all()


class Api:
    """One web process, spoken to with an API token, as an integration would."""

    def __init__(self, base: str, token: str):
        self.base = base
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"

    def call(self, method: str, path: str, expect: int = 200, **kwargs) -> requests.Response:
        response = self.session.request(method, f"{self.base}/api/v1/{path}", timeout=60, **kwargs)
        assert response.status_code == expect, (method, path, response.status_code, response.text[:800])
        return response

    def post(self, path: str, expect: int = 201, **kwargs) -> dict:
        return self.call("POST", path, expect, **kwargs).json()

    def upload(self, dossier_id: int, kind: str) -> dict:
        return self.post(f"dossiers/{dossier_id}/documents/", files={"file": (f"{kind}.pdf", PDF, "application/pdf")},
                         data={"kind": kind})


def csrf_token(page: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert match, page[:500]
    return match.group(1)


def served_by(web_log: str) -> list[str]:
    return [json.loads(line)["request"] for line in web_log.splitlines()
            if line.startswith("{") and '"request_finished"' in line]


@transactional
def test_two_web_processes_and_a_worker_share_the_database_the_bucket_and_the_queue(cluster, manager_membership,
                                                                                  settings):
    token = token_for(manager_membership)
    web1, web2 = (Api(base, token) for base in cluster.webs)

    # Signed in through web 1, known to web 2: the session is in the database (through the Redis cache).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]  # what the web processes use
    manager_membership.user.set_password("deux-processus-web")
    manager_membership.user.save()
    browser = requests.Session()
    login = f"{cluster.webs[0]}/login/"
    signed_in = browser.post(login, data={"username": "manon", "password": "deux-processus-web",
                                          "csrfmiddlewaretoken": csrf_token(browser.get(login, timeout=60).text)},
                             headers={"Referer": login}, allow_redirects=False, timeout=60)
    assert signed_in.status_code == 302, signed_in.text[:800]
    home = browser.get(f"{cluster.webs[1]}/", allow_redirects=False, timeout=60)
    assert home.status_code == 200, (home.status_code, home.headers.get("Location"))
    assert 'name="password"' not in home.text

    # Reference data through web 1; a PV pilote (a file) too, the solde needs a validated one.
    solution = web1.post("solutions/", json={"name": "Logiciel Alpha", "version": "5.2", "dispositif": "MDV-LGC-VA1",
                                             "proofs_submitted_on": "2024-01-10", "referenced_on": "2024-03-01"})
    pv = web1.post(f"solutions/{solution['id']}/pv-pilotes/", files={"file": ("pv.pdf", PDF, "application/pdf")},
                   data={"signed_on": "2024-06-01", "status": "validated"})
    client = web1.post("clients/", json={"name": "Centre de santé des Lilas", "kind": "ps", "finess_geo": next_finess(),
                                         "department": "75", "vat_liable": True})
    dossier = web1.post("dossiers/", json={"client": client["id"], "solution": solution["id"],
                                           "scenario": "Scénario 1"})

    # A document uploaded through web 1 is downloaded through web 2, from the bucket.
    document = web1.upload(dossier["id"], "bdc")
    downloaded = web2.call("GET", f"dossiers/{dossier['id']}/documents/{document['id']}/download/")
    assert downloaded.content == PDF and downloaded.headers["Content-Disposition"].startswith("attachment")
    assert web2.call("GET", f"solutions/{solution['id']}/pv-pilotes/{pv['id']}/download/").content == PDF
    keys = [item["Key"] for item in cluster.s3_client().list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert len(keys) == 2 and any(key.startswith(f"org{manager_membership.organisation_id}/dossier") for key in keys)

    # Draft to solde_paid, each step through the other web process than the step before.
    webs = [web2, web1]
    for step, name in enumerate(PATHS[State.SOLDE_PAID]):
        web = webs[step % 2]
        for kind in DOCUMENTS_BEFORE.get(name, []):
            if kind != "bdc":
                web.upload(dossier["id"], kind)
        payload = valid_payload(name, Dossier.objects.get(pk=dossier["id"]))
        answer = webs[(step + 1) % 2].call("POST", f"dossiers/{dossier['id']}/transitions/{name}/", json=payload)
        assert not answer.json().get("errors"), answer.json()
    final = web2.call("GET", f"dossiers/{dossier['id']}/").json()
    assert final["state"] == State.SOLDE_PAID
    history = web1.call("GET", f"dossiers/{dossier['id']}/history/").json()
    path = PATHS[State.SOLDE_PAID]
    assert [entry["action"] for entry in history if entry["action"] in path] == path
    assert history[-1]["to_state"] == State.SOLDE_PAID

    # An export asked of web 1 is built by the worker, then downloaded through web 2.
    job = web1.post("exports/", expect=202, json={"kind": "dossiers", "format": "csv"})
    done = wait_for(lambda: (lambda body: body if body["status"] in ("done", "failed") else None)(
        web2.call("GET", f"exports/{job['id']}/").json()), timeout=60, what="the worker to build the export")
    assert done["status"] == "done", done
    exported = web2.call("GET", f"exports/{job['id']}/download/").content.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(exported), delimiter=";"))
    assert len(table) == 2 and any("Centre de santé des Lilas" in cell for cell in table[1]), exported[:500]
    worker_log = cluster.log("worker")
    assert "reports.tasks.run_export" in worker_log and "succeeded" in worker_log

    # Both web processes served their share; the health check through PgBouncer, Redis and the bucket is green.
    assert len(served_by(cluster.log("web-1"))) >= 10 and len(served_by(cluster.log("web-2"))) >= 10
    assert f"login attempt: db={connection.settings_dict['NAME']}" in cluster.pgbouncer_log()
    health = requests.get(f"{cluster.webs[1]}/health/", timeout=30)
    assert health.status_code == 200 and health.json()["down"] == [], health.text
