"""Thin Celery tasks: an id in, one effect out."""
import io
import logging
import tempfile
import uuid
from datetime import date
from smtplib import SMTPException

from celery import shared_task
from django.core.files import File
from django.core.mail import send_mail
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from kombu.exceptions import OperationalError as BrokerError
from django.utils import timezone
from django.utils.translation import gettext as _

from organisations.models import Membership

from . import blockers
from .models import HistoryEntry, Notification, State
from .outbox import OutboxTask

# A dropped or restarting database, and a concurrent run of the same task: retried with backoff (1 s, 2 s, 4 s…
# about four minutes in all, under the outbox's REDELIVER_AFTER). The worker closes its connection after each try,
# so a retry starts on a fresh one.
DATABASE_ERRORS = (OperationalError, InterfaceError, IntegrityError)
RETRY = {"retry_backoff": True, "retry_backoff_max": 120, "retry_jitter": True, "max_retries": 8}


@shared_task(base=OutboxTask, autoretry_for=DATABASE_ERRORS, **RETRY)
def notify_history_entry(entry_id: int) -> int:
    """Tell every member of the dossier's organisation, except its author, of a transition. Idempotent."""
    entry = HistoryEntry.objects.select_related("dossier").filter(pk=entry_id).first()
    if entry is None:
        return 0
    dossier = entry.dossier
    message = _("%(ref)s : %(from)s → %(to)s (%(user)s)") % {
        "ref": dossier.reference or f"#{dossier.pk}",
        "from": State(entry.from_state).label if entry.from_state else "",
        "to": State(entry.to_state).label if entry.to_state else "", "user": entry.username}
    already = Notification.objects.filter(history_entry=entry).values("user_id")
    user_ids = Membership.objects.filter(organisation_id=dossier.organisation_id).exclude(
        user_id=entry.user_id).exclude(user_id__in=already).values_list("user_id", flat=True)
    rows = [Notification(user_id=uid, organisation_id=dossier.organisation_id, dossier=dossier, history_entry=entry,
                         message=message[:500]) for uid in user_ids]
    # The unique (user, entry) constraint settles a concurrent run of the same task.
    with transaction.atomic():
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


@shared_task(base=OutboxTask, autoretry_for=DATABASE_ERRORS, **RETRY)
def refresh_blockers(scope: str, object_id: int) -> int:
    """Refresh the blockers of the open dossiers of a client, solution or dispositif, each under its row lock."""
    return blockers.refresh(scope, object_id)


# --- outbox, digests, reminders, exports -------------------------------------------------------------------------

logger = logging.getLogger(__name__)
MAIL_ERRORS = (SMTPException, ConnectionError)


@shared_task
def drain_outbox() -> int:
    """Publish the outbox messages left unsent (the broker was away at commit time). Run every minute by beat."""
    from . import outbox

    return outbox.drain()


def _day(day: str | None) -> date:
    return date.fromisoformat(day) if day else timezone.localdate()


def _memberships_to_tell() -> list[int]:
    return list(Membership.objects.filter(user__is_active=True).order_by("id").values_list("id", flat=True))


@shared_task(autoretry_for=(BrokerError, OperationalError, InterfaceError), **RETRY)
def send_daily_digests(day: str | None = None) -> int:
    """Fan out: one `send_digest` per member of every organisation."""
    day = _day(day).isoformat()
    ids = _memberships_to_tell()
    for membership_id in ids:
        send_digest.delay(membership_id, day)
    return len(ids)


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


@shared_task(autoretry_for=MAIL_ERRORS + DATABASE_ERRORS, **RETRY)
def send_digest(membership_id: int, day: str) -> str:
    """E-mail one member the organisation's digest of the day, once; mirrored as an in-app notification."""
    from .digests import build_digest
    from .models import DigestSent

    membership = Membership.objects.select_related("user", "organisation").filter(pk=membership_id).first()
    if membership is None or not membership.user.is_active:
        return "no member"
    the_day = _day(day)
    if DigestSent.objects.filter(user_id=membership.user_id, organisation_id=membership.organisation_id,
                                 day=the_day).exists():
        return "already sent"
    digest = build_digest(membership.organisation, the_day, membership)
    if digest.empty:
        return "nothing to report"
    note = Notification(user_id=membership.user_id, organisation_id=membership.organisation_id, kind="digest",
                        message=digest.summary[:500])
    sent = _send_once(DigestSent, membership, the_day, subject=digest.subject, body=digest.body(), notifications=[note])
    return "sent" if sent else "already sent"


@shared_task(autoretry_for=(BrokerError, OperationalError, InterfaceError), **RETRY)
def send_deadline_reminders(day: str | None = None) -> int:
    """Fan out: one `send_deadline_reminder` per member (D-30/D-7/D-1 avance, weekly ESMS, …)."""
    from . import events

    events.deadline_day(_day(day))  # e.g. webhooks' `deadline.due`
    day = _day(day).isoformat()
    ids = _memberships_to_tell()
    for membership_id in ids:
        send_deadline_reminder.delay(membership_id, day)
    return len(ids)


@shared_task(autoretry_for=MAIL_ERRORS + DATABASE_ERRORS, **RETRY)
def send_deadline_reminder(membership_id: int, day: str) -> str:
    """Remind one member of the deadlines whose reminder day it is: one e-mail, one notification each, once a day."""
    from .digests import build_reminders, describe
    from .models import Channel, NotificationKind, ReminderSent
    from .team_queries import channel_for

    membership = Membership.objects.select_related("user", "organisation").filter(pk=membership_id).first()
    if membership is None or not membership.user.is_active:
        return "no member"
    the_day = _day(day)
    if channel_for(membership, NotificationKind.DEADLINE_REMINDER) == Channel.NONE:
        return "not wanted"  # the member chose not to be reminded (dossiers.team_queries)
    reminders = build_reminders(membership.organisation, the_day)
    if not reminders.deadlines:
        return "nothing to remind"
    notes = [Notification(user_id=membership.user_id, organisation_id=membership.organisation_id,
                          dossier_id=d["dossier"], kind="deadline_reminder", message=describe(d)[:500])
             for d in reminders.deadlines]
    sent = _send_once(ReminderSent, membership, the_day, subject=reminders.subject, body=reminders.body(),
                      notifications=notes)
    return "sent" if sent else "already sent"


@shared_task(base=OutboxTask)
def run_export(job_id: int) -> str:
    """Write an export job's file in chunks, updating its progress; idempotent (only a queued job runs)."""
    from .exports import counting, source_for, write_csv, write_xlsx
    from .models import ExportJob

    if not ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.QUEUED).update(
            status=ExportJob.Status.RUNNING, progress=0):
        return "not queued"
    job = ExportJob.objects.get(pk=job_id)

    def progress(done: int, total: int) -> None:
        percent = min(99, done * 100 // total) if total else 99
        ExportJob.objects.filter(pk=job_id).update(progress=percent, row_count=done)

    try:
        source = source_for(job)
        rows = counting(source.rows(), source.count(), progress)
        with tempfile.TemporaryFile() as handle:
            if job.format == ExportJob.Format.XLSX:
                write_xlsx(source.columns, rows, handle, title=str(job.get_kind_display()))
            else:
                text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
                write_csv(source.columns, rows, text)
                text.flush()
                text.detach()
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
