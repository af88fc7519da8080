"""The only writers of the dossiers app, one module per intent (as Zulip's `actions/`).

- `transitions`: the steps of the state machine (`run_transition`, the only caller of transition methods, so nothing
  skips the history), creating a dossier, its settings and solde draft;
- `documents`: documents attached to a dossier (by a member, or returned by a client's signatory);
- `amendments`: amendments to the avance;
- `corrections`: corrections of a step's data, a document or the solde draft, until the ASP has them;
- `parties`: clients, solutions and PV pilotes (audited; the affected dossiers' blockers refreshed after commit);
- `common`: the role check, `RulesFailed`, `Outcome`, the chained history row.

Callers import the package: `from dossiers import services; services.run_transition(...)`. What the package exports
below is the whole write API; the errors every app shares live in `segurtrack.errors`.
"""
from segurtrack.errors import InvalidInput, NotPermitted, ServiceError

from ..blockers import SELECT_RELATED, refresh_blockers, refresh_blockers_of
from ..payloads import solde_draft_payload
from .amendments import AMENDMENT_NEXT, add_amendment, update_amendment
from .common import Outcome, RulesFailed, append_history, require_role
from .corrections import (
    CORRECTABLE_STEPS, STEP_FIELDS, CorrectionRefused, clear_solde_draft, correct_step, correctable_steps, current_values, document_refusal,
    draft_refusal, replace_document, step_refusal, withdraw_document,
)
from .documents import add_document, add_returned_document, check_upload, sanitise_filename
from .parties import add_pv_pilote, save_client, save_solution, set_pv_pilote_status
from .team import add_note, assign_owner, assign_owner_many, mark_all_read, mark_read, set_notification_preferences
from .transitions import DOSSIER_SETTINGS, create_dossier, run_transition, update_dossier

__all__ = [
    # errors
    "InvalidInput", "NotPermitted", "RulesFailed", "ServiceError",
    # the dossier's steps and settings
    "DOSSIER_SETTINGS", "Outcome", "create_dossier", "run_transition", "update_dossier",
    # documents
    "add_document", "add_returned_document", "check_upload", "sanitise_filename",
    # corrections, until the ASP has the information
    "CORRECTABLE_STEPS", "STEP_FIELDS", "CorrectionRefused", "clear_solde_draft", "correct_step", "correctable_steps", "current_values",
    "document_refusal", "draft_refusal", "replace_document", "step_refusal", "withdraw_document",
    # amendments
    "AMENDMENT_NEXT", "add_amendment", "update_amendment",
    # clients, solutions, PV pilotes
    "add_pv_pilote", "save_client", "save_solution", "set_pv_pilote_status",
    # a team's work: owners, notes, notifications read, what each member is told
    "add_note", "assign_owner", "assign_owner_many", "mark_all_read", "mark_read", "set_notification_preferences",
    # shared by the writers of other apps
    "append_history", "require_role",
    # blockers
    "SELECT_RELATED", "refresh_blockers", "refresh_blockers_of", "solde_draft_payload",
]
