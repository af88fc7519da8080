"""Benchmarks against the database already loaded by scripts/bench.sh: no test database; ours against the floor.

The floor of a case is the best plain SQL for the same answer with the right index (not the statements we happen
to run). Each case runs for two organisations of the loaded data set:

- `largest`: the organisation with the most dossiers;
- `mid`: the organisation whose size is closest to BENCH_MID_SIZE (default 26,000 dossiers: the largest
  organisation of the 200,000-dossier data set, so a run on each data set times a same-size organisation).

A case reports ours ÷ floor per organisation, and the session reports largest ÷ mid (flat: it must not grow with
the organisation) and writes both to `docs/benchmarks.md`, in a block of its own per data set size. The results of
each data set are also kept as JSON beside it (`docs/bench/<dossiers>.json`) so the same-size organisation can be
compared across data sets (it must not grow with the database either).
"""
from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from organisations.models import Organisation

DOCS = Path(__file__).resolve().parents[3] / "docs" / "benchmarks.md"
JSON_DIR = DOCS.parent / "bench"
RESULTS: list[Result] = []
MID_SIZE = int(os.environ.get("BENCH_MID_SIZE", "26000"))
FLAT_TARGET = 1.3


@dataclass
class Result:
    case: str
    org: str                 # "largest" or "mid"
    org_size: int
    ours: list[float]
    floor: list[float]
    queries: int | str
    target: float | None
    load: tuple[float, float, float]
    notes: str = ""
    extra: dict = field(default_factory=dict)

    @staticmethod
    def quantile(values: list[float], p: int) -> float:
        return statistics.quantiles(values, n=10, method="inclusive")[p // 10 - 1]

    def summary(self, values: list[float]) -> str:
        return (f"{statistics.median(values) * 1000:.2f} ({self.quantile(values, 10) * 1000:.2f}–"
                f"{self.quantile(values, 90) * 1000:.2f})")

    @property
    def median(self) -> float:
        return statistics.median(self.ours)

    @property
    def ratio(self) -> float:
        return statistics.median(self.ours) / statistics.median(self.floor)

    @property
    def met(self) -> str:
        if self.target is None:
            return "no target"
        return "yes" if self.ratio <= self.target else "**no**"

    def row(self) -> str:
        target = "—" if self.target is None else f"≤ {self.target:g}×"
        return (f"| {self.case} | {self.org} ({self.org_size:,}) | {len(self.ours)} | {self.summary(self.ours)} | "
                f"{self.summary(self.floor)} | {self.ratio:.2f}× | {target} | {self.met} | {self.queries} | "
                f"{self.load[0]:.2f} |")


HEADER = ("| case | organisation (dossiers) | n | ours ms median (p10–p90) | floor ms median (p10–p90) | "
          "ours ÷ floor | target | met | queries (ours) | load 1 min |\n"
          "|---|---|---:|---:|---:|---:|---:|---|---:|---:|")
FLAT_HEADER = ("| case | largest ms | mid ms | largest ÷ mid | target | met |\n|---|---:|---:|---:|---:|---|")


def table() -> str:
    return HEADER + "\n" + "\n".join(r.row() for r in RESULTS)


def flat_ratio(pair: dict[str, Result]) -> tuple[float, str]:
    """largest ÷ mid, and what it is measured as. A case whose answer itself grows with the organisation (every open
    deadline, an exact count the API contract requires) cannot take the same time for 131,660 dossiers as for 29,440:
    its growth is divided by its floor's growth (the best SQL for the same, larger answer), so it is flat when it
    grows no faster than the answer does."""
    ratio = pair["largest"].median / pair["mid"].median
    if pair["largest"].extra.get("answer_grows"):
        floor_growth = statistics.median(pair["largest"].floor) / statistics.median(pair["mid"].floor)
        return ratio / floor_growth, f"{ratio:.2f}× ÷ floor's {floor_growth:.2f}× ="
    return ratio, ""


def flatness() -> str:
    """largest ÷ mid for every case measured on both."""
    by_case: dict[str, dict[str, Result]] = {}
    for result in RESULTS:
        by_case.setdefault(result.case, {})[result.org] = result
    rows = []
    for case, pair in by_case.items():
        if {"largest", "mid"} <= pair.keys():
            ratio, how = flat_ratio(pair)
            rows.append(f"| {case} | {pair['largest'].median * 1000:.2f} | {pair['mid'].median * 1000:.2f} | "
                        f"{how + ' ' if how else ''}{ratio:.2f}× | ≤ {FLAT_TARGET:g}× | "
                        f"{'yes' if ratio <= FLAT_TARGET else '**no**'} |")
    return FLAT_HEADER + "\n" + "\n".join(rows) if rows else ""


# --- the database and its organisations ----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def django_db_setup():
    """The database is the one scripts/bench.sh loaded (DATABASE_URL): nothing to create, nothing to drop."""


DATASET: dict[str, object] = {}


@pytest.fixture(scope="session", autouse=True)
def _bench_database(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        DATASET["total"], DATASET["machine"] = _dataset()
        yield


@pytest.fixture(scope="session")
def raw():
    """A plain psycopg connection to the same database, autocommit (each raw case opens its own transaction)."""
    conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    yield conn
    conn.close()


def fetch(raw, sql: str, params=()) -> list:
    with raw.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@pytest.fixture(scope="session")
def sizes() -> dict[str, tuple[Organisation, int]]:
    """The organisations each case runs for, with their number of dossiers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT organisation_id, count(*) FROM dossiers_dossier GROUP BY 1 ORDER BY 2 DESC, 1")
        counts = cursor.fetchall()
    assert counts, "the benchmark database holds no dossier: run scripts/bench.sh"
    largest = counts[0]
    mid = min(counts, key=lambda row: (abs(row[1] - MID_SIZE), row[0]))
    chosen = {"largest": largest}
    if mid[0] != largest[0]:
        chosen["mid"] = mid
    return {label: (Organisation.objects.get(pk=pk), n) for label, (pk, n) in chosen.items()}


@pytest.fixture(params=["largest", "mid"])
def sized(request, sizes) -> tuple[str, Organisation, int]:
    """(label, organisation, dossiers) of one organisation each case runs for."""
    if request.param not in sizes:
        pytest.skip("this data set's largest organisation is the mid-size one")
    organisation, n = sizes[request.param]
    return request.param, organisation, n


def member(organisation: Organisation, role: str = "manager"):
    return get_user_model().objects.get(memberships__organisation=organisation, memberships__role=role)


@pytest.fixture
def member_client(sized):
    client = Client()
    client.force_login(member(sized[1]))
    yield client
    client.logout()


@pytest.fixture
def api_client(sized):
    """An API client with a token of the organisation's manager, as a vendor's integration calls us."""
    from organisations.models import ApiToken, Membership

    membership = Membership.objects.get(organisation=sized[1], role="manager")
    token, key = ApiToken.issue(membership, name="bench", scope="write")
    client = Client(HTTP_AUTHORIZATION=f"Token {key}")
    yield client
    token.delete()


def get_ok(client, url: str, **extra):
    """The timed side that asks our page or endpoint: `url` must answer 200; the whole body is read."""
    def ours():
        response = client.get(url, **extra)
        assert response.status_code == 200, (url, response.status_code)
        if response.streaming:
            b"".join(response.streaming_content)
        return response
    return ours


def count_queries(func: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as captured:
        func()
    return len([q for q in captured.captured_queries
                if not re.match(r"\s*(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK|BEGIN|COMMIT)", q["sql"])])


def compare(case: str, sized: tuple[str, Organisation, int], ours: Callable[[], object],
            floor: Callable[[], object], *, n: int, warmup: int = 3, target: float | None, queries: int | str,
            notes: str = "", answer_grows: bool = False) -> Result:
    """Warm both up, then alternate them (which goes first alternates too) so they share the machine's noise."""
    for _ in range(warmup):
        ours()
        floor()
    timings: dict[int, list[float]] = {0: [], 1: []}
    sides = [(0, ours), (1, floor)]
    for i in range(n):
        for key, func in (sides if i % 2 == 0 else sides[::-1]):
            start = time.perf_counter()
            func()
            timings[key].append(time.perf_counter() - start)
    label, _organisation, size = sized
    result = Result(case, label, size, timings[0], timings[1], queries, target, os.getloadavg(), notes,
                    {"answer_grows": True} if answer_grows else {})
    RESULTS.append(result)
    print(f"\n{HEADER}\n{result.row()}")
    return result


# --- the report ----------------------------------------------------------------------------------------------------

def _dataset() -> tuple[int, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM dossiers_dossier")
        total = cursor.fetchone()[0]
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return total, f"{os.cpu_count()} CPU, {memory:.1f} GiB, PostgreSQL {pg}"


def markers(total: int | str) -> tuple[str, str]:
    return f"<!-- bench:results:{total}:start -->", f"<!-- bench:results:{total}:end -->"


def missed() -> list[str]:
    """The cases (and organisations) that missed their target, and the cases that are not flat."""
    misses = [f"{r.case} [{r.org}]: {r.ratio:.2f}× > {r.target:g}×" for r in RESULTS
              if r.target is not None and r.ratio > r.target]
    by_case: dict[str, dict[str, Result]] = {}
    for result in RESULTS:
        by_case.setdefault(result.case, {})[result.org] = result
    for case, pair in by_case.items():
        if {"largest", "mid"} <= pair.keys():
            ratio, how = flat_ratio(pair)
            if ratio > FLAT_TARGET:
                misses.append(f"{case}: largest ÷ mid {how + ' ' if how else ''}{ratio:.2f}× > {FLAT_TARGET:g}×")
    return misses


def pytest_sessionfinish(session, exitstatus):
    if not RESULTS:
        return
    misses = missed()
    if misses:
        print("\nbench: targets missed:\n  " + "\n  ".join(misses))
        session.exitstatus = 1
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    total, machine = DATASET["total"], DATASET["machine"]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=DOCS.parent).stdout.strip()
    start, end = markers(total)
    command = os.environ.get("BENCH_COMMAND", "scripts/bench.sh")
    block = (f"{start}\n#### {total:,} dossiers\n\nLast run: {stamp}, commit {commit}, {machine}, `{command}`, "
             f"load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}.\n\n{table()}\n\n"
             f"Flat in the organisation's size (largest ÷ mid):\n\n{flatness()}\n{end}")
    print("\n" + block)
    # Only a full run replaces the results (a run narrowed with -k would drop the other cases' rows).
    full = not session.config.option.keyword and not session.config.option.markexpr
    if not (full and os.environ.get("BENCH_WRITE_DOCS", "1") == "1" and DOCS.exists()):
        return
    JSON_DIR.mkdir(exist_ok=True)
    (JSON_DIR / f"{total}.json").write_text(json.dumps(
        {"stamp": stamp, "commit": commit, "machine": machine,
         "results": [{**asdict(r), "ours": r.ours, "floor": r.floor} for r in RESULTS]}, indent=1) + "\n")
    text = _replace_block(DOCS.read_text(), total, block)
    growth = database_growth()
    if growth:
        start, end = markers("growth")
        text = _replace_block(text, "growth", f"{start}\n{growth}\n{end}")
    DOCS.write_text(text)


def _replace_block(text: str, key: int | str, block: str) -> str:
    start, end = markers(key)
    if start in text and end in text:
        return re.sub(re.escape(start) + ".*?" + re.escape(end), lambda m: block, text, flags=re.DOTALL)
    return text.rstrip("\n") + "\n\n" + block + "\n"


GROWTH_HEADER = ("| case | organisation, larger database | ms | same size, smaller database | ms | ratio | target "
                 "| met |\n|---|---|---:|---|---:|---:|---:|---|")


def database_growth() -> str:
    """The mid organisation of the largest data set against the largest organisation of the smallest one (the same
    size, in a database several times smaller), per case: it must not grow with the database (≤ 1.3×)."""
    runs = sorted(((int(path.stem), json.loads(path.read_text())) for path in JSON_DIR.glob("*.json")
                   if path.stem.isdigit()), key=lambda run: run[0])
    if len(runs) < 2:
        return ""
    (small_size, small), (big_size, big) = runs[0], runs[-1]
    smaller = {r["case"]: r for r in small["results"] if r["org"] == "largest"}
    rows = []
    for result in big["results"]:
        other = smaller.get(result["case"])
        if result["org"] != "mid" or other is None:
            continue
        mine, theirs = statistics.median(result["ours"]), statistics.median(other["ours"])
        ratio = mine / theirs
        rows.append(f"| {result['case']} | {result['org_size']:,} of {big_size:,} | {mine * 1000:.2f} | "
                    f"{other['org_size']:,} of {small_size:,} | {theirs * 1000:.2f} | {ratio:.2f}× | "
                    f"≤ {FLAT_TARGET:g}× | {'yes' if ratio <= FLAT_TARGET else '**no**'} |")
    return GROWTH_HEADER + "\n" + "\n".join(rows) if rows else ""
