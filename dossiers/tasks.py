"""Thin Celery tasks: an id in, one effect out. The follow-up's tasks (digests, reminders, exports) are
`reports.tasks`."""
from celery import shared_task
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
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


# --- outbox -------------------------------------------------------------------------------------------------------------


@shared_task
def drain_outbox() -> int:
    """Publish the outbox messages left unsent (the broker was away at commit time). Run every minute by beat."""
    from . import outbox

    return outbox.drain()
