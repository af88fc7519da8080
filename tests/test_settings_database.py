"""Database settings from the environment: persistent, health-checked connections; PgBouncer's cursor switch."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRINT = ("import json; from segurtrack import settings as s; d = s.DATABASES['default']; "
         "print(json.dumps({k: d.get(k) for k in ('ENGINE', 'CONN_MAX_AGE', 'CONN_HEALTH_CHECKS', "
         "'DISABLE_SERVER_SIDE_CURSORS')} | {'PREPARED_STATEMENTS': s.PREPARED_STATEMENTS}))")
VARIABLES = {"DATABASE_URL", "DATABASE_CONN_MAX_AGE", "DATABASE_DISABLE_SERVER_SIDE_CURSORS",
             "DATABASE_PREPARED_STATEMENTS"}


def database_settings(**env: str) -> dict:
    environment = {k: v for k, v in os.environ.items() if k not in VARIABLES} | env
    result = subprocess.run([sys.executable, "-c", PRINT], cwd=ROOT, env=environment, capture_output=True,
                            text=True, timeout=60, check=True)
    return json.loads(result.stdout)


def test_the_embedded_default_is_sqlite_with_persistent_health_checked_connections():
    assert database_settings() == {"ENGINE": "django.db.backends.sqlite3", "CONN_MAX_AGE": 60,
                                   "CONN_HEALTH_CHECKS": True, "DISABLE_SERVER_SIDE_CURSORS": False,
                                   "PREPARED_STATEMENTS": True}


def test_postgresql_keeps_server_side_cursors_unless_told_it_is_behind_pgbouncer():
    url = "postgres://segur@db.example:6432/segurtrack"
    direct = database_settings(DATABASE_URL=url)
    assert direct["ENGINE"] == "django.db.backends.postgresql"
    assert direct["CONN_MAX_AGE"] == 60 and direct["CONN_HEALTH_CHECKS"] is True
    assert direct["DISABLE_SERVER_SIDE_CURSORS"] is False
    pooled = database_settings(DATABASE_URL=url, DATABASE_DISABLE_SERVER_SIDE_CURSORS="1",
                               DATABASE_CONN_MAX_AGE="0")
    assert pooled["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert pooled["CONN_MAX_AGE"] == 0
    assert database_settings(DATABASE_URL=url, DATABASE_DISABLE_SERVER_SIDE_CURSORS="0")[
        "DISABLE_SERVER_SIDE_CURSORS"] is False


def test_prepared_statements_are_off_behind_a_transaction_pooler_unless_told_otherwise():
    """A prepared statement lives on one server connection; PgBouncer in transaction mode hands each transaction
    another one. The pooler's switch turns them off; DATABASE_PREPARED_STATEMENTS overrides either way."""
    url = "postgres://segur@db.example:6432/segurtrack"
    assert database_settings(DATABASE_URL=url)["PREPARED_STATEMENTS"] is True
    assert database_settings(DATABASE_URL=url, DATABASE_DISABLE_SERVER_SIDE_CURSORS="1")["PREPARED_STATEMENTS"] is False
    assert database_settings(DATABASE_URL=url, DATABASE_DISABLE_SERVER_SIDE_CURSORS="1",
                             DATABASE_PREPARED_STATEMENTS="1")["PREPARED_STATEMENTS"] is True
    assert database_settings(DATABASE_URL=url, DATABASE_PREPARED_STATEMENTS="0")["PREPARED_STATEMENTS"] is False
