"""`link_rules`: recompute the automatic rule → FAQ links (curated pinned and removed links are kept)."""
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from faqref.links import refresh_links


class Command(BaseCommand):
    help = gettext_lazy("Recalcule les liens automatiques entre les règles et la FAQ.")

    def handle(self, *args, **options) -> None:
        linked = refresh_links()
        for code, entry_ids in linked.items():
            shown = ", ".join(f"#{entry_id}" for entry_id in entry_ids) or "—"
            self.stdout.write(f"{code} : {shown}")
        self.stdout.write(self.style.SUCCESS(
            _("%(linked)d règle(s) sur %(rules)d reliée(s) à la FAQ.") % {
                "linked": sum(1 for ids in linked.values() if ids), "rules": len(linked)}))
