#!/usr/bin/env bash
# Production background processes: a Celery worker and Celery beat, against Redis.
#
#   CELERY_BROKER_URL=redis://127.0.0.1:6379/0 DATABASE_URL=postgres://… scripts/worker.sh [all|worker|beat]
#
# `all` (default) runs both and stops both when either exits (for a supervisor: systemd, a container). Run
# `worker` and `beat` as services of their own instead to scale workers. Beat runs celery-redbeat's scheduler
# (segurtrack/settings.py): it holds a lock in Redis, so a second beat (another machine, a restart overlapping the
# old one) waits and sends nothing until the first stops renewing the lock (CELERY_REDBEAT_LOCK_TIMEOUT, 60 s).
# The schedule is written in segurtrack/celery.py (app.conf.beat_schedule): reviewed and tested with the code, no
# table to migrate or keep in sync. Tunables: CELERY_CONCURRENCY (default: CPUs), CELERY_LOGLEVEL (info).
set -euo pipefail
cd "$(dirname "$0")/.."

: "${CELERY_BROKER_URL:?CELERY_BROKER_URL must name the Redis broker, e.g. redis://127.0.0.1:6379/0}"
export CELERY_BROKER_URL
mode=${1:-all}
loglevel=${CELERY_LOGLEVEL:-info}
celery=.venv/bin/celery

worker_cmd=("$celery" -A segurtrack worker --loglevel "$loglevel" ${CELERY_CONCURRENCY:+--concurrency "$CELERY_CONCURRENCY"})
beat_cmd=("$celery" -A segurtrack beat --loglevel "$loglevel")

case "$mode" in
  worker) exec "${worker_cmd[@]}" ;;
  beat) exec "${beat_cmd[@]}" ;;
  all)
    # The venv's binaries themselves, so the pids are the processes (not subshells) and signals reach them.
    "${beat_cmd[@]}" & beat_pid=$!
    "${worker_cmd[@]}" & worker_pid=$!
    stop() { kill -TERM "$worker_pid" "$beat_pid" 2>/dev/null || true; }
    trap stop INT TERM
    status=0
    wait -n "$worker_pid" "$beat_pid" || status=$?
    stop
    wait "$worker_pid" "$beat_pid" 2>/dev/null || true
    exit "$status"
    ;;
  *) echo "usage: $0 [all|worker|beat]" >&2; exit 2 ;;
esac
