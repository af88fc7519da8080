"""Set-up for scripts and first use: an organisation, a member of it, and an API token printed alone last."""
from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils.translation import gettext as _

from organisations.models import ApiToken, Membership, Organisation, Role


class Command(BaseCommand):
    help = ("Create the organisation if it does not exist and the user as its member (an existing user gets the "
            "role and password given), then print a new API token alone on the last line.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="Organisation name (created when missing).")
        parser.add_argument("--username", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--role", choices=Role.values, default=Role.ADMIN,
                            help="Role in the organisation (default: admin).")

    def handle(self, *args: Any, org: str, username: str, password: str, role: str, **options: Any) -> None:
        with transaction.atomic():
            organisation, org_created = Organisation.objects.get_or_create(name=org)
            user, user_created = get_user_model().objects.get_or_create(username=username)
            user.set_password(password)
            user.save()
            membership = Membership.objects.update_or_create(
                user=user, organisation=organisation, defaults={"role": role})[0]
            key = ApiToken.issue(membership)[1]
        self.stdout.write((_("Organisation « %(org)s » créée.") if org_created
                           else _("Organisation « %(org)s » existante.")) % {"org": organisation})
        self.stdout.write((_("Utilisateur « %(user)s » créé, rôle %(role)s.") if user_created
                           else _("Utilisateur « %(user)s » mis à jour, rôle %(role)s.")) % {"user": user, "role": role})
        self.stdout.write(key)
