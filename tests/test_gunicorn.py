"""gunicorn, the documented web server, serves the application: two workers answer `/health/` with request ids."""
import json
import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from .reports.test_worker import database_url, wait_for

GUNICORN = Path(sys.executable).with_name("gunicorn")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answer(address: str) -> tuple[int, dict] | None:
    try:
        with urllib.request.urlopen(address, timeout=10) as response:
            return response.status, json.loads(response.read())
    except OSError:
        return None


@pytest.mark.slow
@pytest.mark.django_db
def test_gunicorn_serves_the_health_endpoint_with_json_request_logs(tmp_path):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url(), "LOG_FORMAT": "json", "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
           "DOCUMENT_ROOT": str(tmp_path / "documents"), "DJANGO_SETTINGS_MODULE": "segurtrack.settings"}
    for name in ("CELERY_BROKER_URL", "REDIS_URL"):
        env.pop(name, None)
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([str(GUNICORN), "segurtrack.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
                                   cwd=settings.BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        status, body = wait_for(lambda: answer(f"http://127.0.0.1:{port}/health/"), timeout=60,
                                what="gunicorn to answer")
        assert status == 200 and body["status"] == "ok", body
        assert set(body["checks"]) == {"database", "cache", "storage"}
        finished = wait_for(lambda: [json.loads(line) for line in log.read_text().splitlines()
                                     if line.startswith("{") and '"request_finished"' in line],
                            what="the request's log line")
        assert finished[0]["code"] == 200 and finished[0]["request_id"]
    finally:
        process.terminate()
        process.wait(timeout=30)
