"""VA request tasks: the e-mail to the signatory, the reminders of day 7 and 14, the managers' notification.

Each takes an id and is idempotent: a unique `VaEmail` row per request and kind, a unique notification per member
and history row. The e-mail is sent inside the transaction that records it, as `dossiers.tasks._send_once` does:
a mail error rolls the row back so the retry sends again, and a second run waits on the row, then stops.
"""
from __future__ import annotations

from datetime import date
from smtplib import SMTPException

from celery import shared_task
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from dossiers.models import Notification
from organisations.models import Membership, Role

from . import emails
from .models import VaEmail, VaRequest
from .timing import is_usable, reminder_due_on

MAIL_ERRORS = (SMTPException, ConnectionError, OSError)
REMINDERS = ((VaEmail.Kind.REMINDER_7, 7), (VaEmail.Kind.REMINDER_14, 14))
RELATED = ("organisation", "dossier__client", "dossier__solution", "dossier__dispositif")


def _send_once(va_request: VaRequest, kind: str, also: tuple[str, ...] = ()) -> bool:
    with transaction.atomic():
        try:
            with transaction.atomic():
                VaEmail.objects.create(va_request=va_request, kind=kind)
        except IntegrityError:
            return False
        # A late run that is due for day 14 does not send day 7 afterwards.
        VaEmail.objects.bulk_create([VaEmail(va_request=va_request, kind=k) for k in also], ignore_conflicts=True)
        emails.build(va_request, kind).send()
    return True


@shared_task(autoretry_for=MAIL_ERRORS, retry_backoff=True, max_retries=5)
def send_va_request_email(va_request_id: int) -> str:
    """E-mail the signatory their link, once."""
    va_request = VaRequest.objects.select_related(*RELATED).filter(pk=va_request_id).first()
    if va_request is None or not is_usable(va_request):
        return "closed"
    return "sent" if _send_once(va_request, VaEmail.Kind.REQUEST) else "already sent"


def due_reminder(va_request: VaRequest, today: date) -> tuple[str, tuple[str, ...]] | None:
    """The latest reminder due today or earlier and not sent yet, with the earlier ones it stands for."""
    requested_on = timezone.localdate(va_request.created_at)
    department = va_request.dossier.client.department
    sent = {email.kind for email in va_request.emails.all()}
    due = [kind for kind, days in REMINDERS if reminder_due_on(requested_on, days, department=department) <= today]
    if not due or due[-1] in sent:
        return None
    return due[-1], tuple(k for k in due[:-1] if k not in sent)


@shared_task
def send_va_reminders(day: str | None = None) -> int:
    """Beat, every morning: one `send_va_reminder` per open request whose reminder is due (business days)."""
    today = date.fromisoformat(day) if day else timezone.localdate()
    fully_reminded = VaEmail.objects.filter(va_request_id=OuterRef("pk"), kind=VaEmail.Kind.REMINDER_14)
    candidates = (VaRequest.objects.open().filter(dossier__state="deployed").exclude(Exists(fully_reminded))
                  .select_related("dossier__client").prefetch_related("emails").order_by("id"))
    count = 0
    for va_request in candidates.iterator(chunk_size=500):
        if due_reminder(va_request, today) is not None:
            send_va_reminder.delay(va_request.pk, today.isoformat())
            count += 1
    return count


@shared_task(autoretry_for=MAIL_ERRORS, retry_backoff=True, max_retries=5)
def send_va_reminder(va_request_id: int, day: str) -> str:
    """Remind the signatory, once per reminder, while the VA is not returned."""
    va_request = (VaRequest.objects.select_related(*RELATED).prefetch_related("emails")
                  .filter(pk=va_request_id).first())
    if va_request is None or not is_usable(va_request):
        return "closed"
    due = due_reminder(va_request, date.fromisoformat(day))
    if due is None:
        return "nothing due"
    kind, also = due
    return "sent" if _send_once(va_request, kind, also) else "already sent"


@shared_task(autoretry_for=(IntegrityError,), retry_backoff=True, max_retries=5)
def notify_va_returned(va_request_id: int) -> int:
    """Tell the organisation's managers (and admins) that the signatory returned the VA; once per member."""
    va_request = VaRequest.objects.select_related("dossier").filter(
        pk=va_request_id, status=VaRequest.Status.RETURNED).first()
    if va_request is None or va_request.history_entry_id is None:
        return 0
    dossier = va_request.dossier
    message = _("%(ref)s : VA signée retournée par %(name)s, à vérifier avant d'enregistrer la signature.") % {
        "ref": dossier.reference or f"#{dossier.pk}", "name": va_request.name}
    user_ids = Membership.objects.filter(organisation_id=dossier.organisation_id,
                                         role__in=[Role.MANAGER, Role.ADMIN], user__is_active=True).values_list(
        "user_id", flat=True)
    rows = [Notification(user_id=uid, organisation_id=dossier.organisation_id, dossier=dossier, kind="va_returned",
                         history_entry_id=va_request.history_entry_id, message=message[:500]) for uid in user_ids]
    with transaction.atomic():
        created = Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return len(created)
