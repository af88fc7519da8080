"""Benchmark of generate_dossiers (not in the default run): `pytest tests/perf -s`, see docs/benchmarks.md.

PERF_DOSSIERS sets the size (default 100 000 on PostgreSQL; SQLite is capped at 10 000 by the command).
"""
import os
import re
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from dossiers.models import Blocker, Dossier, HistoryEntry

# The load runs outside a test transaction so the worker processes are used as in production;
# serialized_rollback restores the reference data that the flush afterwards removes.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_generating_dossiers_keeps_a_bulk_loading_pace():
    default = 100_000 if connection.vendor == "postgresql" else 10_000
    count = int(os.environ.get("PERF_DOSSIERS", default))
    out = StringIO()
    started = time.monotonic()
    call_command("generate_dossiers", count=count, organisations=10, seed=1, batch=min(50_000, count), stdout=out)
    seconds = time.monotonic() - started
    print(f"\n{out.getvalue()}\n{count:,} dossiers in {seconds:.1f} s on {connection.vendor}")
    assert Dossier.objects.count() == count
    assert HistoryEntry.objects.count() > 6 * count and Blocker.objects.exists()
    rates = re.search(r"générés en [\d.]+ s \(([\d,]+) dossiers/s\)", out.getvalue())
    # A floor far below the measured pace (docs/benchmarks.md): it catches a path gone row-by-row, not noise.
    assert int(rates.group(1).replace(",", "")) >= (400 if connection.vendor == "postgresql" else 200)
