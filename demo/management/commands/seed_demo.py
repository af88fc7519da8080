"""Build a demo organisation whose dossiers cover every state and every dispositif (`demo.seed.builder`).

The portfolio arrives through the importer's bulk path, the showcase through the services, so every history chain
is real and verifies. Running the command again does nothing unless `--reset`. It prints what a person needs to
start: the address, the logins, the API token and where the FAQ came from.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from demo.seed import followups
from demo.seed.builder import Demo
from demo.seed.data import DEFAULT_PASSWORD, DEMO_ORGANISATION, DEMO_USERS, MIN_DOSSIERS
from dossiers.history import broken_dossiers
from dossiers.models import Document, Dossier, PvPilote
from faqref.models import Entry, Source
from imports.models import ImportJob
from organisations.models import ApiToken, Organisation, Role

DEFAULT_ADDRESS = "http://127.0.0.1:8000/"


@contextmanager
def unflushed_commits() -> Iterator[None]:
    """Let commits skip the wait for the disk flush while the demo is built (restored afterwards).

    After the build, every history row's notification is published in its own small transaction; waiting for
    a thousand flushes would dominate the run, and a demo is rebuilt, not recovered. PostgreSQL keeps its
    consistency with `synchronous_commit` off (only the last commits can be lost in a crash).
    """
    vendor = connection.vendor
    # SQLite refuses to change the setting inside a transaction (the tests' case): leave it then.
    if vendor not in ("sqlite", "postgresql") or (vendor == "sqlite" and connection.in_atomic_block):
        yield
        return
    read, write = (("PRAGMA synchronous", "PRAGMA synchronous = {}") if vendor == "sqlite"
                   else ("SHOW synchronous_commit", "SET synchronous_commit = {}"))
    with connection.cursor() as cursor:
        cursor.execute(read)
        previous = cursor.fetchone()[0]
        cursor.execute(write.format("OFF"))
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(write.format(previous))


def delete_demo(organisation: Organisation) -> None:
    """Remove the demo organisation, its dossiers (history included), stored files, import and demo users."""
    for document in Document.objects.filter(organisation=organisation).only("file"):
        document.file.delete(save=False)
    for pv in PvPilote.objects.filter(solution__organisation=organisation).only("file"):
        pv.file.delete(save=False)
    for job in ImportJob.objects.filter(organisation=organisation).only("file"):
        job.file.delete(save=False)
    Dossier.objects.filter(organisation=organisation).delete()
    organisation.delete()
    get_user_model().objects.filter(username__in=[username for username, _role in DEMO_USERS]).delete()


def faq_origin() -> str:
    """One line: which FAQ the pages show, and how to import the official exports when it is ours."""
    entries = Entry.objects.count()
    if not entries:
        return _("FAQ : vide ; importez les exports officiels : .venv/bin/python manage.py import_faq CHEMIN")
    if Entry.objects.filter(is_demo=True).exists():
        return _("FAQ : démonstration rédigée par le projet (%(n)d réponses), la FAQ officielle n'est pas livrée ; "
                 "pour l'importer : .venv/bin/python manage.py import_faq CHEMIN/DES/EXPORTS") % {"n": entries}
    files = list(Source.objects.values_list("file", flat=True).distinct().order_by("file"))
    return _("FAQ : exports officiels (%(n)d réponses ; %(files)s)") % {"n": entries, "files": ", ".join(files)}


class Command(BaseCommand):
    help = _("Crée une organisation de démonstration avec des dossiers dans chaque état et chaque dispositif.")

    def add_arguments(self, parser):
        parser.add_argument("--dossiers", type=int, default=200, help=_("Nombre de dossiers (défaut 200)."))
        parser.add_argument("--reset", action="store_true", help=_("Supprime la démo existante puis la reconstruit."))
        parser.add_argument("--password", default=DEFAULT_PASSWORD,
                            help=_("Mot de passe des comptes de démo (défaut %(default)s)."))
        parser.add_argument("--address", default=DEFAULT_ADDRESS,
                            help=_("Adresse où le site sera servi, affichée (défaut %(default)s)."))

    def handle(self, *args, dossiers: int = 200, reset: bool = False, password: str = DEFAULT_PASSWORD,
               address: str = DEFAULT_ADDRESS, **options):
        if dossiers < MIN_DOSSIERS:
            raise CommandError(_("Il faut au moins %(n)d dossiers pour couvrir chaque état.") % {"n": MIN_DOSSIERS})
        existing = Organisation.objects.filter(name=DEMO_ORGANISATION).first()
        if existing is not None and not reset:
            self.stdout.write(_("La démo existe déjà (organisation « %(org)s », %(n)d dossiers) : rien n'est créé. "
                                "Utilisez --reset pour la reconstruire.") % {
                "org": existing.name, "n": Dossier.objects.filter(organisation=existing).count()})
            self.print_access(address, password=None)
            return
        with unflushed_commits():
            # The catalogue first, in its own transaction: the blocker refresh its PV pilotes schedule then runs
            # before any dossier exists, instead of re-checking every demo dossier after the build.
            with transaction.atomic():
                if existing is not None:
                    delete_demo(existing)
                demo = Demo(password)
                demo.prepare()
            try:
                with transaction.atomic():
                    states = demo.build(dossiers)
                    states.update(followups.add_to(demo))
                    _token, key = ApiToken.issue(demo.members[Role.MANAGER])
                    # The demo exists to show sound chains: a broken one is a bug, and nothing is kept.
                    broken = [dossier_id for dossier_id, _problems in broken_dossiers(
                        Dossier.objects.filter(organisation=demo.organisation))]
                    if broken:
                        raise CommandError(_("Historique invalide pour les dossiers %(ids)s.") % {"ids": broken})
            except BaseException:
                with transaction.atomic():
                    delete_demo(demo.organisation)
                raise
        self.stdout.write(self.style.SUCCESS(_("Démo prête : organisation « %(org)s », %(n)d dossiers.") % {
            "org": DEMO_ORGANISATION, "n": sum(states.values())}))
        self.print_access(address, password=password)
        self.stdout.write(_("Jeton d'API de demo-manager (affiché une seule fois) : %(key)s") % {"key": key})

    def print_access(self, address: str, *, password: str | None) -> None:
        self.stdout.write(_("Adresse : %(address)s") % {"address": address})
        self.stdout.write(_("Comptes de démo :"))
        for username, role in DEMO_USERS:
            shown = password if password is not None else _("(inchangé)")
            self.stdout.write(f"  {username:<14} {shown:<20} {Role(role).label}")
        self.stdout.write(faq_origin())
