"""Structured logs: a request id on every line of a request, carried into the tasks it enqueues; JSON on demand."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from reports.models import ExportJob

from .reports.conftest import url
from .reports.test_worker import Worker, transactional, wait_for

ROOT = Path(__file__).resolve().parents[1]
LOG_SOME_LINES = """
import logging, django, structlog
django.setup()
structlog.contextvars.bind_contextvars(request_id="req-123")
structlog.get_logger("django_structlog.test").warning("structured_event", answer=42)
logging.getLogger("dossiers").warning("plain %s line", "stdlib")
"""


def log_lines(log_format: str) -> list[str]:
    env = {**os.environ, "LOG_FORMAT": log_format, "DJANGO_SETTINGS_MODULE": "segurtrack.settings"}
    result = subprocess.run([sys.executable, "-c", LOG_SOME_LINES], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60, check=True)
    return result.stderr.strip().splitlines()


def request_ids(caplog, event: str) -> list[str]:
    return [record.msg["request_id"] for record in caplog.records
            if isinstance(record.msg, dict) and record.msg.get("event") == event]


def test_json_format_writes_one_object_a_line_with_the_request_id_even_for_plain_loggers():
    structured, plain = (json.loads(line) for line in log_lines("json"))
    assert structured["event"] == "structured_event" and structured["answer"] == 42
    assert structured["level"] == "warning" and structured["request_id"] == "req-123"
    assert structured["timestamp"].endswith("Z")
    assert plain["event"] == "plain stdlib line" and plain["logger"] == "dossiers"
    assert plain["request_id"] == "req-123"


def test_the_default_format_is_readable_lines_not_json():
    lines = log_lines("console")
    assert len(lines) == 2
    assert "structured_event" in lines[0] and "request_id=req-123" in lines[0]
    with pytest.raises(json.JSONDecodeError):
        json.loads(lines[0])


@pytest.mark.django_db
def test_each_request_gets_its_own_request_id(client, caplog):
    caplog.set_level(logging.INFO, logger="django_structlog")
    client.get("/health/")
    client.get("/health/")
    started, finished = request_ids(caplog, "request_started"), request_ids(caplog, "request_finished")
    assert len(started) == 2 and started == finished
    assert started[0] != started[1]


@pytest.fixture
def json_worker(tmp_path, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.fail("the worker needs the PostgreSQL test database (CI runs on PostgreSQL)")
    monkeypatch.setenv("LOG_FORMAT", "json")
    worker = Worker(tmp_path / "worker.log")
    try:
        worker.start()
        yield worker
    finally:
        worker.stop()


@pytest.mark.celery_worker
@transactional
def test_a_task_enqueued_by_a_request_logs_that_request_s_id_in_the_worker(json_worker, api, caplog):
    caplog.set_level(logging.INFO, logger="django_structlog")
    with json_worker.active():
        response = api.post(url("export-list"), {"kind": "dossiers"}, format="json")
        assert response.status_code == 202, response.content
        json_worker.finished("reports.tasks.run_export", 1)
    (request_id,) = request_ids(caplog, "request_finished")
    assert ExportJob.objects.get(pk=response.json()["id"]).status == ExportJob.Status.DONE
    lines = [json.loads(line) for line in json_worker.text().splitlines() if line.startswith("{")]
    task_lines = wait_for(lambda: [line for line in lines if line.get("event") == "task_succeeded"],
                          what="the task's structured line")
    assert [line["request_id"] for line in task_lines] == [request_id]
