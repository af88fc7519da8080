"""`Idempotency-Key` on transitions: the first answer (200 or 409) is stored and replayed on retries."""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from organisations.models import Organisation

from ..models import Dossier, IdempotencyRecord
from ..models.records import canonical_json
from segurtrack.errors import InvalidInput

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = IdempotencyRecord._meta.get_field("key").max_length

Answer = tuple[int, dict[str, Any]]


def fingerprint(name: str, dossier_id: int, body: Any) -> str:
    return hashlib.sha256(canonical_json({"transition": name, "dossier": dossier_id, "body": body}).encode()).hexdigest()


def _refuse(message: str) -> InvalidInput:
    return InvalidInput({HEADER: [message]})


def replay_or_run(organisation: Organisation, key: str, *, dossier_id: int, name: str, body: Any,
                  run: Callable[[], Answer]) -> tuple[Answer, bool]:
    """The stored answer to this key (and whether it is a replay), else `run()`'s answer, stored.

    The dossier's row lock serialises retries of one request; the unique (organisation, key) index
    refuses one key reused at once on two dossiers, rolling the second transition back.
    """
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise _refuse(_("Clé d'idempotence vide ou trop longue (%(max)d caractères au plus).") % {"max": MAX_KEY_LENGTH})
    expected = fingerprint(name, dossier_id, body)
    with transaction.atomic():
        Dossier.objects.select_for_update().only("pk").get(pk=dossier_id)
        record = IdempotencyRecord.objects.filter(organisation=organisation, key=key).first()
        if record is not None:
            if record.request_fingerprint != expected:
                raise _refuse(_("Cette clé d'idempotence a déjà servi pour une autre requête."))
            return (record.status_code, record.body), True
        status, answer = run()
        try:
            with transaction.atomic():
                IdempotencyRecord.objects.create(organisation=organisation, key=key, request_fingerprint=expected,
                                                 status_code=status, body=answer)
        except IntegrityError:
            raise _refuse(_("Cette clé d'idempotence a déjà servi pour une autre requête."))
    return (status, answer), False
