"""`Authorization: Token <key>`: the token names one membership, hence one organisation, and carries a scope."""
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from .models import ApiToken, hash_token

# `last_used_at` is written at most once a minute per token: a busy integration does not write on every read.
LAST_USED_RESOLUTION_SECONDS = 60


class OrganisationTokenAuthentication(authentication.TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key):
        # Revocation deletes the row: the very next request finds nothing (no cache in between).
        try:
            token = ApiToken.objects.select_related("membership__user", "membership__organisation").get(
                digest=hash_token(key)
            )
        except ApiToken.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Jeton invalide."))
        if token.is_expired(timezone.localdate()):
            raise exceptions.AuthenticationFailed(_("Jeton expiré."))
        user = token.membership.user
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("Utilisateur inactif ou supprimé."))
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return user, token
