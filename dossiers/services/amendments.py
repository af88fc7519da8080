"""Amendments (avenants) to the avance: filed while the avance is open, then validated and paid; each recomputes the
amount in force and the avance paid so far."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from segurtrack.errors import InvalidInput

from .. import counters, deadlines, rules
from ..blockers import lock, refresh_blockers
from ..models import AMENDMENT_STATES, Amendment, Dossier
from .common import RulesFailed, append_history, require_role

AMENDMENT_NEXT = {Amendment.Status.FILED: Amendment.Status.VALIDATED, Amendment.Status.VALIDATED: Amendment.Status.PAID}


def _recompute_amounts(dossier: Dossier) -> None:
    """Declared amount in force = the last amendment's, else the avance's; avance paid = avance + paid amendments."""
    amendments = list(dossier.amendments.order_by("filed_on", "id"))
    dossier.declared_amount = amendments[-1].amount if amendments else dossier.avance_declared_amount
    paid = sum((a.paid_amount or Decimal("0") for a in amendments if a.status == Amendment.Status.PAID), Decimal("0"))
    dossier.avance_paid_total = (dossier.avance_paid_amount or Decimal("0")) + paid


def _save_amounts(dossier: Dossier, *, by: AbstractBaseUser, action: str, data: dict) -> None:
    before = counters.snapshot(dossier)
    _recompute_amounts(dossier)
    append_history(dossier, user=by, action=action, from_state=dossier.state, data=data)
    dossier.save(update_fields=["declared_amount", "avance_paid_total", "updated_at"])
    counters.record_change(dossier, before)  # before the blockers: state counts are always locked first
    deadlines.keep(dossier_ids=[dossier.pk])  # a recovery's amount still owed reads the avance paid
    refresh_blockers(dossier)


def add_amendment(dossier_id: int, *, by: AbstractBaseUser, filed_on: date, amount: Decimal) -> Amendment:
    with transaction.atomic():
        dossier = lock(dossier_id)
        require_role(by, dossier.organisation_id)
        if dossier.state not in AMENDMENT_STATES:
            raise RulesFailed([rules.Failure("amendment.avance_open", rules.Severity.BLOCK, _(
                "Un avenant ne peut être déposé que pendant que l'avance est ouverte (de son dépôt au dépôt du "
                "solde)."))])
        if amount <= 0:
            raise InvalidInput({"amount": [_("Le montant doit être positif.")]})
        # An amendment declares a new avance amount: the avance's amount rule (ceiling, decimals) applies to it.
        refused = rules.CATALOGUE["avance.amount"].check(
            rules.Context(dossier, "file_amendment", {"declared_amount": amount}))
        if refused is not None:
            raise RulesFailed([rules.Failure("avance.amount", rules.Severity.BLOCK, refused)])
        amendment = Amendment.objects.create(dossier=dossier, filed_on=filed_on, amount=amount)
        _save_amounts(dossier, by=by, action="file_amendment",
                      data={"amendment": amendment.pk, "filed_on": filed_on, "amount": amount})
    return amendment


def update_amendment(amendment_id: int, *, by: AbstractBaseUser, status: str, on: date | None = None,
                     paid_amount: Decimal | None = None) -> Amendment:
    with transaction.atomic():
        amendment = Amendment.objects.select_for_update().get(pk=amendment_id)
        dossier = lock(amendment.dossier_id)
        require_role(by, dossier.organisation_id)
        if status == amendment.status:
            return amendment
        if AMENDMENT_NEXT.get(amendment.status) != status:
            raise RulesFailed([rules.Failure(rules.STATE_RULE, rules.Severity.BLOCK, _(
                "Un avenant « %(current)s » ne peut pas passer à « %(target)s ».") % {
                "current": Amendment.Status(amendment.status).label, "target": Amendment.Status(status).label})])
        # API.md: {"status": "paid"} alone is valid; the amendment is taken as paid in full, today.
        if status == Amendment.Status.PAID and paid_amount is None:
            paid_amount = amendment.amount
        on = on or timezone.localdate()
        amendment.status = status
        if status == Amendment.Status.VALIDATED:
            amendment.validated_on = on
        else:
            amendment.paid_on = on
            amendment.paid_amount = paid_amount
        amendment.save()
        _save_amounts(dossier, by=by, action=f"amendment_{status}",
                      data={"amendment": amendment.pk, "on": on, "paid_amount": paid_amount})
    return amendment
