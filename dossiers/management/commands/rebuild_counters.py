"""Recount the kept counters (dossiers per state, blockers per rule) and the kept deadlines from the dossiers, or only
check them."""
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from dossiers import counters, deadlines
from dossiers.models import OpenDeadline
from organisations.models import Organisation


class Command(BaseCommand):
    help = _("Recalcule les compteurs tenus à jour (dossiers par état, blocages par règle) et les échéances ouvertes "
             "à partir des dossiers.")

    def add_arguments(self, parser):
        parser.add_argument("--organisation", type=int, action="append", default=None,
                            help=_("Seulement cette organisation (id) ; répétable."))
        parser.add_argument("--check", action="store_true",
                            help=_("Vérifie seulement : signale les organisations dont les compteurs ou les échéances "
                                   "diffèrent."))

    def handle(self, *args, organisation=None, check=False, **options):
        ids = list(Organisation.objects.order_by("pk").values_list("pk", flat=True)
                   .filter(**({"pk__in": organisation} if organisation else {})))
        missing = sorted(set(organisation or ()) - set(ids))
        if missing:
            raise CommandError(_("Organisation(s) introuvable(s) : %(ids)s.") % {
                "ids": ", ".join(str(pk) for pk in missing)})
        if check:
            wrong_counts = [pk for pk in ids if counters.kept(pk) != counters.recompute(pk)]
            wrong_deadlines = [pk for pk in ids if deadlines.kept(pk) != deadlines.recompute(pk)]
            for pk in wrong_counts:
                self.stdout.write(_("Organisation %(id)d : compteurs faux.") % {"id": pk})
            for pk in wrong_deadlines:
                self.stdout.write(_("Organisation %(id)d : échéances fausses.") % {"id": pk})
            summary = _("%(checked)d organisation(s) vérifiée(s), %(wrong)d aux compteurs faux, %(late)d aux échéances "
                        "fausses.") % {"checked": len(ids), "wrong": len(wrong_counts), "late": len(wrong_deadlines)}
            if wrong_counts or wrong_deadlines:
                raise CommandError(summary)
            self.stdout.write(self.style.SUCCESS(summary))
            return
        rows = counters.rebuild(ids if organisation else None)  # the deadlines with them (counters.rebuild)
        kept = OpenDeadline.objects.filter(**({"organisation_id__in": ids} if organisation else {})).count()
        self.stdout.write(self.style.SUCCESS(
            _("Compteurs recalculés : %(orgs)d organisation(s), %(rows)d ligne(s) ; %(deadlines)d échéance(s) "
              "ouverte(s).") % {"orgs": len(ids), "rows": rows, "deadlines": kept}))
