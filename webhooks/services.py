"""Writes to webhooks: endpoints (admins only), deliveries recorded in the transaction of the change they announce."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dossiers import outbox
from dossiers.models import HistoryEntry
from dossiers.payloads import TRANSITIONS
from dossiers.services import require_role
from reports.deadlines import INFORMATION_KINDS, deadlines_for
from segurtrack import prepared
from segurtrack.errors import InvalidInput
from organisations.models import Organisation, Role

from . import tasks
from .models import ALL_EVENTS, DeadlineAnnounced, Delivery, Endpoint, Event, new_secret
from .targets import TargetRefused, check_target

# History actions that are not transitions, by the event they announce; any other action is `dossier.updated`.
ACTION_EVENTS = {
    "create": Event.DOSSIER_CREATED,
    "import": Event.DOSSIER_CREATED,
    "add_document": Event.DOSSIER_DOCUMENT_ADDED,
    "file_amendment": Event.DOSSIER_AMENDMENT_CHANGED,
}
# A deadline that fell due more than this many days ago is not announced late (e.g. on the first run).
ANNOUNCE_LOOKBACK_DAYS = 7


def event_for(action: str) -> str:
    if action in ACTION_EVENTS:
        return ACTION_EVENTS[action]
    if action.startswith("amendment_"):
        return Event.DOSSIER_AMENDMENT_CHANGED
    if action in TRANSITIONS:
        return Event.DOSSIER_TRANSITIONED
    return Event.DOSSIER_UPDATED


# Read on every transition (in its pipeline): compiled once per connection and prepared, never remembered.
_ACTIVE_ENDPOINTS = prepared.CompiledRead(
    lambda organisation_id: Endpoint.objects.filter(organisation_id=organisation_id, active=True).only("id", "events"),
    stand_in=-1_000_000_004,  # never an id
)


def _create_deliveries(organisation_id: int, event: str, **fields: Any) -> list[Delivery]:
    """One pending delivery per active endpoint that wants `event`, each published by the outbox after commit."""
    endpoints = [e for e in _ACTIVE_ENDPOINTS.rows(connection, organisation_id) if e.wants(event)]
    if not endpoints:
        return []
    deliveries = Delivery.objects.bulk_create([Delivery(endpoint=e, event=event, **fields) for e in endpoints])
    for delivery in deliveries:
        outbox.enqueue(tasks.deliver, [delivery.pk])
    return deliveries


def record_history(entry: HistoryEntry) -> list[Delivery]:
    """The `dossiers.events` listener: deliveries for a new history row, in the transaction that wrote it."""
    return _create_deliveries(entry.dossier.organisation_id, event_for(entry.action), dossier_id=entry.dossier_id,
                              history_entry=entry)


# --- endpoints ----------------------------------------------------------------------------------------------------

def _check_url(url: str) -> None:
    try:
        check_target(url)
    except TargetRefused as refused:
        raise InvalidInput({"url": [str(refused)]})


def clean_events(events: list[str]) -> list[str]:
    """The events as stored: ["*"] alone, or known event types without repeats, in the given order."""
    if ALL_EVENTS in events:
        if len(events) > 1:
            raise InvalidInput({"events": [_("« * » couvre tous les événements : ne le combinez pas avec d'autres.")]})
        return [ALL_EVENTS]
    if not events:
        raise InvalidInput({"events": [_("Choisissez au moins un événement.")]})
    unknown = [e for e in events if e not in Event.values]
    if unknown:
        raise InvalidInput({"events": [_("Événement inconnu : %(name)s.") % {"name": name} for name in unknown]})
    return list(dict.fromkeys(events))


def create_endpoint(*, organisation: Organisation, by: AbstractBaseUser, url: str, events: list[str],
                    active: bool = True) -> Endpoint:
    require_role(by, organisation.pk, Role.ADMIN)
    events = clean_events(events)
    _check_url(url)
    return Endpoint.objects.create(organisation=organisation, url=url, events=events, active=active, created_by=by)


def update_endpoint(endpoint: Endpoint, *, by: AbstractBaseUser, changes: dict[str, Any]) -> Endpoint:
    require_role(by, endpoint.organisation_id, Role.ADMIN)
    if "events" in changes:
        endpoint.events = clean_events(changes["events"])
    if "url" in changes and changes["url"] != endpoint.url:
        _check_url(changes["url"])
        endpoint.url = changes["url"]
    if "active" in changes:
        endpoint.active = changes["active"]
        if endpoint.active:
            endpoint.deactivated_reason = ""
    endpoint.save()
    return endpoint


def delete_endpoint(endpoint: Endpoint, *, by: AbstractBaseUser) -> None:
    require_role(by, endpoint.organisation_id, Role.ADMIN)
    endpoint.delete()


def rotate_secret(endpoint: Endpoint, *, by: AbstractBaseUser) -> str:
    """A new signing secret, effective for every attempt from now on (pending retries included)."""
    require_role(by, endpoint.organisation_id, Role.ADMIN)
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret", "updated_at"])
    return endpoint.secret


def redeliver(delivery: Delivery, *, by: AbstractBaseUser) -> Delivery:
    """Send a delivery again (same body and `webhook-id`), with a fresh set of attempts."""
    require_role(by, delivery.endpoint.organisation_id, Role.ADMIN)
    if not delivery.endpoint.active:
        raise InvalidInput({"endpoint": [_("Ce point de réception est désactivé : réactivez-le avant de renvoyer.")]})
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
        delivery.status = Delivery.Status.PENDING
        delivery.attempts = 0
        delivery.next_attempt_at = timezone.now()
        delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
        outbox.enqueue(tasks.deliver, [delivery.pk])
    return delivery


# --- deadline.due -------------------------------------------------------------------------------------------------

def _deadline_key(deadline: dict[str, Any], due_on: date) -> str:
    return f"{deadline['kind']}:{deadline['dossier'] or ''}:{deadline['object_id'] or ''}:{due_on.isoformat()}"


def _due_on(deadline: dict[str, Any]) -> date:
    due = deadline["due"]
    return timezone.localtime(due).date() if hasattr(due, "hour") else due


def announce_due_deadlines(day: date) -> int:
    """`deadline.due` for each deadline that fell due by `day` (within the look-back), once per deadline."""
    organisation_ids = {e.organisation_id for e in Endpoint.objects.filter(active=True).only("organisation_id", "events")
                        if e.wants(Event.DEADLINE_DUE)}
    announced = 0
    for organisation in Organisation.objects.filter(pk__in=organisation_ids):
        for deadline in deadlines_for(organisation, due_before=day, today=day):
            due_on = _due_on(deadline)
            if deadline["kind"] in INFORMATION_KINDS or due_on < day - timedelta(days=ANNOUNCE_LOOKBACK_DAYS):
                continue
            with transaction.atomic():
                try:
                    with transaction.atomic():
                        DeadlineAnnounced.objects.create(organisation=organisation,
                                                         key=_deadline_key(deadline, due_on))
                except IntegrityError:
                    continue  # announced already (an earlier run, or a concurrent one)
                described = {**deadline, "due": deadline["due"].isoformat()}
                _create_deliveries(organisation.pk, Event.DEADLINE_DUE, dossier_id=deadline["dossier"],
                                   deadline=described)
                announced += 1
    return announced
