"""Thin Celery tasks: an id in, one effect out."""
from celery import shared_task
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from organisations.models import Membership

from .models import HistoryEntry, Notification, State


@shared_task(autoretry_for=(IntegrityError,), retry_backoff=True, max_retries=5)
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
