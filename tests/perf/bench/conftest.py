"""Benchmarks against the database already loaded by scripts/bench.sh: no test database, ours against raw SQL."""
from __future__ import annotations

import os
import re
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

DOCS = Path(__file__).resolve().parents[3] / "docs" / "benchmarks.md"
START, END = "<!-- bench:results:start -->", "<!-- bench:results:end -->"
RESULTS: list[Result] = []


@dataclass
class Result:
    case: str
    ours: list[float]
    raw: list[float]
    queries: int | str
    target: float | None
    load: tuple[float, float, float]
    notes: str = ""
    extra: dict = field(default_factory=dict)

    @staticmethod
    def _q(values: list[float], p: int) -> float:
        return statistics.quantiles(values, n=10, method="inclusive")[p // 10 - 1]

    def summary(self, values: list[float]) -> str:
        return (f"{statistics.median(values) * 1000:.2f} ({self._q(values, 10) * 1000:.2f}–"
                f"{self._q(values, 90) * 1000:.2f})")

    @property
    def ratio(self) -> float:
        return statistics.median(self.ours) / statistics.median(self.raw)

    @property
    def met(self) -> str:
        if self.target is None:
            return "no target"
        return "yes" if self.ratio <= self.target else "**no**"

    def row(self) -> str:
        target = "—" if self.target is None else f"≤ {self.target:g}×"
        return (f"| {self.case} | {len(self.ours)} | {self.summary(self.ours)} | {self.summary(self.raw)} | "
                f"{self.ratio:.2f}× | {target} | {self.met} | {self.queries} | "
                f"{self.load[0]:.2f} |")


HEADER = ("| case | n | ours ms median (p10–p90) | raw ms median (p10–p90) | ratio | target | met | "
          "queries (ours) | load 1 min |\n|---|---:|---:|---:|---:|---:|---|---:|---:|")


def table() -> str:
    return HEADER + "\n" + "\n".join(r.row() for r in RESULTS)


@pytest.fixture(scope="session")
def django_db_setup():
    """The database is the one scripts/bench.sh loaded (DATABASE_URL): nothing to create, nothing to drop."""


@pytest.fixture(scope="session", autouse=True)
def _bench_database(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        yield


@pytest.fixture(scope="session")
def raw():
    """A plain psycopg connection to the same database, autocommit (each raw case opens its own transaction)."""
    conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    yield conn
    conn.close()


def count_queries(func: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as captured:
        func()
    return len([q for q in captured.captured_queries
                if not re.match(r"\s*(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK|BEGIN|COMMIT)", q["sql"])])


def compare(case: str, ours: Callable[[], object], raw: Callable[[], object], *, n: int, warmup: int = 3,
            target: float | None, queries: int | str, notes: str = "") -> Result:
    """Warm both up, then alternate them (which goes first alternates too) so they share the machine's noise."""
    for _ in range(warmup):
        ours()
        raw()
    timings: dict[int, list[float]] = {0: [], 1: []}
    sides = [(0, ours), (1, raw)]
    for i in range(n):
        for key, func in (sides if i % 2 == 0 else sides[::-1]):
            start = time.perf_counter()
            func()
            timings[key].append(time.perf_counter() - start)
    result = Result(case, timings[0], timings[1], queries, target, os.getloadavg(), notes)
    RESULTS.append(result)
    print(f"\n{HEADER}\n{result.row()}")
    return result


def _machine() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} CPU, {memory:.1f} GiB, PostgreSQL {pg}"


def pytest_sessionfinish(session, exitstatus):
    if not RESULTS:
        return
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    try:
        machine = _machine()
    except Exception:  # the database may be gone when the session ends badly
        machine = f"{os.cpu_count()} CPU"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=DOCS.parent).stdout.strip()
    block = (f"{START}\nLast run: {stamp}, commit {commit} (plus working tree), {machine}, "
             f"load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}.\n\n{table()}\n{END}")
    print("\n" + block)
    # Only a full run replaces the table (a run narrowed with -k would drop the other cases' rows).
    full = not session.config.option.keyword and not session.config.option.markexpr
    if full and os.environ.get("BENCH_WRITE_DOCS", "1") == "1" and DOCS.exists():
        text = DOCS.read_text()
        if START in text and END in text:
            text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda m: block, text, flags=re.DOTALL)
        else:
            text = text.rstrip("\n") + "\n\n## Benchmarks: latest run\n\n" + block + "\n"
        DOCS.write_text(text)
