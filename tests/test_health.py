"""`/health/`: public, 200 when every configured part answers, 503 naming the part that is down, nothing secret."""
import asyncio
import os
import shutil
import socket
import subprocess
import time

import pytest
import redis
from health_check.checks import Database

from .deployment.conftest import s3  # noqa: F401 (the document storage as an S3 bucket)

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
CLOSED = "redis://:s3cret-password@127.0.0.1:1/0"  # nothing listens on port 1

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _patient_checks(settings):
    """A part that answers must not be reported down because this shared machine is busy: a closed port or a
    stopped server still fails at once (connection refused), whatever the budget."""
    settings.HEALTH_CHECK_TIMEOUT_SECONDS = 30


def test_every_part_up_answers_200_without_signing_in(client, settings):
    settings.REDIS_URL = REDIS_URL
    settings.CELERY_BROKER_URL = REDIS_URL
    response = client.get("/health/")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "down": [], "checks": {
        "database": "ok", "cache": "ok", "storage": "ok", "redis": "ok", "broker": "ok"}}
    assert "no-cache" in response["Cache-Control"]


def test_without_redis_nor_broker_only_the_embedded_parts_are_checked(client, settings):
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_URL = ""
    response = client.get("/health/")
    assert response.status_code == 200
    assert set(response.json()["checks"]) == {"database", "cache", "storage"}


def test_redis_down_answers_503_naming_redis_and_nothing_secret(client, settings):
    settings.REDIS_URL = CLOSED
    settings.CELERY_BROKER_URL = REDIS_URL
    response = client.get("/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["down"] == ["redis"]
    assert "Redis" in body["checks"]["redis"]
    assert body["checks"]["broker"] == "ok"
    assert b"s3cret" not in response.content and b"127.0.0.1" not in response.content


def test_broker_down_answers_503_naming_the_broker(client, settings):
    settings.REDIS_URL = REDIS_URL
    settings.CELERY_BROKER_URL = CLOSED
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["down"] == ["broker"]
    assert b"s3cret" not in response.content and b"127.0.0.1" not in response.content


def test_storage_that_cannot_be_written_answers_503_naming_storage(client, settings, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_URL = ""
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(blocker / "documents")}}}
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["down"] == ["storage"]
    assert str(tmp_path).encode() not in response.content


def test_the_health_check_leaves_no_file_in_storage(client, settings, tmp_path):
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_URL = ""
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    assert client.get("/health/").status_code == 200
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


@pytest.fixture
def own_redis():
    """A throwaway redis-server on a free port (never the shared one): the test stops it while the app uses it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([shutil.which("redis-server") or "/usr/bin/redis-server", "--port", str(port),
                                "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline and process.poll() is None, "redis-server did not start"
                time.sleep(0.1)
        yield url, process
    finally:
        client.close()
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)


def test_with_its_redis_stopped_the_answer_is_503_naming_the_cache_redis_and_the_broker(client, settings, own_redis):
    url, process = own_redis
    settings.REDIS_URL = settings.CELERY_BROKER_URL = url
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}
    up = client.get("/health/")
    assert up.status_code == 200, up.content
    assert up.json()["checks"] == {"database": "ok", "cache": "ok", "storage": "ok", "redis": "ok", "broker": "ok"}

    process.terminate()
    process.wait(timeout=10)
    down = client.get("/health/")
    assert down.status_code == 503
    body = down.json()
    assert body["status"] == "down" and sorted(body["down"]) == ["broker", "cache", "redis"]
    assert body["checks"]["database"] == "ok" and body["checks"]["storage"] == "ok"
    assert url.encode() not in down.content and b"127.0.0.1" not in down.content


def test_object_storage_is_checked_and_a_missing_bucket_answers_503_naming_storage(client, settings, s3):  # noqa: F811
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_URL = ""
    response = client.get("/health/")
    assert response.status_code == 200, response.content
    assert s3.keys() == []  # the probe file is deleted again
    settings.STORAGES = {**settings.STORAGES, "default": {**settings.STORAGES["default"], "OPTIONS": {
        **settings.STORAGES["default"]["OPTIONS"], "bucket_name": "no-such-bucket"}}}
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["down"] == ["storage"] and b"no-such-bucket" not in response.content


def test_a_part_slower_than_the_budget_is_reported_down_by_name(client, settings, monkeypatch):
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_URL = ""
    settings.HEALTH_CHECK_TIMEOUT_SECONDS = 0.2

    async def slow(self):
        await asyncio.sleep(2)
    monkeypatch.setattr(Database, "run", slow)
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["down"] == ["database"] and "0.2" in response.json()["checks"]["database"]
