"""Writes to dossiers. `run_transition` is the only caller of transition methods, so nothing skips the history."""
from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed
from rest_framework import serializers

from organisations.models import Membership, Organisation, Role
from segurtrack.errors import InvalidInput, NotPermitted, ServiceError

from . import rules
from . import anchors
from . import blocker_refresh
from . import counters
from . import events
from .models import (
    ACTIVE_EXCLUDED_STATES, AMENDMENT_STATES, FINAL_STATES, SCENARIO_CHANGE_STATES, SIGNED_KINDS, Amendment, Blocker, Client, Document, Dossier, HistoryEntry,
    PvPilote, Solution, State,
)
from .models.records import canonical_json
from .models import DeclaredFiness
from .payloads import TRANSITIONS, SoldeDraft, validate_payload
from . import audit
from .sites import site_conflicts

SELECT_RELATED = ("client", "solution", "dispositif", "dispositif__couloir")


class RulesFailed(ServiceError):
    """A step refused: every blocking failure, and the warnings that came with them (the API's 409 body)."""

    def __init__(self, failures: list[rules.Failure], warnings: list[rules.Failure] | None = None):
        super().__init__(", ".join(f.rule for f in failures))
        self.failures = failures
        self.warnings = warnings or []


@dataclass
class Outcome:
    dossier: Dossier
    warnings: list[rules.Failure] = field(default_factory=list)
    history: HistoryEntry | None = None


def _errors_from(exc: serializers.ValidationError) -> dict[str, list[str]]:
    detail = exc.detail
    if isinstance(detail, dict):
        return {k: [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in detail.items()}
    return {"non_field_errors": [str(m) for m in (detail if isinstance(detail, list) else [detail])]}


def require_role(user: AbstractBaseUser, organisation_id: int, role: str = Role.MANAGER) -> None:
    """Refuse unless the user holds at least `role` in the organisation (superusers act everywhere)."""
    if getattr(user, "is_superuser", False):
        return
    membership = Membership.objects.filter(user_id=user.pk, organisation_id=organisation_id).only("role").first()
    if membership is None or not membership.has_role(role):
        raise NotPermitted(_("Votre rôle ne permet pas cette action."))


def _lock(dossier_id: int) -> Dossier:
    """The dossier row, locked until the transaction ends, with what the rules read and whether it has blockers."""
    queryset = Dossier.objects.select_related(*SELECT_RELATED).annotate(
        has_blockers=Exists(Blocker.objects.filter(dossier_id=OuterRef("pk"))))
    if transaction.get_connection().features.has_select_for_update_of:
        queryset = queryset.select_for_update(of=("self",))
    else:
        queryset = queryset.select_for_update()
    return queryset.get(pk=dossier_id)


def append_history(dossier: Dossier, *, user: AbstractBaseUser | None, action: str, from_state: str = "",
                   to_state: str = "", data: dict[str, Any] | None = None, save_head: bool = True) -> HistoryEntry:
    """Append one chained row; the caller holds the dossier's row lock.

    The chain's head is stored on the dossier: at once, or with the caller's own save when `save_head` is False.
    """
    entry = HistoryEntry(
        dossier=dossier, seq=dossier.history_seq + 1, at=timezone.now(), user=user,
        username=user.get_username() if user is not None else "", action=action, from_state=from_state,
        to_state=to_state or from_state, data=data or {}, prev_hash=dossier.history_hash,
    )
    entry.hash = entry.compute_hash()
    entry.save()
    events.history_appended(entry)  # listeners (webhooks) write their rows in this transaction
    dossier.history_seq, dossier.history_hash = entry.seq, entry.hash
    dossier.history_anchor = anchors.anchor(dossier.pk, entry.seq, entry.hash)
    if save_head:
        Dossier.objects.filter(pk=dossier.pk).update(history_seq=entry.seq, history_hash=entry.hash,
                                                     history_anchor=dossier.history_anchor)
    return entry


def refresh_blockers(dossier: Dossier) -> list[str]:
    """Store the rules now blocking the dossier's next step (the solde draft counts for a solde)."""
    payload = solde_draft_payload(dossier) if rules.NEXT_STEP.get(dossier.state) == "file_solde" else {}
    failures = rules.next_step_blockers(dossier, payload)
    transition = rules.NEXT_STEP.get(dossier.state, "")
    # A dossier read by `_lock` knows whether it has blocker rows: none to delete saves a statement.
    before = counters.delete_blockers(dossier)
    Blocker.objects.bulk_create([Blocker(dossier_id=dossier.pk, transition=transition, rule=f.rule) for f in failures])
    counters.record_blockers(dossier, before, [f.rule for f in failures])
    dossier.has_blockers = bool(failures)
    return [f.rule for f in failures]


def refresh_blockers_of(queryset) -> int:
    """Refresh every dossier of a queryset (after a change to a client, a solution or a PV pilote)."""
    count = 0
    for dossier in queryset.select_related(*SELECT_RELATED).exclude(state__in=FINAL_STATES).iterator(chunk_size=500):
        refresh_blockers(dossier)
        count += 1
    return count


def _enqueue_notification(entry: HistoryEntry) -> None:
    """Record the notification task in this transaction (outbox); it is published after the commit, or drained
    later when the broker is away, so a transition never fails nor loses its notification because of Redis."""
    from . import outbox

    outbox.enqueue("dossiers.tasks.notify_history_entry", [entry.pk])


def state_refusal(dossier: Dossier, name: str) -> rules.Failure:
    return rules.Failure(
        rules.STATE_RULE, rules.Severity.BLOCK,
        _("La transition « %(name)s » n'est pas possible depuis l'état « %(state)s ».") % {
            "name": name, "state": State(dossier.state).label},
    )


def run_transition(dossier_id: int, name: str, *, by: AbstractBaseUser, data: Any) -> Outcome:
    """Lock, check state, payload and rules, apply, save, append history, notify after commit.

    Raises NotPermitted, RulesFailed (state or rules: nothing saved) or InvalidInput (bad payload).
    """
    if name not in TRANSITIONS:
        raise InvalidInput({"transition": [_("Transition inconnue : %(name)s.") % {"name": name}]})
    with transaction.atomic():
        dossier = _lock(dossier_id)
        require_role(by, dossier.organisation_id)
        if not can_proceed(getattr(dossier, name)):
            raise RulesFailed([state_refusal(dossier, name)])
        try:
            payload = validate_payload(name, data, dossier)
        except serializers.ValidationError as exc:
            raise InvalidInput(_errors_from(exc))
        failures = rules.evaluate(rules.Context(dossier, name, payload))
        blocking = [f for f in failures if f.severity is rules.Severity.BLOCK]
        warnings = [f for f in failures if f.severity is rules.Severity.WARN]
        if blocking:
            raise RulesFailed(blocking, warnings)
        from_state = dossier.state
        before = counters.snapshot(dossier)
        getattr(dossier, name)(payload)
        dossier.state_changed_at = timezone.now()
        history_data = dict(payload)
        if warnings:
            history_data["warnings"] = [w.rule for w in warnings]
        entry = append_history(dossier, user=by, action=name, from_state=from_state, to_state=dossier.state,
                               data=history_data, save_head=False)
        if from_state in ACTIVE_EXCLUDED_STATES and dossier.state not in ACTIVE_EXCLUDED_STATES:
            # Entering the one-prestation-per-dispositif set is the only save the partial unique index can refuse
            # (two dossiers of one client and dispositif signed at once); only it needs a savepoint.
            try:
                with transaction.atomic():
                    dossier.save()
            except IntegrityError:
                raise RulesFailed([rules.Failure("dispositif.single_active", rules.Severity.BLOCK, _(
                    "Le client a déjà un dossier actif pour ce dispositif."))])
        else:
            dossier.save()
        counters.record_change(dossier, before)
        refresh_blockers(dossier)
        _enqueue_notification(entry)
    return Outcome(dossier, warnings, entry)


# --- changes outside the state machine -------------------------------------------------------------------------

def create_dossier(*, organisation: Organisation, by: AbstractBaseUser, client: Client, solution: Solution,
                   scenario: str = "", reference: str = "") -> Dossier:
    if client.organisation_id != organisation.pk or solution.organisation_id != organisation.pk:
        raise InvalidInput({"client": [_("Client ou solution d'une autre organisation.")]})
    require_role(by, organisation.pk)
    with transaction.atomic():
        dossier = Dossier(organisation=organisation, client=client, solution=solution,
                          dispositif_id=solution.dispositif_id, scenario=scenario, reference=reference)
        try:
            with transaction.atomic():
                dossier.save()
        except IntegrityError:
            raise InvalidInput({"reference": [_("Cette référence est déjà utilisée.")]})
        if not dossier.reference:
            dossier.reference = f"SEG-{dossier.pk:06d}"
            Dossier.objects.filter(pk=dossier.pk).update(reference=dossier.reference)
        counters.record_change(dossier, None)
        append_history(dossier, user=by, action="create", to_state=dossier.state,
                       data={"client": client.pk, "solution": solution.pk, "scenario": scenario,
                             "reference": dossier.reference})
        refresh_blockers(dossier)
    return dossier


# Dossier fields a manager sets freely (validated by the caller's serializer or form), each change logged.
DOSSIER_SETTINGS = ("declared_finess", "installed_version", "maintenance_contract")


def update_dossier(dossier_id: int, *, by: AbstractBaseUser, changes: dict[str, Any]) -> Dossier:
    """Change the scenario (until the VA is signed), the reference, the settings or the solde draft; each change is
    logged."""
    with transaction.atomic():
        dossier = _lock(dossier_id)
        require_role(by, dossier.organisation_id)
        errors: dict[str, list[str]] = {}
        if "scenario" in changes and changes["scenario"] != dossier.scenario:
            if dossier.state not in SCENARIO_CHANGE_STATES:
                errors["scenario"] = [_("Le scénario ne peut plus changer une fois la VA signée : les contrôles se "
                                        "font sur le scénario de la VA.")]
            else:
                append_history(dossier, user=by, action="change_scenario", from_state=dossier.state,
                               data={"from": dossier.scenario, "to": changes["scenario"]})
                dossier.scenario = changes["scenario"]
        if "reference" in changes and changes["reference"] != dossier.reference:
            if Dossier.objects.filter(organisation_id=dossier.organisation_id, reference=changes["reference"]).exclude(
                    pk=dossier.pk).exists():
                errors["reference"] = [_("Cette référence est déjà utilisée.")]
            else:
                append_history(dossier, user=by, action="change_reference", from_state=dossier.state,
                               data={"from": dossier.reference, "to": changes["reference"]})
                dossier.reference = changes["reference"]
        if "declared_finess" in changes and changes["declared_finess"] not in DeclaredFiness.values:
            errors["declared_finess"] = [_("Valeur inconnue : geo ou legal.")]
        for name in DOSSIER_SETTINGS:
            if name in changes and name not in errors and changes[name] != getattr(dossier, name):
                append_history(dossier, user=by, action=f"change_{name}", from_state=dossier.state,
                               data={"from": getattr(dossier, name), "to": changes[name]})
                setattr(dossier, name, changes[name])
        if "solde_draft" in changes:
            draft = SoldeDraft(data=changes["solde_draft"] or {}, dossier=dossier)
            if not draft.is_valid():
                errors.update({f"solde_draft.{k}": [str(m) for m in v] for k, v in draft.errors.items()})
            elif (typed := json.loads(canonical_json(dict(draft.validated_data)))) != dossier.solde_draft:
                # The same draft posted again is no change: no history row.
                dossier.solde_draft = typed
                append_history(dossier, user=by, action="change_solde_draft", from_state=dossier.state,
                               data=dossier.solde_draft)
        if errors:
            raise InvalidInput(errors)
        dossier.save()
        refresh_blockers(dossier)
    return dossier


def solde_draft_payload(dossier: Dossier) -> dict[str, Any]:
    """The solde draft as typed values (the checklist evaluates rules against it)."""
    draft = SoldeDraft(data=dossier.solde_draft or {}, dossier=dossier)
    return dict(draft.validated_data) if draft.is_valid() else {}


# --- documents ---------------------------------------------------------------------------------------------------

PDF_MAGIC = b"%PDF-"
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def sanitise_filename(name: str) -> str:
    """A display name with no path, control character or exotic character; never empty."""
    name = unicodedata.normalize("NFKD", os.path.basename((name or "").replace("\\", "/")))
    name = "".join(c for c in name if not unicodedata.combining(c) and c.isprintable())
    name = _UNSAFE.sub("_", name).strip(" ._") or "document"
    stem, ext = os.path.splitext(name)
    return (stem[:150] + ext[:10]) or "document"


def check_upload(upload: UploadedFile, kind: str) -> tuple[str, str, int]:
    """Check size and content; return (sanitised name, sha256, size). Raises InvalidInput."""
    size = upload.size or 0
    if size > settings.DOCUMENT_MAX_BYTES:
        raise InvalidInput({"file": [_("Fichier trop volumineux : %(size)s Mo pour %(max)s Mo au plus.") % {
            "size": round(size / 1_048_576, 1), "max": round(settings.DOCUMENT_MAX_BYTES / 1_048_576, 1)}]})
    if size == 0:
        raise InvalidInput({"file": [_("Le fichier est vide.")]})
    digest = hashlib.sha256()
    head = b""
    for chunk in upload.chunks():
        if len(head) < 1024:
            head += chunk[: 1024 - len(head)]
        digest.update(chunk)
    upload.seek(0)
    if kind in SIGNED_KINDS and PDF_MAGIC not in head[:1024]:
        raise InvalidInput({"file": [_("Ce document doit être un PDF (contenu non reconnu comme PDF).")]})
    name = sanitise_filename(upload.name)
    if kind in SIGNED_KINDS and not name.lower().endswith(".pdf"):
        name = f"{name}.pdf"
    return name, digest.hexdigest(), size


def add_document(dossier_id: int, *, by: AbstractBaseUser, kind: str, upload: UploadedFile) -> Document:
    from .models import DocumentKind

    if kind not in DocumentKind.values:
        raise InvalidInput({"kind": [_("Type de document inconnu : %(kind)s.") % {"kind": kind}]})
    document, _entry = _attach_document(dossier_id, by=by, kind=kind, upload=upload, action="add_document")
    return document


def _attach_document(dossier_id: int, *, by: AbstractBaseUser | None, kind: str, upload: UploadedFile, action: str,
                     data: dict[str, Any] | None = None) -> tuple[Document, HistoryEntry]:
    """Check the upload, store the file, add the row and its history row; `by` None: someone without an account."""
    name, sha256, size = check_upload(upload, kind)
    document = None
    # The file is written before the row; whatever fails afterwards, the commit included, removes it again.
    try:
        with transaction.atomic():
            dossier = _lock(dossier_id)
            if by is not None:
                require_role(by, dossier.organisation_id)
            pdf = name.lower().endswith(".pdf")
            document = Document(organisation_id=dossier.organisation_id, dossier=dossier, kind=kind, filename=name,
                                size=size, sha256=sha256, uploaded_by=by,
                                content_type="application/pdf" if pdf else "application/octet-stream")
            document.file.save(f"{uuid.uuid4().hex}{'.pdf' if pdf else ''}", upload, save=False)
            document.save()
            entry = append_history(dossier, user=by, action=action, from_state=dossier.state,
                                   data={"document": document.pk, "kind": kind, "filename": name, "sha256": sha256,
                                         **(data or {})})
            refresh_blockers(dossier)
    except Exception:
        if document is not None and document.file.name:
            document.file.delete(save=False)
        raise
    return document, entry


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


# --- amendments -------------------------------------------------------------------------------------------------

def _recompute_amounts(dossier: Dossier) -> None:
    """Declared amount in force = the last amendment's, else the avance's; avance paid = avance + paid amendments."""
    amendments = list(dossier.amendments.order_by("filed_on", "id"))
    dossier.declared_amount = amendments[-1].amount if amendments else dossier.avance_declared_amount
    paid = sum((a.paid_amount or Decimal("0") for a in amendments if a.status == Amendment.Status.PAID), Decimal("0"))
    dossier.avance_paid_total = (dossier.avance_paid_amount or Decimal("0")) + paid


def add_amendment(dossier_id: int, *, by: AbstractBaseUser, filed_on: date, amount: Decimal) -> Amendment:
    with transaction.atomic():
        dossier = _lock(dossier_id)
        require_role(by, dossier.organisation_id)
        if dossier.state not in AMENDMENT_STATES:
            raise RulesFailed([rules.Failure("amendment.avance_open", rules.Severity.BLOCK, _(
                "Un avenant ne peut être déposé que pendant que l'avance est ouverte (de son dépôt au dépôt du "
                "solde)."))])
        before = counters.snapshot(dossier)
        if amount <= 0:
            raise InvalidInput({"amount": [_("Le montant doit être positif.")]})
        # An amendment declares a new avance amount: the avance's amount rule (ceiling, decimals) applies to it.
        refused = rules.CATALOGUE["avance.amount"].check(
            rules.Context(dossier, "file_amendment", {"declared_amount": amount}))
        if refused is not None:
            raise RulesFailed([rules.Failure("avance.amount", rules.Severity.BLOCK, refused)])
        amendment = Amendment.objects.create(dossier=dossier, filed_on=filed_on, amount=amount)
        _recompute_amounts(dossier)
        append_history(dossier, user=by, action="file_amendment", from_state=dossier.state,
                       data={"amendment": amendment.pk, "filed_on": filed_on, "amount": amount})
        dossier.save(update_fields=["declared_amount", "avance_paid_total", "updated_at"])
        counters.record_change(dossier, before)
        refresh_blockers(dossier)
    return amendment


AMENDMENT_NEXT = {Amendment.Status.FILED: Amendment.Status.VALIDATED, Amendment.Status.VALIDATED: Amendment.Status.PAID}


def update_amendment(amendment_id: int, *, by: AbstractBaseUser, status: str, on: date | None = None,
                     paid_amount: Decimal | None = None) -> Amendment:
    with transaction.atomic():
        amendment = Amendment.objects.select_for_update().get(pk=amendment_id)
        dossier = _lock(amendment.dossier_id)
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
        before = counters.snapshot(dossier)
        _recompute_amounts(dossier)
        append_history(dossier, user=by, action=f"amendment_{status}", from_state=dossier.state,
                       data={"amendment": amendment.pk, "on": on, "paid_amount": paid_amount})
        dossier.save(update_fields=["declared_amount", "avance_paid_total", "updated_at"])
        counters.record_change(dossier, before)
        refresh_blockers(dossier)
    return amendment


# --- clients and solutions ----------------------------------------------------------------------------------------

def _full_clean(instance, exclude: list[str] | None = None) -> None:
    from django.core.exceptions import ValidationError

    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as error:
        raise InvalidInput({field: [str(m) for m in messages] for field, messages in error.message_dict.items()})


def _unchanged(instance: Client | Solution) -> bool:
    """True when a stored instance holds exactly the stored values (a PATCH that changes nothing)."""
    if instance.pk is None:
        return False
    names = [f.attname for f in type(instance)._meta.concrete_fields]
    stored = type(instance).objects.filter(pk=instance.pk).values_list(*names).first()
    return stored == tuple(getattr(instance, name) for name in names)


def save_client(client: Client, *, by: AbstractBaseUser) -> Client:
    """Create or update a client (identifiers validated and normalised); refresh its dossiers' blockers."""
    require_role(by, client.organisation_id)
    _full_clean(client, exclude=["organisation"])
    conflicts = site_conflicts(client)
    if conflicts:
        raise InvalidInput(conflicts)
    if _unchanged(client):
        return client  # nothing to save, nothing to audit or refresh
    with transaction.atomic():
        new = client.pk is None
        before = audit.snapshot(Client, client.pk, lock=True)
        try:
            with transaction.atomic():
                client.save()
        except IntegrityError:
            # A concurrent save took the same site first (the unique constraints decide): say which client.
            raise InvalidInput(site_conflicts(client) or {"finess_geo": [_("Ce site est déjà un client.")]})
        audit.record_change(client, by=by, before=before)
        if not new:
            blocker_refresh.schedule("client", client.pk)
    return client


def save_solution(solution: Solution, *, by: AbstractBaseUser) -> Solution:
    """Create or update a solution; a referencing date or dispositif change may unblock its dossiers."""
    require_role(by, solution.organisation_id)
    _full_clean(solution, exclude=["organisation"])
    if solution.pk is not None:
        before = Solution.objects.filter(pk=solution.pk).values_list("dispositif_id", flat=True).first()
        # Each dossier copies its solution's dispositif (the one-prestation constraint is keyed on it).
        if before is not None and before != solution.dispositif_id and solution.dossiers.exists():
            raise InvalidInput({"dispositif": [_(
                "Cette solution a déjà des dossiers : son dispositif ne peut plus changer. Créez une autre solution.")]})
    if _unchanged(solution):
        return solution  # nothing to save, nothing to refresh
    with transaction.atomic():
        new = solution.pk is None
        before = audit.snapshot(Solution, solution.pk, lock=True)
        try:
            with transaction.atomic():
                solution.save()
        except IntegrityError:
            raise InvalidInput({"name": [_("Cette solution existe déjà dans cette version pour ce dispositif.")]})
        audit.record_change(solution, by=by, before=before)
        if not new:
            blocker_refresh.schedule("solution", solution.pk)
    return solution


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


# --- documents returned from outside the organisation ---------------------------------------------------------------

def add_returned_document(dossier_id: int, *, kind: str, upload: UploadedFile, returned_by: str,
                          data: dict[str, Any] | None = None) -> tuple[Document, HistoryEntry]:
    """A document sent back by someone without an account (a client's signatory, through a link the caller has
    checked): the same upload checks as `add_document`, a history row `document_returned` naming them.

    The file is written before the row and removed again if this fails; a caller that fails after this returned,
    in the same transaction, removes `document.file` itself.
    """
    return _attach_document(dossier_id, by=None, kind=kind, upload=upload, action="document_returned",
                            data={"returned_by": returned_by, **(data or {})})
