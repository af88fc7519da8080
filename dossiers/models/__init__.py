"""Models of the dossiers app, split by concern; import them from here."""
from .audit import AuditEntry
from .dossier import (
    ACTIVE_EXCLUDED_STATES, AMENDMENT_STATES, CANCELLABLE_STATES, FINAL_STATES, SCENARIO_CHANGE_STATES,
    CancellationReason, DeclaredFiness, Dossier, MssDeployment, SignatureType, State,
)
from .followup import OutboxMessage, PortabilityRequest, SolutionChange
from .parties import Client, PvPilote, Solution
from .records import (
    SIGNED_KINDS, Amendment, AppendOnlyError, Blocker, Document, DocumentKind, HistoryEntry, IdempotencyRecord, Notification,
)
from .reference import Couloir, Dispositif

__all__ = [
    "ACTIVE_EXCLUDED_STATES", "AMENDMENT_STATES", "CANCELLABLE_STATES", "FINAL_STATES", "SCENARIO_CHANGE_STATES",
    "SIGNED_KINDS", "Amendment", "AppendOnlyError", "Blocker", "CancellationReason", "Client", "Couloir", "Dispositif",
    "Document", "DocumentKind", "Dossier", "HistoryEntry", "IdempotencyRecord", "MssDeployment", "Notification", "PvPilote",
    "SignatureType", "Solution", "State", "DeclaredFiness",
    "OutboxMessage", "PortabilityRequest", "SolutionChange",
    "AuditEntry",
]
