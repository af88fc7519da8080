"""Deadlines page and API for the largest organisation of an already loaded database: median of N requests each.

    DATABASE_URL=postgres://… .venv/bin/python tests/perf/bench_deadlines.py [N]

(docs/benchmarks.md, "Deadlines"). Not collected by pytest: a plain script, read-only but for a session row.
"""
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segurtrack.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402


def main(n: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT organisation_id, count(*) FROM dossiers_dossier GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1")
        org_id, dossiers = cursor.fetchone()
    user = get_user_model().objects.get(memberships__organisation_id=org_id, memberships__role="manager")
    client = Client()
    client.force_login(user)
    print(f"organisation {org_id}: {dossiers:,} dossiers")
    for label, url in (("page /echeances/", "/echeances/"), ("API /api/v1/deadlines/", "/api/v1/deadlines/")):
        timings = []
        for _ in range(n):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url)
                timings.append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code
        timings.sort()
        print(f"{label}: median {statistics.median(timings) * 1000:.1f} ms (min {timings[0] * 1000:.1f}, "
              f"max {timings[-1] * 1000:.1f}) over {n}; {len(queries)} queries; {len(response.content):,} bytes")
    # The whole list (the calendar feed, the daily scan behind reminders and deadline.due): kept rows against the
    # live computation they replace (the same rows, shown the same way).
    from django.utils import timezone

    from dossiers import deadlines
    from reports import deadlines as dl

    today, now = timezone.localdate(), timezone.now()

    def live():
        rows = deadlines.of_organisations([org_id]).order_by(*deadlines.ORDER)
        return [dl.as_deadline(row, today=today, now=now) for row in rows
                if row["dl_kind"] not in deadlines.INFORMATION_KINDS or row["dl_due"] >= today]

    for label, read in (("whole list, live", live), ("whole list, kept", lambda: dl.deadlines_for(org_id))):
        timings = []
        for _ in range(n):
            started = time.perf_counter()
            found = read()
            timings.append(time.perf_counter() - started)
        print(f"{label}: median {statistics.median(timings) * 1000:.1f} ms over {n}; {len(found):,} deadlines")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
