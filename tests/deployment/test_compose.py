"""The deployment description (Dockerfile, compose.yaml) cannot be run here (no Docker): its YAML must parse, its
services must be the ones docs/deployment.md describes, and every variable it gives the application must be one
the application reads (a misspelt name would otherwise be ignored without a word)."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = {"web-1", "web-2", "worker-1", "worker-2", "beat", "migrate"}
# Read by a library rather than by a line of ours: dj-database-url reads DATABASE_URL.
READ_BY_LIBRARIES = {"DATABASE_URL"}
READ = re.compile(r"""(?:os\.environ(?:\.get)?[\[(]|env_bool\(|env_list\(|getenv\()\s*["']([A-Z][A-Z0-9_]*)["']""")


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def variables_the_application_reads() -> set[str]:
    names = set(READ_BY_LIBRARIES)
    for app in ("segurtrack", "dossiers", "imports", "varequests", "webhooks", "organisations", "faqref"):
        for source in (ROOT / app).rglob("*.py"):
            names |= set(READ.findall(source.read_text()))
    return names


def test_the_compose_file_has_every_process_of_the_deployment():
    services = compose()["services"]
    assert APP_SERVICES | {"postgres", "pgbouncer", "redis", "minio", "bucket"} == set(services)
    for web in ("web-1", "web-2"):
        assert services[web]["command"][0] == "gunicorn" and services[web]["healthcheck"]
        assert "/health/" in " ".join(services[web]["healthcheck"]["test"])
    for worker in ("worker-1", "worker-2"):
        assert services[worker]["command"][:4] == ["celery", "-A", "segurtrack", "worker"]
    assert [name for name, service in services.items() if "beat" in service.get("command", [])] == ["beat"]


def test_the_application_goes_through_pgbouncer_in_transaction_mode_to_an_s3_store():
    services = compose()["services"]
    assert services["pgbouncer"]["environment"]["POOL_MODE"] == "transaction"
    for name in APP_SERVICES - {"migrate"}:
        env = services[name]["environment"]
        assert "@pgbouncer:6432/" in env["DATABASE_URL"], name
        assert env["DATABASE_DISABLE_SERVER_SIDE_CURSORS"] == "1"
        assert env["STORAGE_BACKEND"] == "s3" and env["AWS_S3_ENDPOINT_URL"] == "http://minio:9000"
        assert env["REDIS_URL"].startswith("redis://redis:") and env["CELERY_BROKER_URL"].startswith("redis://redis:")
    # Migrations hold their locks on one session: straight to PostgreSQL.
    assert "@postgres:5432/" in services["migrate"]["environment"]["DATABASE_URL"]


def test_every_variable_given_to_the_application_is_read_by_it():
    read = variables_the_application_reads()
    services = compose()["services"]
    for name in APP_SERVICES:
        unknown = set(services[name]["environment"]) - read
        assert not unknown, (name, unknown)


def test_the_secrets_have_no_default_in_the_compose_file():
    text = (ROOT / "compose.yaml").read_text()
    for secret in ("DJANGO_SECRET_KEY", "HISTORY_ANCHOR_KEY", "POSTGRES_PASSWORD", "MINIO_ROOT_PASSWORD"):
        uses = re.findall(rf"\$\{{{secret}(:[?-][^}}]*)?\}}", text)
        assert uses and all(use.startswith(":?") for use in uses), (secret, uses)


def test_the_image_installs_the_pinned_requirements_collects_static_files_and_runs_gunicorn_unprivileged():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11", dockerfile, re.M)
    assert "pip install -r requirements.txt" in dockerfile
    assert "collectstatic --noinput" in dockerfile
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.M)
    assert re.search(r'^CMD \["gunicorn", "segurtrack\.wsgi"', dockerfile, re.M)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and ".git" in ignored


def test_every_variable_of_the_deployment_documentation_is_read_by_the_application():
    documented = re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", (ROOT / "docs" / "deployment.md").read_text(), re.M)
    assert len(documented) >= 20
    assert set(documented) - variables_the_application_reads() == set()
