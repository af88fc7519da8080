"""`import_faq [PATH …]`: import FAQ exports (files, or directories of .txt), then refresh the rule links."""
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from tqdm import tqdm

from faqref.importing import Outcome, export_files, import_files


class Command(BaseCommand):
    help = gettext_lazy("Importe des exports de la FAQ (fichiers, ou dossiers de fichiers .txt) ; sans chemin, "
                        "ceux de settings.FAQ_SOURCES.")

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", help=gettext_lazy("fichiers ou dossiers d'exports"))
        parser.add_argument("--progress", action="store_true",
                            help=gettext_lazy("affiche la barre de progression même hors d'un terminal"))

    def handle(self, *args, paths: list[str], progress: bool, **options) -> None:
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
        linked = sum(1 for ids in report.links.values() if ids)
        self.stdout.write(_("Liens automatiques : %(linked)d règle(s) sur %(rules)d reliée(s) à la FAQ.") % {
            "linked": linked, "rules": len(report.links)})
        problems.extend(str(error) for error in report.errors)
        if problems:
            raise CommandError(_("Exports refusés (rien n'en a été importé) :\n%(problems)s") % {
                "problems": "\n".join(f"- {p}" for p in problems)})
