"""`import_faq [PATH …]`: import FAQ exports (files, or directories of .txt), then refresh the rule links.

`--demo` imports the project's own demonstration FAQ (faqref/demo) instead, its entries flagged so every page
says so; `--or-demo` does that only when none of the configured sources exists. Importing real exports
removes the demonstration entries first.
"""
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from tqdm import tqdm

from faqref.importing import Outcome, export_files, import_files
from faqref.links import refresh_links
from faqref.models import Entry

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"


class Command(BaseCommand):
    help = gettext_lazy("Importe des exports de la FAQ (fichiers, ou dossiers de fichiers .txt) ; sans chemin, "
                        "ceux de settings.FAQ_SOURCES.")

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", help=gettext_lazy("fichiers ou dossiers d'exports"))
        parser.add_argument("--progress", action="store_true",
                            help=gettext_lazy("affiche la barre de progression même hors d'un terminal"))
        parser.add_argument("--demo", action="store_true",
                            help=gettext_lazy("importe la FAQ de démonstration du projet (pas la FAQ officielle)"))
        parser.add_argument("--or-demo", action="store_true",
                            help=gettext_lazy("sans chemin : la FAQ de démonstration si aucune source configurée "
                                              "n'existe"))

    def handle(self, *args, paths: list[str], progress: bool, demo: bool = False, or_demo: bool = False,
               **options) -> None:
        if or_demo and not paths and not any(Path(raw).exists() for raw in settings.FAQ_SOURCES):
            demo = True
        if demo:
            paths = [str(DEMO_DIR)]
        # Paths named on the command line must exist; the configured defaults may be absent (skipped).
        explicit = bool(paths)
        problems: list[str] = []
        files: list[Path] = []
        for raw in paths or settings.FAQ_SOURCES:
            path = Path(raw)
            if not path.exists():
                message = _("%(path)s : chemin introuvable, ignoré") % {"path": path}
                if explicit:
                    problems.append(message)
                else:
                    self.stderr.write(self.style.WARNING(message))
                continue
            files.extend(export_files(path))
        if not files and not problems:
            self.stdout.write(_("Aucun export à importer."))
            return
        if not files:
            raise CommandError(_("Exports refusés (rien n'en a été importé) :\n%(problems)s") % {
                "problems": "\n".join(f"- {p}" for p in problems)})

        show = progress or self.stderr.isatty()
        bar = None

        def start(total: int) -> None:
            nonlocal bar
            # tqdm writes carriage returns: give it the raw stream, not the line-ending wrapper.
            bar = tqdm(total=total, unit=_("réponse"), file=self.stderr._out, disable=not show)

        def advance(outcome: Outcome) -> None:
            bar.update()

        try:
            report = import_files(files, on_start=start, on_answer=advance)
        finally:
            if bar is not None:
                bar.close()

        for file in report.files:
            self.stdout.write(_("%(file)s : %(answers)s — %(created)d créée(s), %(revised)d révisée(s), "
                                "%(unchanged)d inchangée(s)") % {
                "file": file.name,
                "answers": ngettext("%d réponse", "%d réponses", len(file.outcomes)) % len(file.outcomes),
                "created": file.created, "revised": file.revised, "unchanged": file.unchanged})
        self.stdout.write(self.style.SUCCESS(
            _("Total : %(created)d créée(s), %(revised)d révisée(s), %(unchanged)d inchangée(s) ; "
              "%(files)d fichier(s) importé(s), %(failed)d refusé(s).") % {
                "created": report.total(Outcome.CREATED), "revised": report.total(Outcome.REVISED),
                "unchanged": report.total(Outcome.UNCHANGED), "files": len(report.files),
                "failed": len(report.errors) + len(problems)}))
        if not demo and report.files and Entry.objects.filter(is_demo=True).delete()[0]:
            report.links = refresh_links()  # the official FAQ replaces the demonstration, and its guidance
        linked = sum(1 for ids in report.links.values() if ids)
        self.stdout.write(_("Liens automatiques : %(linked)d règle(s) sur %(rules)d reliée(s) à la FAQ.") % {
            "linked": linked, "rules": len(report.links)})
        if demo:
            Entry.objects.filter(sources__file__in=[file.name for file in files]).update(is_demo=True)
            self.stdout.write(_("FAQ de démonstration importée (la FAQ officielle n'est pas livrée avec le projet) ; "
                                "pour importer les exports officiels : .venv/bin/python manage.py import_faq "
                                "CHEMIN/DES/EXPORTS"))
        problems.extend(str(error) for error in report.errors)
        if problems:
            raise CommandError(_("Exports refusés (rien n'en a été importé) :\n%(problems)s") % {
                "problems": "\n".join(f"- {p}" for p in problems)})
