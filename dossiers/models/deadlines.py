"""Open deadlines kept by the writer (dossiers.deadlines), so the deadlines page, the API, the calendar, the
digests, the reminders and `deadline.due` read an organisation's rows by due date instead of computing every kind
from its dossiers, clients and solutions.

Derived data: `dossiers.deadlines.rebuild` recomputes them at any time (`rebuild_counters`). Rows hold due dates,
never "overdue" (today moves): the readers judge that, and drop the information kinds already past.
"""
from django.db import models
from django.utils.translation import gettext_lazy as _

from organisations.models import Organisation

from .dossier import Dossier
from .parties import Client, Solution


class OpenDeadline(models.Model):
    """One deadline of DOMAIN.md §6: of a dossier, or of a client's portability request or a solution's change
    (`object_id`), with the names the readers show copied in (no join on the read)."""

    # The index below leads with the organisation and serves every read, in the readers' order.
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(_("type"), max_length=30)
    due_on = models.DateField(_("échéance"))
    due_at = models.DateTimeField(_("échéance (heure)"), null=True, blank=True)
    # The writer replaces a dossier's, a client's or a solution's rows by these three columns (indexed).
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    solution = models.ForeignKey(Solution, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    object_id = models.IntegerField(_("demande ou modification"), null=True, blank=True)
    reference = models.CharField(_("référence"), max_length=60, null=True, blank=True)
    client_name = models.CharField(_("client"), max_length=300, null=True, blank=True)
    solution_label = models.CharField(_("solution"), max_length=300, null=True, blank=True)
    amount = models.DecimalField(_("reste dû"), max_digits=12, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = _("échéance ouverte")
        verbose_name_plural = _("échéances ouvertes")
        indexes = [models.Index(fields=["organisation", "due_on", "due_at", "kind", "dossier", "object_id"],
                                name="opendeadline_org_due")]
