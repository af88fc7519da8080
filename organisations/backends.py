"""Django's model backend, whose per-request read of the signed-in user also reads their memberships, in one plain
statement (organisations/current.py): every signed-in page needs both. Sign-in (authenticate) is Django's."""
from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError

from .current import User, user_with_memberships


class MemberBackend(ModelBackend):
    def get_user(self, user_id):
        try:
            user_id = User._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        user = user_with_memberships(user_id)
        if user is None:
            return None
        return user if self.user_can_authenticate(user) else None
