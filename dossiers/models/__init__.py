"""Models of the dossiers app, split by concern; import them from here."""
from .audit import AuditEntry
from .counters import BlockerCount, PendingVaDay, StateCount
from .deadlines import OpenDeadline
from .dossier import (
    ACTIVE_EXCLUDED_STATES, AMENDMENT_STATES, CANCELLABLE_STATES, FINAL_STATES, INVOICE_FIELDS, SCENARIO_CHANGE_STATES,
    SOLDE_FILED_STATES, SOLDE_FILING_STATES, TRANSITION_BUTTONS, TRANSITION_LABELS, CancellationReason, DeclaredFiness,
    Dossier, MssDeployment, SignatureType, State, field_label,
)
from .followup import OutboxMessage, PortabilityRequest, SolutionChange
from .parties import Client, PvPilote, Solution
from .records import (
    ACTION_LABELS, SIGNED_KINDS, Amendment, AppendOnlyError, Blocker, Document, DocumentKind, HistoryEntry, IdempotencyRecord, Notification,
)
from .reference import Couloir, Dispositif
from .team import Channel, NotificationKind, NotificationPreference

__all__ = [
    "ACTION_LABELS", "INVOICE_FIELDS", "SOLDE_FILED_STATES", "SOLDE_FILING_STATES", "TRANSITION_BUTTONS",
    "TRANSITION_LABELS", "field_label",
    "ACTIVE_EXCLUDED_STATES", "AMENDMENT_STATES", "CANCELLABLE_STATES", "FINAL_STATES", "SCENARIO_CHANGE_STATES",
    "SIGNED_KINDS", "Amendment", "AppendOnlyError", "Blocker", "CancellationReason", "Client", "Couloir", "Dispositif",
    "Document", "DocumentKind", "Dossier", "HistoryEntry", "IdempotencyRecord", "MssDeployment", "Notification", "PvPilote",
    "SignatureType", "Solution", "State", "DeclaredFiness",
    "OutboxMessage", "PortabilityRequest", "SolutionChange",
    "AuditEntry",
    "Channel", "NotificationKind", "NotificationPreference",
    "BlockerCount", "PendingVaDay", "StateCount", "OpenDeadline",
]
