"""Recount the kept counters (dossiers per state, blockers per rule) from the dossiers, or only check them."""
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from dossiers import counters
from organisations.models import Organisation


class Command(BaseCommand):
    help = _("Recalcule les compteurs tenus à jour (dossiers par état, blocages par règle) à partir des dossiers.")

    def add_arguments(self, parser):
        parser.add_argument("--organisation", type=int, action="append", default=None,
                            help=_("Seulement cette organisation (id) ; répétable."))
        parser.add_argument("--check", action="store_true",
                            help=_("Vérifie seulement : signale les organisations dont les compteurs diffèrent."))

    def handle(self, *args, organisation=None, check=False, **options):
        ids = list(Organisation.objects.order_by("pk").values_list("pk", flat=True)
                   .filter(**({"pk__in": organisation} if organisation else {})))
        missing = sorted(set(organisation or ()) - set(ids))
        if missing:
            raise CommandError(_("Organisation(s) introuvable(s) : %(ids)s.") % {
                "ids": ", ".join(str(pk) for pk in missing)})
        if check:
            wrong = [pk for pk in ids if counters.kept(pk) != counters.recompute(pk)]
            for pk in wrong:
                self.stdout.write(_("Organisation %(id)d : compteurs faux.") % {"id": pk})
            summary = _("%(checked)d organisation(s) vérifiée(s), %(wrong)d aux compteurs faux.") % {
                "checked": len(ids), "wrong": len(wrong)}
            if wrong:
                raise CommandError(summary)
            self.stdout.write(self.style.SUCCESS(summary))
            return
        rows = counters.rebuild(ids if organisation else None)
        self.stdout.write(self.style.SUCCESS(_("Compteurs recalculés : %(orgs)d organisation(s), %(rows)d ligne(s).")
                                             % {"orgs": len(ids), "rows": rows}))
