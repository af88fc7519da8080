"""Counters kept by the writer (dossiers.counters), so the home page and the pipeline read a few rows per
organisation instead of counting its dossiers.

Derived data: `dossiers.counters.rebuild` recomputes them from the dossiers at any time (`rebuild_counters`).
Rows are never deleted by the writer; a cell back to zero keeps its row (zeros are read as absent).
"""
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from organisations.models import Organisation

from .parties import Solution
from .reference import Dispositif


def _sum(label) -> models.DecimalField:
    # A dossier's amounts have 12 digits; the sum over an organisation's dossiers needs a few more.
    return models.DecimalField(label, max_digits=18, decimal_places=2, default=Decimal("0.00"))


class StateCount(models.Model):
    """Dossiers of one organisation in one state for one solution (hence one dispositif), and their amounts:
    what the pipeline sums per state, with its dispositif, couloir and solution filters."""

    # The unique constraint leads with the organisation and serves every read: no other index to maintain.
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+", db_index=False)
    dispositif = models.ForeignKey(Dispositif, on_delete=models.CASCADE, related_name="+", db_index=False)
    solution = models.ForeignKey(Solution, on_delete=models.CASCADE, related_name="+", db_index=False)
    state = models.CharField(_("état"), max_length=30)
    count = models.IntegerField(_("dossiers"), default=0)
    declared_amount = _sum(_("montants déclarés"))
    avance_paid = _sum(_("avances versées"))
    solde_paid = _sum(_("soldes payés"))

    class Meta:
        verbose_name = _("compteur par état")
        verbose_name_plural = _("compteurs par état")
        constraints = [models.UniqueConstraint(fields=["organisation", "dispositif", "solution", "state"],
                                               name="statecount_org_disp_sol_state")]


class BlockerCount(models.Model):
    """Blocker rows of one organisation per step blocked and rule; the row whose rule is ANY_RULE ("") counts the
    organisation's dossiers blocked at that step by at least one rule. Per step, so the home page's "bloqués par une
    règle" leaves out the dossiers waiting for the client (`Blocker.CLIENT_STEPS`) without reading a blocker row."""

    ANY_RULE = ""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+", db_index=False)
    transition = models.CharField(_("étape"), max_length=40, blank=True, default="")
    rule = models.CharField(_("règle"), max_length=60, blank=True)
    count = models.IntegerField(_("dossiers"), default=0)

    class Meta:
        verbose_name = _("compteur de blocages")
        verbose_name_plural = _("compteurs de blocages")
        constraints = [models.UniqueConstraint(fields=["organisation", "transition", "rule"],
                                               name="blockercount_org_step_rule")]


class PendingVaDay(models.Model):
    """Deployed dossiers (VA awaited) of one organisation and dispositif deployed on one day, and their amount at
    stake (declared amount, none counted as zero, less the avance paid): the pending-VA report's totals, ageing
    buckets and overdue counts move with today's date, but are sums over these few rows (one per day and dispositif
    at most) instead of a scan of the organisation's deployed dossiers. `deployed_on` is NULL for a deployed dossier
    without a date: NULLs being distinct in the key (SQLite knows no other way), each change to such a dossier adds
    a row instead of updating one; the readers sum rows, so the figures hold, and a rebuild folds them into one."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+", db_index=False)
    dispositif = models.ForeignKey(Dispositif, on_delete=models.CASCADE, related_name="+", db_index=False)
    deployed_on = models.DateField(_("déployé le"), null=True)
    count = models.IntegerField(_("dossiers"), default=0)
    amount_at_stake = _sum(_("montant en jeu"))

    class Meta:
        verbose_name = _("VA en attente par jour")
        verbose_name_plural = _("VA en attente par jour")
        constraints = [models.UniqueConstraint(fields=["organisation", "dispositif", "deployed_on"],
                                               name="pendingvaday_org_disp_day")]
        # The report reads the last days' cells only (reports.queries.PENDING_VA_KEPT_SQL): a range of this index.
        indexes = [models.Index(fields=["organisation", "deployed_on"], name="pendingvaday_org_day")]
