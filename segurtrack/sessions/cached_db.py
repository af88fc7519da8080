"""Django's cached database session store, its database read one plain statement (segurtrack/sessions/__init__.py)."""
from django.contrib.sessions.backends import cached_db

from . import RawReadMixin


class SessionStore(RawReadMixin, cached_db.SessionStore):
    pass
