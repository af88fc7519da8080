"""The follow-up's Celery tasks: the daily digests, the deadline reminders, the export jobs.

Each task was `dossiers.tasks.<name>` before the reports app existed: it is registered under that name too, so
messages already queued under it, and a beat still running the old schedule, keep working.
"""
import logging
import tempfile
import uuid
from collections.abc import Callable
from datetime import date
from smtplib import SMTPException

from celery import shared_task
from django.core.files import File
from django.core.mail import send_mail
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from dossiers import events
from dossiers.models import Channel, Notification, NotificationKind
from dossiers.outbox import OutboxTask
from dossiers.tasks import DATABASE_ERRORS, RETRY
from dossiers.queries import channel_for
from organisations.models import Membership

from .digests import build_digest, build_reminders, describe
from .exports import FORMATTERS, counting
from .generators import for_job
from .models import DigestSent, ExportJob, ReminderSent

logger = logging.getLogger(__name__)
MAIL_ERRORS = (SMTPException, ConnectionError)
FAN_OUT_ERRORS = (BrokerError, OperationalError, InterfaceError)


def task(**options):
    """`shared_task(**options)`, also registered under the task's former name in `dossiers.tasks`."""
    def register(function):
        shared_task(name=f"dossiers.tasks.{function.__name__}", **options)(function)
        return shared_task(**options)(function)
    return register


def _day(day: str | None) -> date:
    return date.fromisoformat(day) if day else timezone.localdate()


def _memberships_to_tell() -> list[int]:
    return list(Membership.objects.filter(user__is_active=True).order_by("id").values_list("id", flat=True))


@task(autoretry_for=FAN_OUT_ERRORS, **RETRY)
def send_daily_digests(day: str | None = None) -> int:
    """Fan out: one `send_digest` per member of every organisation."""
    day = _day(day).isoformat()
    ids = _memberships_to_tell()
    for membership_id in ids:
        send_digest.delay(membership_id, day)
    return len(ids)


def _active_member(membership_id: int) -> Membership | None:
    """The membership with its user and organisation, unless it is gone or its user deactivated."""
    membership = Membership.objects.select_related("user", "organisation").filter(pk=membership_id).first()
    return membership if membership is not None and membership.user.is_active else None


def _send_once(record_model, membership: Membership, day: date, *, subject: str, body: str,
               notifications: list[Notification]) -> bool:
    """Record, notify in-app and e-mail in one transaction: the unique row makes a second run a no-op.

    A mail error rolls the row back, so the retry sends again; a second concurrent run waits on the row, then stops.
    """
    with transaction.atomic():
        try:
            with transaction.atomic():
                record_model.objects.create(user_id=membership.user_id, organisation_id=membership.organisation_id,
                                            day=day)
        except IntegrityError:
            return False
        Notification.objects.bulk_create(notifications)
        if membership.user.email:
            send_mail(subject, body, None, [membership.user.email])
    return True


Message = tuple[str, str, list[Notification]]   # subject, body, in-app notifications


def _tell(membership_id: int, day: str, record_model, compose: Callable[[Membership, date], Message | str]) -> str:
    """Send one member what `compose` writes for the day (or the reason it wrote nothing), once a day."""
    membership = _active_member(membership_id)
    if membership is None:
        return "no member"
    the_day = _day(day)
    message = compose(membership, the_day)
    if isinstance(message, str):
        return message
    subject, body, notes = message
    sent = _send_once(record_model, membership, the_day, subject=subject, body=body, notifications=notes)
    return "sent" if sent else "already sent"


@task(autoretry_for=MAIL_ERRORS + DATABASE_ERRORS, **RETRY)
def send_digest(membership_id: int, day: str) -> str:
    """E-mail one member the organisation's digest of the day, once; mirrored as an in-app notification."""
    return _tell(membership_id, day, DigestSent, _digest)


def _digest(membership: Membership, day: date) -> Message | str:
    if DigestSent.objects.filter(user_id=membership.user_id, organisation_id=membership.organisation_id,
                                 day=day).exists():
        return "already sent"
    digest = build_digest(membership.organisation, day, membership)
    if digest.empty:
        return "nothing to report"
    note = Notification(user_id=membership.user_id, organisation_id=membership.organisation_id, kind="digest",
                        message=digest.summary[:500])
    return digest.subject, digest.body(), [note]


@task(autoretry_for=FAN_OUT_ERRORS, **RETRY)
def send_deadline_reminders(day: str | None = None) -> int:
    """Fan out: one `send_deadline_reminder` per member (D-30/D-7/D-1 avance, weekly ESMS, …)."""
    events.deadline_day(_day(day))  # e.g. webhooks' `deadline.due`
    day = _day(day).isoformat()
    ids = _memberships_to_tell()
    for membership_id in ids:
        send_deadline_reminder.delay(membership_id, day)
    return len(ids)


@task(autoretry_for=MAIL_ERRORS + DATABASE_ERRORS, **RETRY)
def send_deadline_reminder(membership_id: int, day: str) -> str:
    """Remind one member of the deadlines whose reminder day it is: one e-mail, one notification each, once a day."""
    return _tell(membership_id, day, ReminderSent, _reminders)


def _reminders(membership: Membership, day: date) -> Message | str:
    """The member's deadline reminders of the day, by the channel they chose for them (dossiers.queries):

    - in the application (the default): a notification per deadline, and this separate e-mail, as DOMAIN.md §6
      promises the reminders by e-mail (the in-app channel adds the notifications, it does not withhold the mail);
    - in the daily digest: nothing here; the same reminders are a section of that day's digest (`_digest`), so the
      member gets one e-mail, not two, and no in-app notification (the digest is where they chose to read them);
    - never: nothing at all.
    """
    channel = channel_for(membership, NotificationKind.DEADLINE_REMINDER)
    if channel == Channel.NONE:
        return "not wanted"
    if channel == Channel.DIGEST:
        return "in the digest"
    reminders = build_reminders(membership.organisation, day)
    if not reminders.deadlines:
        return "nothing to remind"
    notes = [Notification(user_id=membership.user_id, organisation_id=membership.organisation_id,
                          dossier_id=d["dossier"], kind="deadline_reminder", message=describe(d)[:500])
             for d in reminders.deadlines]
    return reminders.subject, reminders.body(), notes


@task(base=OutboxTask)
def run_export(job_id: int) -> str:
    """Write an export job's file in chunks, updating its progress; idempotent (only a queued job runs)."""
    if not ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.QUEUED).update(
            status=ExportJob.Status.RUNNING, progress=0):
        return "not queued"
    job = ExportJob.objects.get(pk=job_id)

    def progress(done: int, total: int) -> None:
        percent = min(99, done * 100 // total) if total else 99
        ExportJob.objects.filter(pk=job_id).update(progress=percent, row_count=done)

    try:
        report = for_job(job)
        rows = counting(report.rows(), report.count(), progress)
        with tempfile.TemporaryFile() as handle:
            FORMATTERS[job.format].write(report.columns, rows, handle, title=str(job.get_kind_display()))
            handle.seek(0)
            name = f"{job.kind}-{timezone.localdate():%Y%m%d}-{uuid.uuid4().hex[:12]}.{job.format}"
            job.file.save(name, File(handle, name=name), save=False)
        job.refresh_from_db(fields=["row_count"])
        job.status, job.progress, job.finished_at = ExportJob.Status.DONE, 100, timezone.now()
        job.save(update_fields=["file", "status", "progress", "finished_at"])
        return "done"
    except Exception as exc:
        logger.exception("Export %s failed", job_id)
        if job.file.name:  # written, but the row never said so: nothing may stay in the storage
            job.file.delete(save=False)
        ExportJob.objects.filter(pk=job_id).update(status=ExportJob.Status.FAILED, error=str(exc)[:2000],
                                                   finished_at=timezone.now())
        return "failed"
