"""Set-up for scripts and first use: an organisation, a member of it, and an API token printed alone last."""
from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils.translation import gettext as _

from organisations import services
from organisations.models import ApiToken, Organisation, Role


class Command(BaseCommand):
    help = ("Create the organisation if it does not exist and the user as its member (an existing user gets the "
            "role and password given), then print a new API token alone on the last line.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="Organisation name (created when missing).")
        parser.add_argument("--username", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--role", choices=Role.values, default=Role.ADMIN,
                            help="Role in the organisation (default: admin).")
        parser.add_argument("--temporary-password", action="store_true",
                            help="The password is an initial one: the first sign-in asks the user to change it.")

    def handle(self, *args: Any, org: str, username: str, password: str, role: str,
               temporary_password: bool = False, **options: Any) -> None:
        with transaction.atomic():
            organisation, org_created = Organisation.objects.get_or_create(name=org)
            user, user_created = get_user_model().objects.get_or_create(username=username)
            user.set_password(password)
            user.save()
            membership = services.grant_membership(user=user, organisation=organisation, role=role)
            if temporary_password:
                services.require_password_change(user)
            key = ApiToken.issue(membership)[1]
        self.stdout.write((_("Organisation « %(org)s » créée.") if org_created
                           else _("Organisation « %(org)s » existante.")) % {"org": organisation})
        self.stdout.write((_("Utilisateur « %(user)s » créé, rôle %(role)s.") if user_created
                           else _("Utilisateur « %(user)s » mis à jour, rôle %(role)s.")) % {"user": user, "role": role})
        self.stdout.write(key)
