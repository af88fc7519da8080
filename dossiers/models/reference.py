"""Programme reference data: couloirs and dispositifs (editable, shipped by a data migration)."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class Couloir(models.Model):
    code = models.SlugField(_("code"), max_length=30, primary_key=True)
    label = models.CharField(_("libellé"), max_length=100)

    class Meta:
        ordering = ["label"]
        verbose_name = _("couloir")
        verbose_name_plural = _("couloirs")

    def __str__(self) -> str:
        return str(self.label)


class Dispositif(models.Model):
    code = models.CharField(_("code"), max_length=40, unique=True)
    label = models.CharField(_("libellé"), max_length=200)
    couloir = models.ForeignKey(Couloir, on_delete=models.PROTECT, related_name="dispositifs")
    vague = models.PositiveSmallIntegerField(_("vague"), choices=[(1, "1"), (2, "2")])
    avance_deadline = models.DateTimeField(_("date limite de dépôt de l'avance"), null=True, blank=True)
    ceiling_amount = models.DecimalField(_("plafond"), max_digits=12, decimal_places=2, null=True, blank=True)
    requires_mss_deployment = models.BooleanField(_("indicateur de déploiement MSS requis"), default=False)

    class Meta:
        ordering = ["code"]
        verbose_name = _("dispositif")
        verbose_name_plural = _("dispositifs")

    def __str__(self) -> str:
        return f"{self.code} — {self.label}"
