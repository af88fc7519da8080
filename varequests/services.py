"""Writes of VA requests: ask, revoke, mark opened, take the signed VA back. The only writer of `VaRequest`."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dossiers import outbox, rules, services as dossier_services
from dossiers.models import Client, DocumentKind, Dossier, State
from dossiers.services import RulesFailed
from segurtrack.errors import InvalidInput, NotPermitted, ServiceError

from . import tasks
from .models import VaRequest
from .timing import is_usable, reminder_due_on  # noqa: F401 (the pages and tests read them here too)

NAME_MAX = 200
MESSAGE_MAX = 2000


class LinkClosed(ServiceError):
    """The link cannot be used: unknown, revoked, expired, or its dossier no longer awaits a VA (a 404)."""


class AlreadyReturned(ServiceError):
    """The VA was already returned through this link: a second upload is refused."""


def _clean_request_input(email: str, name: str, message: str) -> tuple[str, str, str]:
    errors: dict[str, list[str]] = {}
    email, name, message = (email or "").strip(), " ".join((name or "").split()), (message or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = [_("Saisissez une adresse e-mail valide.")]
    if not name:
        errors["name"] = [_("Indiquez le nom du signataire.")]
    elif len(name) > NAME_MAX:
        errors["name"] = [_("%(max)s caractères au plus.") % {"max": NAME_MAX}]
    if len(message) > MESSAGE_MAX:
        errors["message"] = [_("%(max)s caractères au plus.") % {"max": MESSAGE_MAX}]
    if errors:
        raise InvalidInput(errors)
    return email, name, message


def not_deployed(dossier: Dossier) -> RulesFailed:
    return RulesFailed([rules.Failure(rules.STATE_RULE, rules.Severity.BLOCK, _(
        "Une VA ne peut être demandée que pour un dossier déployé (état actuel : « %(state)s »).") % {
        "state": State(dossier.state).label})])


def request_va(dossier_id: int, *, by: AbstractBaseUser, email: str, name: str, message: str = "") -> VaRequest:
    """Ask the client's signatory for the signed VA of a deployed dossier; the e-mail leaves after the commit.

    Raises InvalidInput (bad e-mail, name or message), NotPermitted (not a manager) or RulesFailed (not deployed).
    """
    email, name, message = _clean_request_input(email, name, message)
    with transaction.atomic():
        dossier = Dossier.objects.select_for_update().get(pk=dossier_id)
        dossier_services.require_role(by, dossier.organisation_id)
        if dossier.state != State.DEPLOYED:
            raise not_deployed(dossier)
        now = timezone.now()
        va_request = VaRequest(organisation_id=dossier.organisation_id, dossier=dossier, email=email, name=name,
                               message=message, created_by=by, created_at=now,
                               expires_at=now + timedelta(days=settings.VA_REQUEST_DAYS))
        va_request.set_token()
        va_request.save()
        outbox.enqueue(tasks.send_va_request_email, [va_request.pk])
    return va_request


def revoke(va_request_id: int, *, by: AbstractBaseUser) -> VaRequest:
    """Close a link: it answers 404 from now on. Revoking twice changes nothing; a returned VA cannot be revoked."""
    with transaction.atomic():
        va_request = VaRequest.objects.select_for_update().get(pk=va_request_id)
        dossier_services.require_role(by, va_request.organisation_id)
        if va_request.status == VaRequest.Status.REVOKED:
            return va_request
        if va_request.status == VaRequest.Status.RETURNED:
            raise RulesFailed([rules.Failure(rules.STATE_RULE, rules.Severity.BLOCK, _(
                "La VA a déjà été retournée : cette demande ne peut plus être révoquée."))])
        va_request.status = VaRequest.Status.REVOKED
        va_request.revoked_at, va_request.revoked_by = timezone.now(), by
        va_request.save(update_fields=["status", "revoked_at", "revoked_by"])
    return va_request


def mark_opened(va_request: VaRequest) -> None:
    """The first view of the page: `sent` becomes `opened` (one conditional UPDATE, whoever comes first)."""
    if va_request.status == VaRequest.Status.SENT:
        now = timezone.now()
        if VaRequest.objects.filter(pk=va_request.pk, status=VaRequest.Status.SENT).update(
                status=VaRequest.Status.OPENED, opened_at=now):
            va_request.status, va_request.opened_at = VaRequest.Status.OPENED, now


PREREQUISITE_FIELDS = ("ans_contract_signed_on", "cpe_cards", "software_certificates")


def _update_prerequisites(va_request: VaRequest, prerequisites: dict[str, Any]) -> None:
    """The ESMS client's three VA prerequisites, through the client service (audited), on behalf of the manager
    who sent the link: the signatory has no account, and the requester answers for what the link may change."""
    client = Client.objects.get(pk=va_request.dossier.client_id)
    for name in PREREQUISITE_FIELDS:
        setattr(client, name, prerequisites[name])
    requester = va_request.created_by
    if requester is None:
        raise LinkClosed()
    try:
        dossier_services.save_client(client, by=requester)
    except NotPermitted:
        # The manager who sent it may no longer change this organisation's data: the link dies with their role.
        raise LinkClosed()
    except InvalidInput as invalid:
        if set(invalid.errors) <= set(PREREQUISITE_FIELDS):
            raise
        raise InvalidInput({"__all__": [_("La fiche du client est incomplète : l'éditeur doit la corriger avant "
                                          "que la VA puisse être déposée.")]})


def return_va(va_request_id: int, *, upload: UploadedFile, prerequisites: dict[str, Any] | None = None) -> VaRequest:
    """The signatory's upload: the `va` document with its history row naming them, the ESMS prerequisites through
    the client service, the request `returned` (and the dossier's other open links closed); the managers are
    notified after the commit. Nothing is stored when anything is refused.

    Raises LinkClosed (404), AlreadyReturned (409) or InvalidInput (the PDF checks, the prerequisites).
    """
    document = None
    try:
        with transaction.atomic():
            va_request = (VaRequest.objects.select_for_update(of=("self",)).select_related("dossier__client")
                          .get(pk=va_request_id))
            if va_request.status == VaRequest.Status.RETURNED:
                raise AlreadyReturned()
            if not is_usable(va_request):
                raise LinkClosed()
            esms = va_request.dossier.client.is_esms
            if esms and not prerequisites:
                raise InvalidInput({name: [_("Ce champ est obligatoire.")] for name in PREREQUISITE_FIELDS})
            document, entry = dossier_services.add_returned_document(
                va_request.dossier_id, kind=DocumentKind.VA, upload=upload,
                returned_by=f"{va_request.name} ({va_request.email})", data={"va_request": va_request.pk})
            if esms:
                _update_prerequisites(va_request, prerequisites)
            now = timezone.now()
            va_request.status, va_request.returned_at = VaRequest.Status.RETURNED, now
            va_request.document, va_request.history_entry = document, entry
            va_request.save(update_fields=["status", "returned_at", "document", "history_entry"])
            VaRequest.objects.filter(dossier_id=va_request.dossier_id, status__in=VaRequest.OPEN_STATUSES).exclude(
                pk=va_request.pk).update(status=VaRequest.Status.REVOKED, revoked_at=now)
            outbox.enqueue(tasks.notify_va_returned, [va_request.pk])
    except Exception:
        if document is not None and document.file.name:
            document.file.delete(save=False)
        raise
    return va_request

