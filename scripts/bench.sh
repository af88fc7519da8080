#!/usr/bin/env bash
# Benchmarks (tests/perf/bench): each case against the raw SQL it needs, on a database loaded with
# generate_dossiers. The database is kept between runs; on a fresh clone it is created, migrated and loaded.
#   BENCH_DATABASE_URL  default postgres://postgres@127.0.0.1:5432/segurtrack_bench
#   BENCH_COUNT         dossiers to generate when the database is empty (default 1000000, ~5 min)
#   BENCH_WRITE_DOCS=0  do not rewrite the results table in docs/benchmarks.md
# Extra arguments go to pytest (e.g. -k pipeline). Exit status: non-zero when a target is missed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
export DATABASE_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/segurtrack_bench}
count=${BENCH_COUNT:-1000000}
dbname=${DATABASE_URL##*/}
dbname=${dbname%%\?*}
server=${DATABASE_URL%/*}

if ! psql "$server/postgres" -tAc "select 1 from pg_database where datname='${dbname}'" | grep -q 1; then
  echo "bench: creating ${dbname}"
  psql "$server/postgres" -qc "CREATE DATABASE \"${dbname}\""
fi
# New migrations (indexes among them) apply to the loaded data; nothing is dropped.
"$PYTHON" manage.py migrate --no-input -v 0
dossiers=$(psql "$DATABASE_URL" -tAc "select count(*) from dossiers_dossier")
if [ "$dossiers" = 0 ]; then
  echo "bench: loading ${count} dossiers (generate_dossiers)"
  "$PYTHON" manage.py generate_dossiers --count "$count" --organisations 20 --seed 1
fi
faq=$(psql "$DATABASE_URL" -tAc "select count(*) from faqref_entry")
if [ "$faq" = 0 ]; then
  "$PYTHON" manage.py import_faq
fi

memory=$(free -g | awk '/Mem:/ {print $2}')
server_version=$(psql "$DATABASE_URL" -tAc 'show server_version')
echo "bench: $(nproc) CPU, ${memory} GiB, PostgreSQL ${server_version}, load $(cut -d' ' -f1-3 /proc/loadavg)"
# pytest.ini ignores tests/perf: clear its addopts; the generation benchmark (its own test database) is not run.
exec "$PYTHON" -m pytest -o addopts="" -p no:cacheprovider -ra -s tests/perf/bench "$@"
