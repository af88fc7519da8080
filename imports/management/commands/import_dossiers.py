"""manage.py import_dossiers FILE [--commit] [--organisation NAME|ID] [--user USERNAME]: an import from a shell."""
from __future__ import annotations

import os

from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from tqdm import tqdm

from segurtrack.errors import InvalidInput
from imports import importer, services, tasks
from organisations.models import Organisation


class Command(BaseCommand):
    help = _("Importe des clients, solutions et dossiers depuis un fichier CSV ou XLSX (simulation par défaut).")

    def add_arguments(self, parser):
        parser.add_argument("file", help=_("Fichier CSV (; ou ,, UTF-8) ou XLSX."))
        parser.add_argument("--commit", action="store_true",
                            help=_("Enregistrer (sinon simulation : rien n'est enregistré)."))
        parser.add_argument("--organisation", default=None,
                            help=_("Nom ou identifiant de l'organisation (facultatif s'il n'y en a qu'une)."))
        parser.add_argument("--user", default=None, help=_("Utilisateur inscrit à l'historique des dossiers."))

    def handle(self, *args, file: str, commit: bool = False, organisation: str | None = None,
               user: str | None = None, **options):
        org = self.organisation(organisation)
        member = None
        if user:
            member = get_user_model().objects.filter(username=user).first()
            if member is None:
                raise CommandError(_("Utilisateur inconnu : %(u)s.") % {"u": user})
        if not os.path.isfile(file):
            raise CommandError(_("Fichier introuvable : %(f)s.") % {"f": file})
        with open(file, "rb") as handle:
            try:
                job = services.create_job(organisation=org, by=member, upload=File(handle, name=os.path.basename(file)),
                                          dry_run=not commit, background=False)
            except InvalidInput as error:
                raise CommandError(" ".join(m for messages in error.errors.values() for m in messages))
        tasks.claim(job.pk)
        bar = tqdm(total=0, unit=_("ligne"), disable=options.get("verbosity", 1) < 1, file=self.stderr)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        job = importer.execute(job.pk, on_progress=progress)
        bar.close()
        for error in job.errors[:200]:
            self.stdout.write(_("ligne %(row)s, %(column)s : %(message)s") % error)
        if len(job.errors) > 200:
            self.stdout.write(_("… et %(n)d autres erreurs (rapport : /imports/%(id)d/rapport/).") % {
                "n": len(job.errors) - 200, "id": job.pk})
        summary = _("%(mode)s %(file)s : %(rows)d lignes ; créés : %(clients)d clients, %(solutions)d solutions, "
                    "%(dossiers)d dossiers ; %(unchanged)d inchangées ; %(errors)d erreurs.") % {
            "mode": _("Import") if commit else _("Simulation"), "file": job.filename, "rows": job.rows,
            "clients": job.created_clients, "solutions": job.created_solutions, "dossiers": job.created_dossiers,
            "unchanged": job.unchanged, "errors": len(job.errors)}
        if job.errors:
            self.stdout.write(summary + " " + _("Rien n'a été enregistré."))
            raise CommandError(_("Le fichier contient des erreurs."))
        self.stdout.write(self.style.SUCCESS(summary))

    def organisation(self, given: str | None) -> Organisation:
        if given is None:
            organisations = list(Organisation.objects.all()[:2])
            if len(organisations) != 1:
                raise CommandError(_("Précisez --organisation (nom ou identifiant)."))
            return organisations[0]
        found = Organisation.objects.filter(pk=int(given)).first() if given.isdigit() else None
        found = found or Organisation.objects.filter(name=given).first()
        if found is None:
            raise CommandError(_("Organisation inconnue : %(o)s.") % {"o": given})
        return found
