"""`Authorization: Token <key>`: the token names one membership, hence one organisation."""
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from .models import ApiToken, hash_token


class OrganisationTokenAuthentication(authentication.TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key):
        try:
            token = ApiToken.objects.select_related("membership__user", "membership__organisation").get(
                digest=hash_token(key)
            )
        except ApiToken.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Jeton invalide."))
        user = token.membership.user
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("Utilisateur inactif ou supprimé."))
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 3600:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return user, token
