"""Staff admin for dossiers, one module per area: reference data, parties (clients, solutions and their
follow-ups), the dossier itself (its panels rendered from templates in `panels`), and the read-only records.

Nothing here writes a dossier's state, step data, documents, amendments or history directly: the add form
calls `services.create_dossier`, the change form `services.update_dossier` (reference and scenario, logged),
and the admin actions `services.run_transition`. Records of what happened (history, documents, amendments,
idempotent replies) are read-only (`segurtrack.admin.ReadOnlyAdmin`).
"""
from . import dossier, parties, records, reference  # noqa: F401 (each module registers its models)
