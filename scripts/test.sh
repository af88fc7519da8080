#!/usr/bin/env bash
# Run the whole test suite against PostgreSQL and Redis (as CI does); fails if any test is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh

# Browser tests drive Debian's Chromium (Playwright's own browser download cannot work here).
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "chromium and chromium-driver are required (apt-get install chromium chromium-driver)" >&2; exit 1
  fi
fi

# The services this machine normally starts before a session; start them if they stopped.
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 1; done
fi

export DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/segurtrack}
export TEST_REDIS_URL=${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}
export FAIL_ON_SKIP=1
# The official FAQ exports are not in the repository. Beside a checkout that has them (CI: ../shared/seeds),
# the FAQ tests also run on them; a plain clone runs them on the project's own exports (faqref/demo).
if [ -z "${FAQ_SOURCES:-}" ] && [ -d ../shared/seeds ]; then
  export FAQ_SOURCES=../shared/seeds
fi
dbname=${DATABASE_URL##*/}
psql "${DATABASE_URL%/*}/postgres" -tAc "select 1 from pg_database where datname='${dbname}'" | grep -q 1 \
  || createdb -h 127.0.0.1 -U postgres "$dbname"

exec .venv/bin/pytest "$@"
