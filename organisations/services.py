"""The only writer of memberships: invitations, accepting them, role changes, removals, the organisation chosen.

Every change to an organisation's admins locks its admin memberships (`select_for_update`, in id order) before
counting them, so two admins acting at the same moment can never leave the organisation without one.
"""
from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from smtplib import SMTPException

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Account, Invitation, Membership, Organisation, Role, hash_token

logger = logging.getLogger(__name__)


class MembershipError(Exception):
    """A membership change refused, with the reason in French."""


class LastAdmin(MembershipError):
    """The change would leave the organisation without an administrator."""


class InvitationInvalid(MembershipError):
    """The link is unknown, already used, revoked or expired (all answered alike)."""


class AlreadyMember(MembershipError):
    """The user accepting is already a member of the organisation."""


class UsernameTaken(MembershipError):
    """Another account took the identifier meanwhile (the form checked it first)."""


# How long an invitation link can be accepted.
INVITATION_DAYS = 7


def _send_invitation(*, email: str, organisation_name: str, role_label: str, url: str, expires_at) -> None:
    context = {"organisation": organisation_name, "role": role_label, "url": url, "expires_at": expires_at}
    subject = render_to_string("organisations/invitation_subject.txt", context).strip()
    body = render_to_string("organisations/invitation_email.txt", context)
    try:
        send_mail(subject, body, None, [email])
    except (SMTPException, OSError):
        # The invitation stays valid: the admin sees it pending and may send a new one.
        logger.exception("invitation e-mail to %s not sent", email)


@transaction.atomic
def invite_member(*, organisation: Organisation, email: str, role: str, by: AbstractBaseUser,
                  link: Callable[[str], str]) -> Invitation:
    """Record an invitation and e-mail its link (`link(token)` gives the absolute URL) once committed.

    A pending invitation of the same address to the same organisation is replaced (its link stops working).
    Nothing here depends on whether the address belongs to an account: the answer is the same either way.
    """
    if role not in Role.values:
        raise MembershipError(_("Rôle inconnu."))
    email = get_user_model().objects.normalize_email(email).strip()
    now = timezone.now()
    Invitation.objects.filter(organisation=organisation, email__iexact=email, accepted_at__isnull=True,
                              revoked_at__isnull=True).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organisation=organisation, email=email, role=role, digest=hash_token(token), invited_by=by,
        expires_at=now + timedelta(days=INVITATION_DAYS))
    transaction.on_commit(partial(
        _send_invitation, email=email, organisation_name=organisation.name,
        role_label=str(Role(role).label), url=link(token), expires_at=invitation.expires_at))
    return invitation


@transaction.atomic
def revoke_invitation(*, invitation_id: int, organisation: Organisation) -> None:
    """Cancel a pending invitation of the organisation (its link then answers like an unknown one)."""
    Invitation.objects.filter(pk=invitation_id, organisation=organisation, accepted_at__isnull=True,
                              revoked_at__isnull=True).update(revoked_at=timezone.now())


def pending_invitation(token: str) -> Invitation | None:
    """The invitation a link names while it can still be accepted, else None."""
    return (Invitation.objects.select_related("organisation")
            .filter(digest=hash_token(token), accepted_at__isnull=True, revoked_at__isnull=True,
                    expires_at__gt=timezone.now()).first())


def _lock_pending(token: str) -> Invitation:
    invitation = (Invitation.objects.select_for_update().select_related("organisation")
                  .filter(digest=hash_token(token)).first())
    if (invitation is None or invitation.accepted_at or invitation.revoked_at
            or invitation.expires_at <= timezone.now()):
        raise InvitationInvalid(_("Cette invitation n'est plus valable. Demandez-en une nouvelle à "
                                  "l'administrateur de l'organisation."))
    return invitation


@transaction.atomic
def accept_invitation(*, token: str, user: AbstractBaseUser) -> Membership:
    """The signed-in user joins the invitation's organisation with its role; the link is used up."""
    invitation = _lock_pending(token)
    if Membership.objects.filter(user=user, organisation_id=invitation.organisation_id).exists():
        raise AlreadyMember(_("Vous êtes déjà membre de %(name)s.") % {"name": invitation.organisation.name})
    now = timezone.now()
    try:
        with transaction.atomic():
            membership = Membership.objects.create(user=user, organisation=invitation.organisation,
                                                   role=invitation.role, last_chosen_at=now)
    except IntegrityError:
        raise AlreadyMember(_("Vous êtes déjà membre de %(name)s.") % {"name": invitation.organisation.name})
    invitation.accepted_at, invitation.accepted_by = now, user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


@transaction.atomic
def accept_invitation_with_new_account(*, token: str, username: str, password: str) -> Membership:
    """Create the account from the invitation (its e-mail is the invitation's) and join."""
    invitation = _lock_pending(token)
    try:
        with transaction.atomic():
            user = get_user_model().objects.create_user(username=username, email=invitation.email,
                                                        password=password)
    except IntegrityError:
        raise UsernameTaken(_("Un utilisateur avec ce nom existe déjà."))
    return accept_invitation(token=token, user=user)


def grant_membership(*, user: AbstractBaseUser, organisation: Organisation, role: str) -> Membership:
    """For operators with shell access only (`create_editor`): make the user a member with the role, no invitation.

    An existing membership gets the role as given, even the last admin's (API.md: "an existing user gets the role";
    an operator who can run commands is trusted with the database anyway, see docs/security.md).
    """
    with transaction.atomic():
        _lock_admins(organisation.pk)
        return Membership.objects.update_or_create(user=user, organisation=organisation, defaults={"role": role})[0]


def _lock_admins(organisation_id: int) -> list[Membership]:
    """Lock the organisation's admin memberships (id order, so concurrent callers never deadlock)."""
    return list(Membership.objects.select_for_update().filter(organisation_id=organisation_id, role=Role.ADMIN)
                .order_by("pk"))


def _lock_member(membership_id: int, organisation: Organisation) -> tuple[Membership, bool]:
    """The member, locked after the admins, and whether they are the organisation's only admin."""
    admins = _lock_admins(organisation.pk)
    membership = (Membership.objects.select_for_update().select_related("user")
                  .filter(pk=membership_id, organisation=organisation).first())
    if membership is None:
        raise Membership.DoesNotExist
    last_admin = membership.role == Role.ADMIN and not any(a.pk != membership.pk for a in admins)
    return membership, last_admin


@transaction.atomic
def change_role(*, membership_id: int, organisation: Organisation, role: str) -> Membership:
    """Give a member another role; the organisation's last admin keeps theirs."""
    if role not in Role.values:
        raise MembershipError(_("Rôle inconnu."))
    membership, last_admin = _lock_member(membership_id, organisation)
    if role != Role.ADMIN and last_admin:
        raise LastAdmin(_("L'organisation doit garder au moins un administrateur."))
    if membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def remove_member(*, membership_id: int, organisation: Organisation) -> Membership:
    """Remove a member (their API tokens with them); never the organisation's last admin."""
    membership, last_admin = _lock_member(membership_id, organisation)
    if last_admin:
        raise LastAdmin(_("L'organisation doit garder au moins un administrateur."))
    membership.delete()
    return membership


def choose_organisation(membership: Membership) -> None:
    """Remember the organisation the user chose: it is where they work from then on, in every session."""
    Membership.objects.filter(pk=membership.pk).update(last_chosen_at=timezone.now())


def require_password_change(user: AbstractBaseUser, required: bool = True) -> None:
    """Set (someone else chose the password) or clear (the user chose their own) the first-sign-in change."""
    Account.objects.update_or_create(user=user, defaults={"must_change_password": required})
