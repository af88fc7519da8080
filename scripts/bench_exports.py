"""Time the dossier-list and pending-VA exports of the largest organisation against a COPY of the same rows.

    DATABASE_URL=postgres://…/db .venv/bin/python scripts/bench_exports.py [--repeat 3]

On a database loaded with `manage.py generate_dossiers` (docs/benchmarks.md, "Exports"). Each export is read as a
client reads the response (its streamed pieces); the first piece and the whole are timed, and the best of
`--repeat` runs is printed beside the COPY's.
"""
import argparse
import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segurtrack.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402

from dossiers.models import Dossier  # noqa: E402
from reports import generators  # noqa: E402
from reports.exports import FORMATTERS  # noqa: E402


def copy_seconds(queryset) -> tuple[float, int]:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        statement = cursor.mogrify(sql, params)
        statement = statement.decode() if isinstance(statement, bytes) else statement
        started = time.perf_counter()
        sink = io.BytesIO()
        with cursor.cursor.copy(f"COPY ({statement}) TO STDOUT WITH (FORMAT csv, HEADER)") as copy:
            for data in copy:
                sink.write(data)
        return time.perf_counter() - started, sink.tell()


def export_seconds(report, fmt: str) -> tuple[float, float, int]:
    started = time.perf_counter()
    response = FORMATTERS[fmt].response(report.columns, report.rows(), filename=f"x.{fmt}", title=str(report.title))
    first, size = None, 0
    for piece in response.streaming_content:
        if first is None:
            first = time.perf_counter() - started
        size += len(piece)
    return first, time.perf_counter() - started, size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    largest = (Dossier.objects.values("organisation_id").annotate(n=Count("id")).order_by("-n").first())
    organisation = largest["organisation_id"]
    cases = {
        "dossiers": lambda: generators.DossierListReport(organisation, {}),
        "pending-va": lambda: generators.PendingVaReport(organisation, {}),
    }
    for name, make in cases.items():
        report = make()
        rows = report.count()
        queryset = report.values()  # the same rows and columns, labels included
        copy = min(copy_seconds(queryset)[0] for _ in range(args.repeat))
        print(f"{name}: {rows} rows, COPY {copy:.2f} s")
        for fmt in ("csv", "xlsx"):
            runs = [export_seconds(make(), fmt) for _ in range(args.repeat)]
            first, total, size = min(runs, key=lambda run: run[1])
            print(f"  {fmt}: {total:.2f} s ({total / copy:.1f}x COPY), first byte {first * 1000:.0f} ms, "
                  f"{size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
