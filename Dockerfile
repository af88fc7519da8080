# segurtrack's one image: the web processes (gunicorn), the Celery workers and beat all run it (compose.yaml).
# Build: docker build -t segurtrack .   Configuration: environment variables only (docs/deployment.md).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/app/.venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=segurtrack.settings \
    DJANGO_PRODUCTION=1 \
    DJANGO_STATIC_ROOT=/app/var/staticfiles \
    LOG_FORMAT=json

WORKDIR /app

# The pinned requirements first, so a code change reuses this layer. psycopg[binary] brings its own libpq.
COPY requirements.txt .
RUN python -m venv /app/.venv && /app/.venv/bin/pip install -r requirements.txt

COPY . .

# Static files are collected (hashed, compressed) into the image; whitenoise serves them from every web process.
# The keys below exist for this build step only: the settings refuse to start in production without real ones.
RUN DJANGO_SECRET_KEY=collectstatic-only HISTORY_ANCHOR_KEY=collectstatic-only \
    python manage.py collectstatic --noinput -v0 \
 && useradd --system --uid 10001 --home-dir /app segurtrack \
 && mkdir -p /app/var/documents \
 && chown -R segurtrack /app/var

USER segurtrack
EXPOSE 8000

# The web process by default; compose.yaml gives the workers and beat their own command.
# Workers: about 2 × CPU + 1 synchronous workers per container (docs/deployment.md, "Sizing").
CMD ["gunicorn", "segurtrack.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60"]
