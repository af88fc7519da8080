"""Clients, solutions and their PV pilotes. Each change is audited (`audit`), a site is one client (`sites`), and the
blockers of the dossiers it may unblock are refreshed after the commit (`blocker_refresh`)."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from segurtrack.errors import InvalidInput

from .. import audit, blocker_refresh, deadlines
from ..models import Client, Dossier, PvPilote, Solution
from ..sites import site_conflicts
from .common import full_clean, require_role
from .documents import check_upload

Party = TypeVar("Party", Client, Solution)


def _unchanged(instance: Client | Solution) -> bool:
    """True when a stored instance holds exactly the stored values (a PATCH that changes nothing)."""
    if instance.pk is None:
        return False
    names = [f.attname for f in type(instance)._meta.concrete_fields]
    stored = type(instance).objects.filter(pk=instance.pk).values_list(*names).first()
    return stored == tuple(getattr(instance, name) for name in names)


def _save_audited(instance: Party, *, by: AbstractBaseUser, scope: str,
                  taken: Callable[[], dict[str, list[str]]],
                  then: Callable[[Party], object] | None = None) -> Party:
    """Save, audit the change and refresh the dossiers of an existing one; `taken()`: the errors of a unique clash;
    `then(instance)`: what else the change writes, in its transaction."""
    if _unchanged(instance):
        return instance  # nothing to save, nothing to audit or refresh
    with transaction.atomic():
        new = instance.pk is None
        before = audit.snapshot(type(instance), instance.pk, lock=True)
        if not new:
            deadlines.lock_party(instance, before)  # its dossiers before its row changes: a transition's order
        try:
            with transaction.atomic():
                instance.save()
        except IntegrityError:
            raise InvalidInput(taken())
        audit.record_change(instance, by=by, before=before)
        if then is not None and not new:
            then(instance)
        if not new:
            blocker_refresh.schedule(scope, instance.pk)
            deadlines.keep_party(instance, before)
    return instance


def save_client(client: Client, *, by: AbstractBaseUser) -> Client:
    """Create or update a client (identifiers validated and normalised); refresh its dossiers' blockers."""
    require_role(by, client.organisation_id)
    full_clean(client, exclude=["organisation"])
    conflicts = site_conflicts(client)
    if conflicts:
        raise InvalidInput(conflicts)
    # A concurrent save that took the same site first (the unique constraints decide): say which client.
    return _save_audited(client, by=by, scope="client", taken=lambda: site_conflicts(client) or {
        "finess_geo": [_("Ce site est déjà un client.")]}, then=_keep_client_name)


def _keep_client_name(client: Client) -> None:
    """The client's dossiers carry its name (the list sorts and searches by it): a rename reaches them all (one
    UPDATE, `updated_at` untouched: the dossiers themselves did not change)."""
    Dossier.objects.filter(client_id=client.pk).exclude(client_name=client.name).update(client_name=client.name)


def save_solution(solution: Solution, *, by: AbstractBaseUser) -> Solution:
    """Create or update a solution; a referencing date or dispositif change may unblock its dossiers."""
    require_role(by, solution.organisation_id)
    full_clean(solution, exclude=["organisation"])
    if solution.pk is not None:
        before = Solution.objects.filter(pk=solution.pk).values_list("dispositif_id", flat=True).first()
        # Each dossier copies its solution's dispositif (the one-prestation constraint is keyed on it).
        if before is not None and before != solution.dispositif_id and solution.dossiers.exists():
            raise InvalidInput({"dispositif": [_(
                "Cette solution a déjà des dossiers : son dispositif ne peut plus changer. Créez une autre solution.")]})
    return _save_audited(solution, by=by, scope="solution", taken=lambda: {
        "name": [_("Cette solution existe déjà dans cette version pour ce dispositif.")]})


def add_pv_pilote(solution: Solution, *, by: AbstractBaseUser, signed_on: date, status: str,
                  upload: UploadedFile) -> PvPilote:
    require_role(by, solution.organisation_id)
    name, sha256, size = check_upload(upload, "pv_pilote")
    pv = PvPilote(solution=solution, signed_on=signed_on, status=status, filename=name, size=size, sha256=sha256,
                  uploaded_by=by)
    pv.file.save(f"{uuid.uuid4().hex}.pdf", upload, save=False)
    try:
        with transaction.atomic():
            pv.save()
            audit.record_pv_pilote(pv, by=by, before=None)
            blocker_refresh.schedule("solution", solution.pk)
    except Exception:
        pv.file.delete(save=False)
        raise
    return pv


def set_pv_pilote_status(pv: PvPilote, *, by: AbstractBaseUser, status: str) -> PvPilote:
    require_role(by, pv.solution.organisation_id)
    if status not in PvPilote.Status.values:
        raise InvalidInput({"status": [_("Statut inconnu : pending ou validated.")]})
    with transaction.atomic():
        before = PvPilote.objects.select_for_update().values_list("status", flat=True).get(pk=pv.pk)
        pv.status = status
        pv.save(update_fields=["status"])
        audit.record_pv_pilote(pv, by=by, before=before)
        blocker_refresh.schedule("solution", pv.solution_id)
    return pv
