#!/usr/bin/env bash
# Benchmarks (tests/perf/bench): each case against its floor (the best plain SQL for the same answer, with the right
# index), for the largest and a mid-size organisation, on each data set. One command on a clean clone:
#   bash scripts/bench.sh
# For each size in BENCH_SIZES (default "1000000 200000") it uses the database segurtrack_bench_<size>: created,
# migrated and loaded with generate_dossiers (20 organisations, seed 1) when empty, then VACUUM ANALYZE, then the
# cases. Databases are kept between runs (new migrations apply to the loaded data; nothing is dropped).
#   BENCH_SIZES         data set sizes, e.g. "200000" for a quick run
#   BENCH_SERVER        default postgres://postgres@127.0.0.1:5432
#   BENCH_MID_SIZE      the mid-size organisation: the one closest to this many dossiers (default 26000)
#   BENCH_WRITE_DOCS=0  do not rewrite the results in docs/benchmarks.md and docs/bench/<size>.json
# Extra arguments go to pytest (e.g. -k pipeline; a narrowed run does not rewrite the docs).
# Exit status: non-zero when a case misses its target on any data set.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
PYTHON=${PYTHON:-.venv/bin/python}
server=${BENCH_SERVER:-postgres://postgres@127.0.0.1:5432}
status=0
for size in ${BENCH_SIZES:-1000000 200000}; do
  dbname="segurtrack_bench_${size}"
  export DATABASE_URL="${server}/${dbname}"
  if ! psql "$server/postgres" -tAc "select 1 from pg_database where datname='${dbname}'" | grep -q 1; then
    echo "bench: creating ${dbname}"
    psql "$server/postgres" -qc "CREATE DATABASE \"${dbname}\""
  fi
  "$PYTHON" manage.py migrate --no-input -v 0
  dossiers=$(psql "$DATABASE_URL" -tAc "select count(*) from dossiers_dossier")
  if [ "$dossiers" = 0 ]; then
    echo "bench: loading ${size} dossiers (generate_dossiers)"
    start=$(date +%s)
    "$PYTHON" manage.py generate_dossiers --count "$size" --organisations 20 --seed 1
    echo "bench: generate_dossiers took $(( $(date +%s) - start )) s"
  fi
  if [ "$(psql "$DATABASE_URL" -tAc "select count(*) from faqref_entry")" = 0 ]; then
    "$PYTHON" manage.py import_faq
  fi
  # Kept tables derived from the dossiers (a migration added after the load leaves them empty), then fresh
  # statistics and a visibility map, as a database in service has after autovacuum.
  "$PYTHON" manage.py rebuild_counters
  psql "$DATABASE_URL" -qc "VACUUM ANALYZE"
  memory=$(free -g | awk '/Mem:/ {print $2}')
  echo "bench: ${size} dossiers, $(nproc) CPU, ${memory} GiB, PostgreSQL $(psql "$DATABASE_URL" -tAc 'show server_version'), load $(cut -d' ' -f1-3 /proc/loadavg)"
  # pytest.ini ignores tests/perf: clear its addopts; the generation benchmark (its own test database) is not run.
  # The request log stays on (production logs every request: its cost is timed) but goes to a file, not the screen.
  echo "bench: request log in ${TMPDIR:-/tmp}/bench-${size}.log"
  BENCH_COMMAND="BENCH_SIZES=\"${BENCH_SIZES:-1000000 200000}\" scripts/bench.sh $*" \
    "$PYTHON" -m pytest -o addopts="" -p no:cacheprovider -ra -s tests/perf/bench "$@" \
    2>"${TMPDIR:-/tmp}/bench-${size}.log" || status=1
done
exit $status
