"""Production settings pass Django's deployment checks with no warning."""
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _check(env_extra):
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_DEBUG", "DJANGO_SECRET_KEY", "HISTORY_ANCHOR_KEY",
                                                                "REDIS_URL", "CACHE_URL"}}
    env.update(env_extra)
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


PRODUCTION = {"DJANGO_PRODUCTION": "1", "DJANGO_ALLOWED_HOSTS": "segurtrack.example.fr",
              "REDIS_URL": "redis://127.0.0.1:6379/0"}


@pytest.mark.slow
def test_check_deploy_is_clean_under_production_settings():
    result = _check({**PRODUCTION, "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
                     "HISTORY_ANCHOR_KEY": secrets.token_urlsafe(32)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_when_production_keeps_its_cache_in_process_memory():
    """Several web processes on per-process caches would each count the throttles on their own (issue 17)."""
    env = {**PRODUCTION, "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
           "HISTORY_ANCHOR_KEY": secrets.token_urlsafe(32)}
    del env["REDIS_URL"]
    result = _check(env)
    assert result.returncode != 0
    assert "segurtrack.W001" in result.stdout + result.stderr and "LocMemCache" in result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = _check({"DJANGO_PRODUCTION": "1", "DJANGO_ALLOWED_HOSTS": "segurtrack.example.fr"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


@pytest.mark.slow
def test_development_defaults_fail_the_deploy_check():
    result = _check({"DJANGO_PRODUCTION": "0", "DJANGO_DEBUG": "1"})
    assert result.returncode != 0
    assert "security.W" in result.stdout + result.stderr


def test_production_refuses_to_start_without_a_history_anchor_key():
    result = _check({"DJANGO_PRODUCTION": "1", "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
                     "DJANGO_ALLOWED_HOSTS": "segurtrack.example.fr"})
    assert result.returncode != 0
    assert "HISTORY_ANCHOR_KEY" in result.stderr
