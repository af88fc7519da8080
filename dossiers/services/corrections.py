"""Corrections of what a dossier records — a step's data, a document, the solde draft — until the ASP has it.

Each correction is a write like the others: lock, refusal, validation (the step's payload, and the rules that read
the changed values: `dates.chronology` between the neighbouring steps, the avance ceiling, ...), save, one history
row with before and after. Never a silent edit.

What the ASP has, and since when: `FILINGS`, the one table. A filing step sends the ASP the data of some steps and
some documents; once the dossier records that filing (its date), they are the ASP's and every correction of them is
refused, except in the state in which the ASP sent the filing back for a fix:

| filing (recorded in)                          | steps whose data it carries                                          | documents                           | correctable again in |
|-----------------------------------------------|----------------------------------------------------------------------|-------------------------------------|----------------------|
| file_avance (avance_filed_on)                 | sign_bdc, file_avance                                                | bdc                                 | avance_to_fix        |
| file_solde (solde_filed_on)                   | record_avance_payment, mark_deployed, sign_va, file_solde; the draft | va, invoice, vat_exemption          | solde_to_fix         |
| request_cancellation (cancellation_requested_on) | —                                                                 | honour_statement, client_renunciation | never              |

Decisions around it:
- The avance payment (record_avance_payment) is the ASP's own figure as the vendor recorded it: the record may be
  corrected to match the ASP's payment notice until the solde is filed, since the solde request is measured against
  the avance paid (amendments' payments stay in the total: the correction moves it by the difference).
- The solde payment ends the dossier (solde_paid is final); the ASP's decisions (validations, requests for a fix) and
  the cancellation steps are recorded as the ASP notified them and are not corrected here.
- Final states (solde_paid, cancelled) refuse everything; so does a cancellation in the ASP's hands
  (cancellation_requested, recovery_issued).
- Documents of the other kinds (pv_pilote, other, va_draft) are never sent to the ASP: they may be replaced or
  withdrawn until the dossier ends. A document returned by a client's signatory is a document like the others.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from segurtrack.errors import InvalidInput
from segurtrack.formats import french_date

from .. import counters, deadlines, rules
from ..blockers import lock, refresh_blockers
from ..models import FINAL_STATES, INVOICE_FIELDS, TRANSITION_LABELS, Amendment, Document, DocumentKind, Dossier, State
from ..models.records import canonical_json
from ..payloads import validate_payload
from .common import Outcome, RulesFailed, append_history, require_role
from .documents import check_upload, store_file

CORRECTION_RULE = "correction.with_asp"
# A cancellation in the ASP's hands: the dossier is the ASP's until it confirms or refuses.
CANCELLATION_STATES = frozenset({State.CANCELLATION_REQUESTED, State.RECOVERY_ISSUED})


@dataclass(frozen=True)
class Filing:
    """What one filing step sends the ASP, the dossier field that records it, and the state that sends it back."""

    step: str
    recorded_in: str
    steps: tuple[str, ...]
    kinds: frozenset[str]
    returned: str | None
    draft: bool = False


FILINGS: tuple[Filing, ...] = (
    Filing("file_avance", "avance_filed_on", ("sign_bdc", "file_avance"), frozenset({DocumentKind.BDC}),
           State.AVANCE_TO_FIX),
    Filing("file_solde", "solde_filed_on", ("record_avance_payment", "mark_deployed", "sign_va", "file_solde"),
           frozenset({DocumentKind.VA, DocumentKind.INVOICE, DocumentKind.VAT_EXEMPTION}), State.SOLDE_TO_FIX,
           draft=True),
    Filing("request_cancellation", "cancellation_requested_on", (),
           frozenset({DocumentKind.HONOUR_STATEMENT, DocumentKind.CLIENT_RENUNCIATION}), None),
)

# Each correctable step's payload fields and the dossier fields the step recorded them in (the first field of the
# step's date is how the dossier says the step was taken). declared_amount also moves the amount in force while no
# amendment replaced it; the avance paid moves the total paid by the difference.
STEP_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "sign_bdc": {"signed_on": ("bdc_signed_on",), "signer_name": ("bdc_signer_name",),
                 "signature_type": ("bdc_signature_type",)},
    "file_avance": {"filed_on": ("avance_filed_on",), "declared_amount": ("avance_declared_amount",)},
    "record_avance_payment": {"paid_on": ("avance_paid_on",), "amount": ("avance_paid_amount",)},
    "mark_deployed": {"deployed_on": ("deployed_on",)},
    "sign_va": {"signed_on": ("va_signed_on",), "signer_name": ("va_signer_name",),
                "scenario": ("va_scenario", "scenario"), "mss_deployment": ("mss_deployment",)},
    "file_solde": {"filed_on": ("solde_filed_on",), **{name: (name,) for name in INVOICE_FIELDS}},
}
CORRECTABLE_STEPS = tuple(STEP_FIELDS)
# Rules that read a payload value without naming it in `needs` (dates.chronology reads the step's date).
READS = {"avance.solution_referenced": frozenset({"filed_on"})}


class CorrectionRefused(RulesFailed):
    """The ASP has the information (or the dossier is over): nothing is saved; a 409 on the pages."""

    def __init__(self, message: str):
        super().__init__([rules.Failure(CORRECTION_RULE, rules.Severity.BLOCK, message)])
        self.message = message


def _filing_of(*, step: str | None = None, kind: str | None = None, draft: bool = False) -> Filing | None:
    for filing in FILINGS:
        if step in filing.steps or kind in filing.kinds or (draft and filing.draft):
            return filing
    return None


def _refusal(dossier: Dossier, filing: Filing | None, what: str) -> str | None:
    """Why one may not `what` now (a verb phrase): the dossier is over, the ASP has it, or a cancellation is with it."""
    if dossier.state in FINAL_STATES:
        return _("Le dossier est terminé (« %(state)s ») : plus rien n'y est corrigé.") % {
            "state": State(dossier.state).label}
    filed_on = getattr(dossier, filing.recorded_in) if filing is not None else None
    if filed_on is not None and dossier.state != filing.returned:
        words = {"what": what, "filing": TRANSITION_LABELS[filing.step], "on": french_date(filed_on)}
        if filing.returned is None:
            return _("Transmis à l'ASP par « %(filing)s » le %(on)s : impossible de %(what)s.") % words
        return _("Transmis à l'ASP par « %(filing)s » le %(on)s : impossible de %(what)s, sauf quand l'ASP demande "
                 "une modification (état « %(state)s »).") % {**words, "state": State(filing.returned).label}
    if dossier.state in CANCELLATION_STATES:
        return _("Une annulation est en cours auprès de l'ASP : rien ne se corrige tant qu'elle n'est pas réglée.")
    return None


def _step_date_field(step: str) -> str:
    return STEP_FIELDS[step][rules.STEP_DATE_FIELDS[step]][0]


def step_refusal(dossier: Dossier, step: str) -> str | None:
    """Why the step's recorded data may not be corrected now; None when it may."""
    if getattr(dossier, _step_date_field(step)) is None:
        return _("« %(step)s » n'est pas enregistrée sur ce dossier : il n'y a rien à corriger.") % {
            "step": TRANSITION_LABELS[step]}
    what = _("corriger ce que « %(step)s » a enregistré") % {"step": TRANSITION_LABELS[step]}
    return _refusal(dossier, _filing_of(step=step), what)


def document_refusal(dossier: Dossier, kind: str) -> str | None:
    """Why a document of this kind may not be replaced or withdrawn now; None when it may."""
    what = _("remplacer ou retirer ce document (%(kind)s)") % {"kind": DocumentKind(kind).label}
    return _refusal(dossier, _filing_of(kind=kind), what)


def draft_refusal(dossier: Dossier) -> str | None:
    """Why the solde draft may not be deleted now; None when it may."""
    return _refusal(dossier, _filing_of(draft=True), _("supprimer les données de facture"))


def correctable_steps(dossier: Dossier) -> list[str]:
    """The steps whose recorded data may be corrected now (no query)."""
    return [step for step in CORRECTABLE_STEPS if step_refusal(dossier, step) is None]


def current_values(dossier: Dossier, step: str) -> dict[str, Any]:
    """The step's payload as the dossier records it now (unset values left out)."""
    values = {name: getattr(dossier, fields[0]) for name, fields in STEP_FIELDS[step].items()}
    return {name: value for name, value in values.items() if value is not None}


def _recorded(step: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The dossier fields the step records from a validated payload, as the transition writes them."""
    after = {field: payload.get(name) for name, fields in STEP_FIELDS[step].items() for field in fields}
    if step == "sign_va":
        after["mss_deployment"] = after["mss_deployment"] or ""
    if step == "file_solde" and after["invoice_count"] == 1:
        after["invoices_in_single_pdf"] = after["invoices_total"] = None
    return after


def _chronology(dossier: Dossier, step: str, on) -> list[rules.Failure]:
    """`dates.chronology` for a date already recorded: not in the future and after the steps before it (the rule
    itself, judged on the dossier as it was before the step), and not after the steps that followed."""
    names = rules.RECORDED_STEP_DATES
    index = names.index(_step_date_field(step))
    before_step = copy.copy(dossier)
    for name in names[index:]:
        setattr(before_step, name, None)
    message = rules.CATALOGUE["dates.chronology"].check(
        rules.Context(before_step, step, {rules.STEP_DATE_FIELDS[step]: on}))
    if message is None:
        # The steps of the main path that followed (cancellation dates may precede a refused cancellation's sequel).
        following = [(getattr(dossier, name), name) for name in names[index + 1:names.index("solde_paid_on") + 1]
                     if getattr(dossier, name) is not None]
        if following and on > min(following)[0]:
            next_on, next_name = min(following)
            message = _("La date indiquée (%(on)s) suit celle de l'étape suivante (%(step)s : %(next)s) : les étapes "
                        "se suivent dans l'ordre.") % {
                "on": on.strftime("%d/%m/%Y"), "step": Dossier._meta.get_field(next_name).verbose_name,
                "next": next_on.strftime("%d/%m/%Y")}
    return [] if message is None else [rules.Failure("dates.chronology", rules.Severity.BLOCK, message)]


def _rule_failures(dossier: Dossier, step: str, payload: dict[str, Any], changed: set[str]) -> list[rules.Failure]:
    """The step's rules that read a changed value, judged on the corrected payload."""
    date_name = rules.STEP_DATE_FIELDS[step]
    failures = _chronology(dossier, step, payload[date_name]) if date_name in changed else []
    context = rules.Context(dossier, step, payload)
    for rule in rules.rules_for(step):
        if rule.code != "dates.chronology" and (rule.needs | READS.get(rule.code, frozenset())) & changed:
            message = rule.check(context)
            if message is not None:
                failures.append(rules.Failure(rule.code, rule.severity, message))
    return failures


def _as_json(value: Any) -> Any:
    return json.loads(canonical_json(value))


def correct_step(dossier_id: int, *, by: AbstractBaseUser, step: str, changes: dict[str, Any]) -> Outcome:
    """Correct the data a past step recorded: the step's payload validation, the rules that read the changed values,
    one `correct_step` history row with each changed field's before and after.

    Raises NotPermitted, CorrectionRefused (the ASP has it), RulesFailed (a rule refuses the new values) or
    InvalidInput (bad or unchanged values); nothing is saved then.
    """
    if step not in STEP_FIELDS:
        raise InvalidInput({"step": [_("Cette étape ne se corrige pas : %(step)s.") % {"step": step}]})
    if not isinstance(changes, dict):
        raise InvalidInput({"non_field_errors": [_("Un objet JSON est attendu.")]})
    unknown = sorted(set(changes) - set(STEP_FIELDS[step]))
    if unknown:
        raise InvalidInput({name: [_("Ce champ ne se corrige pas pour cette étape.")] for name in unknown})
    with transaction.atomic():
        dossier = lock(dossier_id)
        require_role(by, dossier.organisation_id)
        refusal = step_refusal(dossier, step)
        if refusal:
            raise CorrectionRefused(refusal)
        payload = validate_payload(step, {**current_values(dossier, step), **changes}, dossier)
        diff = {field: (getattr(dossier, field), value) for field, value in _recorded(step, payload).items()
                if getattr(dossier, field) != value}
        if not diff:
            raise InvalidInput({"non_field_errors": [_("Aucune valeur n'a changé : il n'y a rien à corriger.")]})
        changed = {name for name, fields in STEP_FIELDS[step].items() if any(field in diff for field in fields)}
        failures = _rule_failures(dossier, step, payload, changed)
        blocking = [f for f in failures if f.severity is rules.Severity.BLOCK]
        warnings = [f for f in failures if f.severity is rules.Severity.WARN]
        if blocking:
            raise RulesFailed(blocking, warnings)
        if "avance_declared_amount" in diff and not Amendment.objects.filter(dossier_id=dossier.pk).exists():
            diff["declared_amount"] = (dossier.declared_amount, diff["avance_declared_amount"][1])
        if "avance_paid_amount" in diff:
            old, new = diff["avance_paid_amount"]
            total = dossier.avance_paid_total
            diff["avance_paid_total"] = (total, total - (old or 0) + new)
        snapshot = counters.snapshot(dossier)
        for field, (_old, new) in diff.items():
            setattr(dossier, field, new)
        data: dict[str, Any] = {"step": step, "changes": {field: {"before": old, "after": new}
                                                          for field, (old, new) in diff.items()}}
        if warnings:
            data["warnings"] = [w.rule for w in warnings]
        entry = append_history(dossier, user=by, action="correct_step", from_state=dossier.state, data=_as_json(data),
                               save_head=False)
        dossier.save(update_fields=[*diff, "history_seq", "history_hash", "history_anchor", "updated_at"])
        counters.record_change(dossier, snapshot)
        deadlines.keep(dossier_ids=[dossier.pk])  # a step's date or the avance paid moves its deadlines
        refresh_blockers(dossier)
    return Outcome(dossier, warnings, entry)


def _locked_document(document_id: int) -> tuple[Dossier, Document]:
    """The document's dossier under its row lock (every document write takes it), then the document itself."""
    dossier_id = Document.objects.filter(pk=document_id).values_list("dossier_id", flat=True).first()
    if dossier_id is None:
        raise InvalidInput({"document": [_("Ce document n'existe pas (ou plus).")]})
    dossier = lock(dossier_id)
    document = Document.objects.filter(pk=document_id, dossier_id=dossier.pk).first()
    if document is None:
        raise InvalidInput({"document": [_("Ce document n'existe pas (ou plus).")]})
    return dossier, document


def _described(document: Document) -> dict[str, Any]:
    return {"filename": document.filename, "sha256": document.sha256, "size": document.size}


def _remove_after_commit(document: Document, name: str) -> None:
    storage = document.file.storage
    transaction.on_commit(lambda: storage.delete(name))


def replace_document(document_id: int, *, by: AbstractBaseUser, upload: UploadedFile) -> Document:
    """Replace a document's file (the upload checked as `add_document` checks it); the old file is removed after the
    commit, the new one at once if anything fails. One `replace_document` history row with before and after."""
    kind = Document.objects.filter(pk=document_id).values_list("kind", flat=True).first()
    if kind is None:
        raise InvalidInput({"document": [_("Ce document n'existe pas (ou plus).")]})
    name, sha256, size = check_upload(upload, kind)
    stored = None
    try:
        with transaction.atomic():
            dossier, document = _locked_document(document_id)
            require_role(by, dossier.organisation_id)
            refusal = document_refusal(dossier, document.kind)
            if refusal:
                raise CorrectionRefused(refusal)
            before, old_file = _described(document), document.file.name
            store_file(document, upload, name=name, sha256=sha256, size=size)
            stored = document.file.name
            document.uploaded_by, document.uploaded_at = by, timezone.now()
            document.save(update_fields=["file", "filename", "sha256", "size", "content_type", "uploaded_by",
                                         "uploaded_at"])
            append_history(dossier, user=by, action="replace_document", from_state=dossier.state, data={
                "document": document.pk, "kind": document.kind, "before": before, "after": _described(document)})
            _remove_after_commit(document, old_file)
    except Exception:
        if stored:
            document.file.storage.delete(stored)
        raise
    return document


def withdraw_document(document_id: int, *, by: AbstractBaseUser) -> dict[str, Any]:
    """Withdraw a document: the row goes, its file after the commit; one `withdraw_document` history row saying what
    was withdrawn. Returns that description."""
    with transaction.atomic():
        dossier, document = _locked_document(document_id)
        require_role(by, dossier.organisation_id)
        refusal = document_refusal(dossier, document.kind)
        if refusal:
            raise CorrectionRefused(refusal)
        withdrawn = {"document": document.pk, "kind": document.kind, **_described(document)}
        _remove_after_commit(document, document.file.name)
        document.delete()
        append_history(dossier, user=by, action="withdraw_document", from_state=dossier.state, data=withdrawn)
        refresh_blockers(dossier)  # a rule may miss the document now
    return withdrawn


def clear_solde_draft(dossier_id: int, *, by: AbstractBaseUser) -> Dossier:
    """Delete the invoice data typed before filing; refused once the solde is filed (except in solde_to_fix). One
    `clear_solde_draft` history row with the draft deleted."""
    with transaction.atomic():
        dossier = lock(dossier_id)
        require_role(by, dossier.organisation_id)
        refusal = draft_refusal(dossier)
        if refusal:
            raise CorrectionRefused(refusal)
        if not dossier.solde_draft:
            raise InvalidInput({"solde_draft": [_("Aucune donnée de facture n'est enregistrée.")]})
        before, dossier.solde_draft = dossier.solde_draft, {}
        append_history(dossier, user=by, action="clear_solde_draft", from_state=dossier.state,
                       data={"before": before}, save_head=False)
        dossier.save(update_fields=["solde_draft", "history_seq", "history_hash", "history_anchor", "updated_at"])
        refresh_blockers(dossier)
    return dossier
