"""Writes to a client's portability requests and a solution's changes (DOMAIN.md §6, §8): managers, not only staff."""
from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import formats
from django.utils.translation import gettext as _

from . import deadlines
from .models import Client, PortabilityRequest, Solution, SolutionChange
from .services import require_role
from segurtrack.errors import InvalidInput

PORTABILITY_FIELDS = ("requested_on", "channel", "fulfilled_on", "notes")
CHANGE_FIELDS = ("changed_on", "description", "affects_conformity", "ans_notified_on", "rereferencing_requested_on",
                 "rereferencing_filed_on")


def _not_before(errors: dict[str, list[str]], instance: Any, field: str, earlier: str) -> None:
    value, start = getattr(instance, field), getattr(instance, earlier)
    if value is not None and start is not None and value < start:
        errors.setdefault(field, []).append(_("Cette date ne peut pas précéder le %(date)s (%(label)s).") % {
            "date": formats.date_format(start, "j F Y"),
            "label": instance._meta.get_field(earlier).verbose_name})


def _clean(instance: Any, exclude: list[str]) -> dict[str, list[str]]:
    try:
        instance.full_clean(exclude=exclude, validate_constraints=False)
    except ValidationError as error:
        return {field: [str(m) for m in messages] for field, messages in error.message_dict.items()}
    return {}


def _assign(instance: Any, changes: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise InvalidInput({name: [_("Champ inconnu ou en lecture seule.")] for name in unknown})
    for name, value in changes.items():
        setattr(instance, name, "" if value is None and name in ("notes", "description") else value)


def save_portability_request(client: Client, *, by: AbstractBaseUser, changes: dict[str, Any],
                             request: PortabilityRequest | None = None) -> PortabilityRequest:
    """Record a client's request for its data, or update one (its fulfilment date closes the deadline)."""
    require_role(by, client.organisation_id)
    if request is not None and request.client_id != client.pk:
        raise InvalidInput({"client": [_("Cette demande concerne un autre client.")]})
    request = request or PortabilityRequest(client=client)
    _assign(request, changes, PORTABILITY_FIELDS)
    errors = _clean(request, exclude=["client"])
    _not_before(errors, request, "fulfilled_on", "requested_on")
    if errors:
        raise InvalidInput(errors)
    with transaction.atomic():
        request.save()
        deadlines.keep(requests_of=[client.pk])
    return request


def save_solution_change(solution: Solution, *, by: AbstractBaseUser, changes: dict[str, Any],
                         change: SolutionChange | None = None) -> SolutionChange:
    """Record a change to a solution, or its follow-up (ANS informed, new referencing asked for and filed)."""
    require_role(by, solution.organisation_id)
    if change is not None and change.solution_id != solution.pk:
        raise InvalidInput({"solution": [_("Cette modification concerne une autre solution.")]})
    change = change or SolutionChange(solution=solution)
    _assign(change, changes, CHANGE_FIELDS)
    errors = _clean(change, exclude=["solution"])
    if not errors.get("description") and not (change.description or "").strip():
        errors["description"] = [_("Décrivez la modification.")]
    for field in ("ans_notified_on", "rereferencing_requested_on"):
        _not_before(errors, change, field, "changed_on")
    _not_before(errors, change, "rereferencing_filed_on", "rereferencing_requested_on")
    if change.rereferencing_filed_on is not None and change.rereferencing_requested_on is None:
        errors.setdefault("rereferencing_filed_on", []).append(
            _("Indiquez d'abord la date à laquelle l'ANS a demandé un nouveau référencement."))
    if errors:
        raise InvalidInput(errors)
    with transaction.atomic():
        change.save()
        deadlines.keep(changes_of=[solution.pk])
    return change
