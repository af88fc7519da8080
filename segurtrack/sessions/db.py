"""Django's database session store, read with one plain statement (segurtrack/sessions/__init__.py)."""
from django.contrib.sessions.backends import db

from . import RawReadMixin


class SessionStore(RawReadMixin, db.SessionStore):
    pass
