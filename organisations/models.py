"""Organisations, memberships with a role, invitations to join, per-user account flags, API tokens."""
import hashlib
import secrets
from datetime import date

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    VIEWER = "viewer", _("Lecteur")
    MANAGER = "manager", _("Gestionnaire")
    ADMIN = "admin", _("Administrateur")


# A role can do everything the roles before it can.
ROLE_RANK = {Role.VIEWER: 0, Role.MANAGER: 1, Role.ADMIN: 2}


class Organisation(models.Model):
    name = models.CharField(_("nom"), max_length=200, unique=True)
    pending_va_days = models.PositiveSmallIntegerField(
        _("délai de VA (jours)"), default=settings.PENDING_VA_DEFAULT_DAYS,
        help_text=_("Jours après le déploiement au-delà desquels une VA attendue est en retard."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("rôle"), max_length=10, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the user last chose to work for this organisation: the latest one is where they work next time.
    last_chosen_at = models.DateTimeField(_("dernier choix"), null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organisation"], name="membership_unique")]
        ordering = ["organisation__name", "user__username"]
        verbose_name = _("membre")
        verbose_name_plural = _("membres")

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation} ({self.role})"

    def has_role(self, role: str) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(role)]

    @property
    def can_act(self) -> bool:
        return self.has_role(Role.MANAGER)

    @property
    def is_admin(self) -> bool:
        return self.has_role(Role.ADMIN)


def hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    """A named token for one membership. Only its SHA-256 is stored; the key is shown once, at creation."""

    class Scope(models.TextChoices):
        READ = "read", _("Lecture seule")
        WRITE = "write", _("Lecture et écriture")

    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(_("nom"), max_length=100, default="")
    scope = models.CharField(_("portée"), max_length=5, choices=Scope.choices, default=Scope.WRITE)
    # The key works through this day (Europe/Paris) and answers 401 from the next one.
    expires_on = models.DateField(_("expire le"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("jeton d'API")
        verbose_name_plural = _("jetons d'API")

    def __str__(self) -> str:
        return f"{self.name or self.prefix}… ({self.membership})"

    def is_expired(self, today: date) -> bool:
        return self.expires_on is not None and self.expires_on < today

    @classmethod
    def issue(cls, membership: Membership, *, name: str = "create_editor", scope: str = Scope.WRITE,
              expires_on: date | None = None) -> tuple["ApiToken", str]:
        key = secrets.token_hex(20)
        token = cls.objects.create(digest=hash_token(key), prefix=key[:8], membership=membership, name=name,
                                   scope=scope, expires_on=expires_on)
        return token, key


class Invitation(models.Model):
    """An invitation to join an organisation with a role, sent to an e-mail address.

    Only the SHA-256 of the link's token is stored. It is accepted once, before `expires_at`, by whoever holds
    the link (signed in, or creating their account from it); nobody becomes a member without accepting.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("adresse e-mail"))
    role = models.CharField(_("rôle"), max_length=10, choices=Role.choices, default=Role.VIEWER)
    digest = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expire le"))
    accepted_at = models.DateTimeField(_("acceptée le"), null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    revoked_at = models.DateTimeField(_("annulée le"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return f"{self.email} → {self.organisation} ({self.role})"


class Account(models.Model):
    """What the application keeps about a user besides Django's auth user (created on demand)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True,
                                related_name="account")
    # Set when someone else chose the password (an initial one): the next sign-in asks for a new one.
    must_change_password = models.BooleanField(_("doit changer son mot de passe"), default=False)

    class Meta:
        verbose_name = _("compte")
        verbose_name_plural = _("comptes")

    def __str__(self) -> str:
        return str(self.user)
