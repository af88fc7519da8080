#!/usr/bin/env bash
# Production background processes: a Celery worker and Celery beat, against Redis.
#
#   CELERY_BROKER_URL=redis://127.0.0.1:6379/0 DATABASE_URL=postgres://… scripts/worker.sh [all|worker|beat]
#
# `all` (default) runs both and stops both when either exits (for a supervisor: systemd, a container). Run
# `worker` and `beat` as two services instead to scale workers: exactly ONE beat must run per deployment.
# Beat uses Celery's default file-backed scheduler with the schedule written in segurtrack/celery.py
# (app.conf.beat_schedule): reviewed and tested with the code, no table to migrate or keep in sync. Tunables: CELERY_CONCURRENCY (default: CPUs), CELERY_LOGLEVEL (info),
# CELERY_BEAT_SCHEDULE_FILE (var/celerybeat-schedule: last run times, safe to delete).
set -euo pipefail
cd "$(dirname "$0")/.."

: "${CELERY_BROKER_URL:?CELERY_BROKER_URL must name the Redis broker, e.g. redis://127.0.0.1:6379/0}"
export CELERY_BROKER_URL
mode=${1:-all}
loglevel=${CELERY_LOGLEVEL:-info}
schedule_file=${CELERY_BEAT_SCHEDULE_FILE:-var/celerybeat-schedule}
mkdir -p "$(dirname "$schedule_file")"
celery=.venv/bin/celery

worker_cmd=("$celery" -A segurtrack worker --loglevel "$loglevel" ${CELERY_CONCURRENCY:+--concurrency "$CELERY_CONCURRENCY"})
beat_cmd=("$celery" -A segurtrack beat --loglevel "$loglevel" --scheduler celery.beat:PersistentScheduler
          --schedule "$schedule_file")

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
