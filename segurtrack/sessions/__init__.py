"""Session stores whose per-request read is one prepared-once SQL statement instead of an ORM query compiled on
every request (the session read is paid by every signed-in page). Same table, same rows, same expiry rule and same
decoding as Django's `db` and `cached_db` stores; only the read path differs (writes stay Django's)."""
from __future__ import annotations

import logging

from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.sessions.models import Session
from django.core.exceptions import SuspiciousOperation
from django.db import connections, router
from django.utils import timezone

# Sessions signed in before organisations.backends.MemberBackend replaced Django's ModelBackend (its subclass: same
# sign-in, same users) name the old backend; read as the new one, they stay signed in. Nothing is written for it.
_RENAMED_BACKENDS = {"django.contrib.auth.backends.ModelBackend": "organisations.backends.MemberBackend"}
_COLUMNS = ("session_key", "session_data", "expire_date")
_SQL = (f"SELECT {', '.join(_COLUMNS)} FROM {Session._meta.db_table} "
        "WHERE session_key = %s AND expire_date > %s")


class RawReadMixin:
    """`_get_session_from_db` as Django's (an unexpired row of this key, else None and the key forgotten)."""

    def load(self):
        data = super().load()
        backend = data.get(BACKEND_SESSION_KEY)
        if backend in _RENAMED_BACKENDS:
            data[BACKEND_SESSION_KEY] = _RENAMED_BACKENDS[backend]
        return data

    def _get_session_from_db(self):
        try:
            if self.session_key is None:
                raise Session.DoesNotExist
            alias = router.db_for_read(Session)
            with connections[alias].cursor() as cursor:
                cursor.execute(_SQL, [self.session_key, timezone.now()])
                row = cursor.fetchone()
            if row is None:
                raise Session.DoesNotExist
            return Session.from_db(alias, _COLUMNS, row)
        except (Session.DoesNotExist, SuspiciousOperation) as e:
            if isinstance(e, SuspiciousOperation):
                logger = logging.getLogger("django.security.%s" % e.__class__.__name__)
                logger.warning(str(e))
            self._session_key = None
