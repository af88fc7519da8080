"""Verify the hash chain of every dossier's history; exit with status 1 when any chain is broken."""
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from dossiers.history import chain_reports
from dossiers.models import Dossier


class Command(BaseCommand):
    help = _("Vérifie l'intégrité de la chaîne d'empreintes de l'historique des dossiers.")

    def add_arguments(self, parser):
        parser.add_argument("--organisation", type=int, help=_("Seulement les dossiers de cette organisation (id)."))
        parser.add_argument("--dossier", type=int, help=_("Seulement ce dossier (id)."))
        parser.add_argument("--chunk", type=int, default=2000, help=_("Lignes lues par lot (défaut 2000)."))

    def handle(self, *args, organisation=None, dossier=None, chunk=2000, **options):
        queryset = Dossier.objects.all()
        if organisation is not None:
            queryset = queryset.filter(organisation_id=organisation)
        if dossier is not None:
            queryset = queryset.filter(pk=dossier)
        checked = broken = 0
        for report in chain_reports(queryset, chunk=chunk):
            checked += 1
            if report.sound:
                continue
            broken += 1
            for problem in report.problems:
                self.stdout.write(f"{report.dossier_id}\t{report.reference}\t{problem}")
        if dossier is not None and checked == 0:
            raise CommandError(_("Dossier %(id)d introuvable.") % {"id": dossier})
        summary = _("%(checked)d dossier(s) vérifié(s), %(broken)d historique(s) altéré(s).") % {
            "checked": checked, "broken": broken}
        if broken:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary))
