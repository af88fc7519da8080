"""EXPLAIN (ANALYZE, BUFFERS) of the dossier list's queries on the largest organisation (docs/benchmarks.md,
"Dossier list"): page 1 in each sort, the counts, searches and a deep page by OFFSET and by key. PostgreSQL only."""
from __future__ import annotations

import re

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Count, QuerySet

from dossiers import queries
from dossiers.models import Dossier
from dossiers.views.list_paging import DEFAULT_COUNT_CAP

SIZE = 25


class Command(BaseCommand):
    help = "EXPLAIN (ANALYZE, BUFFERS) des requêtes de la liste des dossiers sur la plus grande organisation."

    def add_arguments(self, parser):
        parser.add_argument("--depth", type=int, default=25_000, help="Rang de la page profonde (défaut 25000).")
        parser.add_argument("--plans", action="store_true", help="Afficher les plans entiers.")

    def handle(self, *args, depth=25_000, plans=False, **options):
        if connection.vendor != "postgresql":
            raise CommandError("PostgreSQL seulement.")
        largest = Dossier.objects.values("organisation_id").annotate(n=Count("id")).order_by("-n").first()
        if largest is None:
            raise CommandError("Aucun dossier : lancez generate_dossiers.")
        org, self.plans = largest["organisation_id"], plans
        self.stdout.write(f"organisation {org}: {largest['n']} dossiers")
        listed = lambda **params: queries.dossier_list(org, **params)  # noqa: E731
        for sort in queries.SORTS:
            self.explain(f"page 1, sort {sort}", listed(sort=sort)[:SIZE])
        self.count("count, exact", listed())
        self.count(f"count, capped at {DEFAULT_COUNT_CAP}", listed(), cap=DEFAULT_COUNT_CAP)
        for q in ("hopital", "SEG-0123", "7500"):
            self.explain(f"search q={q}, page 1", listed(q=q)[:SIZE])
            self.count(f"search q={q}, count capped", listed(q=q), cap=DEFAULT_COUNT_CAP)
        for sort in (queries.DEFAULT_SORT, "client"):
            self.explain(f"deep page (OFFSET {depth}), sort {sort}", listed(sort=sort)[depth:depth + SIZE])
            last = listed(sort=sort)[depth - 1]
            self.explain(f"deep page (key), sort {sort}",
                         queries.after_key(listed(sort=sort), sort, queries.sort_key(last, sort))[:SIZE])

    def explain(self, label: str, queryset: QuerySet) -> None:
        self.run(label, *queryset.query.sql_with_params())

    def count(self, label: str, queryset: QuerySet, cap: int | None = None) -> None:
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
        self.run(label, f"SELECT count(*) FROM ({sql}{f' LIMIT {cap + 1}' if cap else ''}) AS rows", params)

    def run(self, label: str, sql: str, params) -> None:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            lines = [row[0] for row in cursor.fetchall()]
        took = next(line for line in lines if line.startswith("Execution Time"))
        scans = sorted({m.group(0) for line in lines for m in [re.search(r"(Index|Seq|Bitmap Index) Scan\S*"
                                                                        r"(?: Backward)? (?:using|on) \w+", line)] if m})
        self.stdout.write(f"{label:45} {took.split(': ')[1]:>12}   {'; '.join(scans)[:160]}")
        if self.plans:
            self.stdout.write("\n".join(lines) + "\n")
