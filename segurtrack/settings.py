"""Settings, driven by the environment: SQLite and in-process tasks by default, PostgreSQL via DATABASE_URL.

Every value that differs between a laptop demo, CI and production is read from an environment variable;
there is one settings file and no per-environment copy of it.
"""
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
# A production deployment must set its own key; the fallback only serves DEBUG and tests.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and env_bool("DJANGO_PRODUCTION", False):
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set in production.")
    SECRET_KEY = "insecure-development-key-" + "x" * 40

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # The project's own system checks (segurtrack/checks.py: a deployment on a per-process cache is a warning).
    "segurtrack.apps.SegurtrackConfig",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "django_filters",
    "django_htmx",
    "django_fsm",
    "axes",
    "csp",
    "organisations",
    "faqref",
    "dossiers",
    "reports",
    "imports",
    "webhooks",
    "varequests",
    "demo",
    "drf_spectacular_sidecar",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "organisations.middleware.CurrentOrganisationMiddleware",
    "organisations.middleware.PasswordChangeRequiredMiddleware",
    "csp.middleware.CSPMiddleware",
    "segurtrack.middleware.RejectNulBytesMiddleware",
    # Last, as django-axes requires: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, its per-request read of the user joined with their memberships (one statement).
    "organisations.backends.MemberBackend",
]
# Sign-in rate limit (pages and admin): 5 failures for one username from one address lock that pair for 15 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The client address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT reverse proxies the address the first of them saw
# (organisations/client_ip.py, with django-ipware); a forged X-Forwarded-For changes nothing.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", os.environ.get("DJANGO_PROXY_COUNT", "0")))
AXES_CLIENT_IP_CALLABLE = "organisations.client_ip.client_ip"
AXES_VERBOSE = False
AXES_HTTP_RESPONSE_CODE = 429

ROOT_URLCONF = "segurtrack.urls"

TEMPLATES = [
    {
        # Django's backend; its check knows the `i18n` mapping below is deliberate (segurtrack/template_backend.py).
        "BACKEND": "segurtrack.template_backend.DjangoTemplates",
        "NAME": "django",  # the alias Django's own backend has (engines["django"])
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            # |euros, |date_fr, |day_fr in every template; `{% url %}` remembered when constant (templatetags/url_memo.py).
            # `{% memo %}`: a fragment rendered once per key (templatetags/fragment_memo.py), the navigation's.
            "builtins": ["segurtrack.templatetags.french", "segurtrack.templatetags.url_memo",
                         "segurtrack.templatetags.fragment_memo"],
            # `{% load i18n %}`: Django's library, each constant `{% translate %}` remembered per language.
            "libraries": {"i18n": "segurtrack.templatetags.translate_memo"},
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "organisations.context_processors.current_organisation",
            ],
        },
    },
]

# Form fields render through Django's templates, each widget and label remembered by its whole input (pure values,
# language, time zone) instead of rendered again on every request: segurtrack/form_renderer.py says when it is reused.
FORM_RENDERER = "segurtrack.form_renderer.MemoDjangoTemplates"

WSGI_APPLICATION = "segurtrack.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Take the write lock when a transaction starts, so concurrent writers wait instead of failing with
    # "database is locked" half-way through (the embedded default serves a small team).
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "var" / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    # Uploaded documents live outside any URL: only the permission-checked download view serves them.
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": os.environ.get("DOCUMENT_ROOT", str(BASE_DIR / "var" / "documents")),
                    "base_url": None},
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("DJANGO_MANIFEST_STATIC", False)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        ),
    },
}
# No media URL: documents are only served by the permission-checked views (the storage falls back to this).
MEDIA_URL = None
# Object storage (issue 17): STORAGE_BACKEND=s3 keeps every file (documents, PV pilotes, exports, import files) in an
# S3-compatible bucket (Scaleway, OVH, MinIO, AWS) that every web and worker process reaches; the local directory
# above stays the embedded default. The bucket is private: downloads are streamed through the permission-checked
# views (docs/deployment.md), so no URL to the store is ever handed out and its endpoint may stay internal.
STORAGE_BACKEND = os.environ.get("STORAGE_BACKEND", "filesystem").strip().lower()
if STORAGE_BACKEND == "s3":
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": os.environ.get("AWS_STORAGE_BUCKET_NAME", "segurtrack"),
        "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
        "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
        "access_key": os.environ.get("AWS_ACCESS_KEY_ID") or None,
        "secret_key": os.environ.get("AWS_SECRET_ACCESS_KEY") or None,
        # Keys under this prefix, so one bucket may serve several deployments.
        "location": os.environ.get("AWS_LOCATION", ""),
        "addressing_style": os.environ.get("AWS_S3_ADDRESSING_STYLE") or None,
        "signature_version": "s3v4",
        # Names are generated (uuid); never overwrite an object silently.
        "file_overwrite": False,
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": 60,
        # A file read through the app (download, import, error report) is spooled in memory up to this size,
        # then on disk: a large export never sits in a web process's memory whole.
        "max_memory_size": int(os.environ.get("AWS_S3_MAX_MEMORY_SIZE", str(2 * 1024 * 1024))),
    }}
elif STORAGE_BACKEND != "filesystem":
    raise ImproperlyConfigured("STORAGE_BACKEND must be 'filesystem' or 's3'.")

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Uploads: documents are checked against this limit before anything is stored.
DOCUMENT_MAX_BYTES = int(os.environ.get("DOCUMENT_MAX_BYTES", str(20 * 1024 * 1024)))
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# FAQ exports imported by the demo (a path list separated by the OS path separator).
FAQ_SOURCES = [
    p for p in os.environ.get(
        "FAQ_SOURCES", str(BASE_DIR.parent / "shared" / "seeds")
    ).split(os.pathsep) if p
]

# Days after deployment before a pending VA is overdue, when the organisation sets none.
PENDING_VA_DEFAULT_DAYS = 30
# A correction requested by the ASP is due within this many jours ouvrés (DOMAIN.md §8).
CORRECTION_BUSINESS_DAYS = int(os.environ.get("CORRECTION_BUSINESS_DAYS", "10"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "organisations.authentication.OrganisationTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["organisations.permissions.IsOrganisationMember"],
    "DEFAULT_PAGINATION_CLASS": "segurtrack.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "segurtrack.api.errors.exception_handler",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "COERCE_DECIMAL_TO_STRING": True,
    "DATETIME_FORMAT": "iso-8601",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_CLASSES": ["organisations.throttling.TokenRateThrottle"],
}
# Requests per API token (or per signed-in user of the browser session); 429 beyond. Requests without valid
# credentials are answered 401 before any throttle (keys are 160 random bits: guessing one is not a rate problem).
# A one-second window: it bounds a runaway script at once, while a busy integration (or a fuzzing run) stays well
# below it, and DRF keeps at most that many timestamps per token in the cache.
API_THROTTLE_RATES = {"token": os.environ.get("API_THROTTLE_RATE", "200/second")}
# The cache (API throttle counts, the VA upload limit, sessions): Redis when REDIS_URL or CACHE_URL is set
# (production: every web process shares it), else this process's memory (the embedded default, one process). Under
# `check --deploy` a cache in process memory is a warning (segurtrack/checks.py).
_CACHE_URL = os.environ.get("CACHE_URL") or os.environ.get("REDIS_URL")
CACHES = {"default": (
    {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _CACHE_URL}
    if _CACHE_URL else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "segurtrack"})}
# Sessions live in the database (sign-in lockouts too: django-axes' database handler), read through the cache when
# the cache is shared; never in one process's memory, so any web process serves any request.
# Django's stores, their per-request read one plain SQL statement (segurtrack/sessions/): same rows, same rules.
SESSION_ENGINE = "segurtrack.sessions.cached_db" if _CACHE_URL else "segurtrack.sessions.db"
SPECTACULAR_SETTINGS = {
    "TITLE": "segurtrack API",
    "DESCRIPTION": "Suivi des dossiers de financement Ségur SONS.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "PvPiloteStatusEnum": "dossiers.models.PvPilote.Status",
        "AmendmentStatusEnum": "dossiers.models.Amendment.Status",
        "DossierStateEnum": "dossiers.models.State",
        "DocumentKindEnum": "dossiers.models.DocumentKind",
        "CancellationReasonEnum": "dossiers.models.CancellationReason",
        "ClientPrerequisiteEnum": "dossiers.models.Client.Prerequisite",
        "ExportKindEnum": "reports.models.ExportJob.Kind",
        "ExportFormatEnum": "reports.models.ExportJob.Format",
        "ExportStatusEnum": "reports.models.ExportJob.Status",
    },
}
# API docs: Swagger UI's assets from drf-spectacular-sidecar (served as static files, no CDN).
SPECTACULAR_SETTINGS.update({"SWAGGER_UI_DIST": "SIDECAR", "SWAGGER_UI_FAVICON_HREF": "SIDECAR", "REDOC_DIST": "SIDECAR"})
# The schema as generated clients need it: a typed operation per transition, solde.json's JSON Schema, then
# ASCII ids, one JSON body, the 405/415 answers (segurtrack/api/schema.py).
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = [
    "drf_spectacular.hooks.postprocess_schema_enums",
    "dossiers.api.schema.transition_operations",
    "dossiers.api.schema.solde_request_schema",
    "segurtrack.api.schema.usable_by_generated_clients",
]

# Celery: without a broker URL, tasks run in-process so the demo needs no Redis.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "segurtrack@localhost")

# Production hardening, switched on by DJANGO_PRODUCTION (checked by `check --deploy` in the tests).
if env_bool("DJANGO_PRODUCTION", False):
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"
    STORAGES["staticfiles"]["BACKEND"] = "whitenoise.storage.CompressedManifestStaticFilesStorage"

# Content-Security-Policy (django-csp 4): same-origin scripts, styles and images only, no inline script, no plugin,
# no framing. On by default everywhere (so the tests run under it); DJANGO_CSP=0 switches it off for a debugging session.
CSP_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
CONTENT_SECURITY_POLICY = CSP_POLICY if env_bool("DJANGO_CSP", True) else None

# LOGGING is defined below, with the structured-log settings.

# VA requests (varequests): days a signatory's link lives, upload attempts per link and hour, the public address
# the e-mailed links start with, and the SMTP server when EMAIL_BACKEND is the SMTP one.
VA_REQUEST_DAYS = int(os.environ.get("VA_REQUEST_DAYS", "30"))
VA_UPLOAD_ATTEMPTS_PER_HOUR = int(os.environ.get("VA_UPLOAD_ATTEMPTS_PER_HOUR", "5"))
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
# The queue tasks are published to when none is named (a test worker consumes a queue of its own).
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")
# Webhooks (issue 14): private and loopback targets are refused under production settings unless allowed.
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", not env_bool("DJANGO_PRODUCTION", False))
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
# Attempt n+1 waits WEBHOOK_RETRY_BASE_SECONDS × 4^(n-1): 1 min, 4 min, 16 min, 64 min, 4 h 16 (6 attempts).
WEBHOOK_RETRY_BASE_SECONDS = float(os.environ.get("WEBHOOK_RETRY_BASE_SECONDS", "60"))
WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("WEBHOOK_MAX_ATTEMPTS", "6"))
# Without a broker (the demo), attempts run on timer threads of the web process (tests switch this off).
WEBHOOK_EAGER_THREADS = env_bool("WEBHOOK_EAGER_THREADS", True)
# History anchors (dossiers/anchors.py): the HMAC key of each dossier's history chain head. It must live outside
# the database (environment, secret store): whoever can write the database but not read this key cannot forge a
# rewritten history. Required in production, like DJANGO_SECRET_KEY.
HISTORY_ANCHOR_KEY = os.environ.get("HISTORY_ANCHOR_KEY", "")
if not HISTORY_ANCHOR_KEY:
    if not DEBUG and env_bool("DJANGO_PRODUCTION", False):
        raise ImproperlyConfigured("HISTORY_ANCHOR_KEY must be set in production.")
    HISTORY_ANCHOR_KEY = "insecure-development-history-anchor-key"
# Exactly one effective beat (issue 17): with a broker, beat keeps its schedule state in Redis and holds a Redis
# lock (celery-redbeat); a second beat waits for the lock and takes over only when the first stops renewing it.
# The schedule itself stays in code (segurtrack/celery.py). Without a broker, Celery's default file scheduler.
if CELERY_BROKER_URL:
    CELERY_BEAT_SCHEDULER = "redbeat.RedBeatScheduler"
    CELERY_REDBEAT_REDIS_URL = os.environ.get("CELERY_REDBEAT_REDIS_URL", CELERY_BROKER_URL)
    CELERY_REDBEAT_KEY_PREFIX = os.environ.get("CELERY_REDBEAT_KEY_PREFIX", "segurtrack:redbeat")
    # The lock outlives a crashed beat by this many seconds; beat renews it at least every loop interval.
    CELERY_REDBEAT_LOCK_TIMEOUT = int(os.environ.get("CELERY_REDBEAT_LOCK_TIMEOUT", "60"))
    CELERY_BEAT_MAX_LOOP_INTERVAL = min(int(os.environ.get("CELERY_BEAT_MAX_LOOP_INTERVAL", "10")),
                                        max(CELERY_REDBEAT_LOCK_TIMEOUT // 3, 1))
# Seconds each `/health/` check may take before its part is reported down.
HEALTH_CHECK_TIMEOUT_SECONDS = float(os.environ.get("HEALTH_CHECK_TIMEOUT_SECONDS", "5"))
# The Redis `/health/` pings (segurtrack/health.py): REDIS_URL, else the broker's when the broker is Redis.
REDIS_URL = os.environ.get("REDIS_URL", "") or (
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else "")
# Behind PgBouncer in transaction mode a cursor cannot outlive its transaction: DATABASE_DISABLE_SERVER_SIDE_CURSORS=1
# makes .iterator() fetch in client-side chunks (exports, history checks). Persistent connections (above) suit it.
if env_bool("DATABASE_DISABLE_SERVER_SIDE_CURSORS", False):
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
# The few hot statements segurtrack/prepared.py prepares on the server (a transition's lock and kept deadlines, the
# webhook endpoints' read, the API token's lookup). A prepared statement lives on one server connection, which a transaction
# pooler does not keep for the client: behind PgBouncer in transaction mode (the same switch as above, unless
# DATABASE_PREPARED_STATEMENTS says otherwise) they run as plain statements, as every other statement does.
PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS",
                               not env_bool("DATABASE_DISABLE_SERVER_SIDE_CURSORS", False))
# Structured logs (issue 17): each request's log lines carry its request_id (django-structlog), and so do the log
# lines of every task it enqueues, in the worker. LOG_FORMAT=json: one JSON object a line, for a log collector;
# otherwise readable lines. Request lines log at REQUEST_LOG_LEVEL (INFO); the rest at LOG_LEVEL (WARNING).
# Error reporting: Sentry (or a compatible service) when SENTRY_DSN is set, off otherwise (below).
import structlog  # noqa: E402

INSTALLED_APPS.append("django_structlog")
# After authentication (the lines name the user), before django-axes, which must stay last.
MIDDLEWARE.insert(MIDDLEWARE.index("axes.middleware.AxesMiddleware"), "django_structlog.middlewares.RequestMiddleware")
DJANGO_STRUCTLOG_CELERY_ENABLED = True
LOG_FORMAT = os.environ.get("LOG_FORMAT", "console").strip().lower()
_LOG_CHAIN = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {
            "()": structlog.stdlib.ProcessorFormatter,
            "foreign_pre_chain": _LOG_CHAIN,
            "processors": [
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *([structlog.processors.format_exc_info, structlog.processors.JSONRenderer()] if LOG_FORMAT == "json"
                  else [structlog.dev.ConsoleRenderer(colors=False)]),
            ],
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {"django_structlog": {"level": os.environ.get("REQUEST_LOG_LEVEL", "INFO")}},
}
structlog.configure(
    processors=[*_LOG_CHAIN, structlog.stdlib.PositionalArgumentsFormatter(), structlog.processors.StackInfoRenderer(),
                structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=structlog.stdlib.BoundLogger,
    cache_logger_on_first_use=True,
)

# Error reporting (issue 17): unhandled errors of web requests and tasks go to Sentry (or a compatible service such as
# GlitchTip) when SENTRY_DSN is set; without it nothing is initialised and nothing leaves the machine. No personal
# data is sent (send_default_pii off); performance tracing only when SENTRY_TRACES_SAMPLE_RATE is above 0.
SENTRY_DSN = os.environ.get("SENTRY_DSN", "").strip()
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(dsn=SENTRY_DSN, environment=os.environ.get("SENTRY_ENVIRONMENT", "production"),
                    release=os.environ.get("SENTRY_RELEASE") or None, send_default_pii=False,
                    traces_sample_rate=float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE", "0")),
                    integrations=[DjangoIntegration(), CeleryIntegration()])
