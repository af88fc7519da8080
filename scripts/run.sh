#!/usr/bin/env bash
# Run segurtrack locally: SQLite, tasks in-process, demo data and the FAQ, at http://127.0.0.1:8000
# The FAQ: the official exports when FAQ_SOURCES (default ../shared/seeds) finds them, else our demonstration FAQ.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export DJANGO_DEBUG=${DJANGO_DEBUG:-1}
unset DATABASE_URL CELERY_BROKER_URL
mkdir -p var
.venv/bin/python manage.py migrate --no-input -v0
# seed_demo says where the FAQ came from; import_faq's own report would only repeat it.
.venv/bin/python manage.py import_faq --or-demo >/dev/null
.venv/bin/python manage.py seed_demo --address http://127.0.0.1:8000/
exec .venv/bin/python manage.py runserver 127.0.0.1:8000
