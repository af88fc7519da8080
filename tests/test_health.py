"""`/health/`: public, 200 when every configured part answers, 503 naming the part that is down, nothing secret."""
import os

import pytest

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
CLOSED = "redis://:s3cret-password@127.0.0.1:1/0"  # nothing listens on port 1

pytestmark = pytest.mark.django_db


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
