"""The Celery application (the standard Django recipe) and the beat schedule.

Without CELERY_BROKER_URL the settings make tasks run in-process (eager), so the demo needs no Redis.
In production `scripts/worker.sh` starts a worker and beat. The schedule lives here, in code: it is reviewed,
versioned and tested with the code, needs no table nor admin screen, and cannot drift between environments. With a
broker, beat runs celery-redbeat's scheduler (settings): its Redis lock lets exactly one beat send, however many run.
"""
import logging.config
import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import setup_logging
from django_structlog.celery.steps import DjangoStructLogInitStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segurtrack.settings")

app = Celery("segurtrack")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Times are Europe/Paris (CELERY_TIMEZONE). Each entry's task takes its day from the clock when run without one.
app.conf.beat_schedule = {
    # Publish what the outbox holds when Redis was away at commit time.
    "drain-outbox": {
        "task": "dossiers.tasks.drain_outbox",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # D-30/D-7/D-1 avance deadlines, weekly ESMS prerequisites, portability, ANS notices… (DOMAIN.md §6).
    "send-deadline-reminders": {
        "task": "reports.tasks.send_deadline_reminders",
        "schedule": crontab(hour=7, minute=0),
        "options": {"expires": 6 * 3600},
    },
    # One digest per member and day: deadlines of the week and overdue, blocked dossiers, overdue VAs.
    "send-daily-digests": {
        "task": "reports.tasks.send_daily_digests",
        "schedule": crontab(hour=7, minute=30),
        "options": {"expires": 6 * 3600},
    },
}
# VA requests: remind the client's signatory on day 7 and day 14 (jours ouvrés) while the VA is not returned.
app.conf.beat_schedule["send-va-reminders"] = {
    "task": "varequests.tasks.send_va_reminders",
    "schedule": crontab(hour=8, minute=0),
    "options": {"expires": 6 * 3600},
}

# Webhook deliveries whose retry is due (or whose queued message was lost): queued again every minute.
app.conf.beat_schedule["deliver-due-webhooks"] = {
    "task": "webhooks.tasks.deliver_due",
    "schedule": 60.0,
    "options": {"expires": 55},
}
# Test probe: SEGURTRACK_BEAT_PROBE_QUEUE names a queue that gets one message a second, so a test can count the
# ticks several beats produce together (tests/test_beat.py). Unset in production.
if os.environ.get("SEGURTRACK_BEAT_PROBE_QUEUE"):
    app.conf.beat_schedule["beat-probe"] = {
        "task": "segurtrack.beat_probe",
        "schedule": 1.0,
        "options": {"queue": os.environ["SEGURTRACK_BEAT_PROBE_QUEUE"]},
    }


# Workers and beat log through Django's LOGGING (JSON with LOG_FORMAT=json) at the level given on the command line;
# django-structlog binds each task's log lines to the request_id of the request that enqueued it.
@setup_logging.connect
def use_django_logging(loglevel=None, **kwargs) -> None:
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger().setLevel(loglevel)


app.steps["worker"].add(DjangoStructLogInitStep)
