"""History anchors: an HMAC of each dossier's chain head with a key the database does not hold (HISTORY_ANCHOR_KEY)."""
from __future__ import annotations

import hashlib
import hmac

from django.conf import settings


def anchor(dossier_id: int, seq: int, head_hash: str, *, key: str | None = None) -> str:
    """The anchor of a chain head: HMAC-SHA256 over the dossier, the head's rank and its hash (hex)."""
    secret = (key if key is not None else settings.HISTORY_ANCHOR_KEY).encode()
    return hmac.new(secret, f"segurtrack-history:{dossier_id}:{seq}:{head_hash}".encode(), hashlib.sha256).hexdigest()


def anchor_holds(dossier_id: int, seq: int, head_hash: str, stored: str) -> bool:
    """True when `stored` is the anchor of this head under the configured key (compared in constant time)."""
    return hmac.compare_digest(anchor(dossier_id, seq, head_hash), stored or "")
