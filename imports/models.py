"""Import jobs: who brought which spreadsheet in, when, with what outcome; and the dossiers each one created."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dossiers.models import Dossier
from organisations.models import Organisation


def import_path(instance: ImportJob, filename: str) -> str:
    return f"imports/org{instance.organisation_id}/{filename}"


class ImportJob(models.Model):
    """One uploaded file and the verdict on it; the file is kept (default storage) for the error report."""

    class Status(models.TextChoices):
        RUNNING = "running", _("En cours")
        DONE = "done", _("Terminé")
        FAILED = "failed", _("Échec")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                             verbose_name=_("importé par"))
    file = models.FileField(_("fichier"), upload_to=import_path, max_length=300)
    filename = models.CharField(_("nom du fichier"), max_length=200)
    size = models.PositiveBigIntegerField(_("taille"), default=0)
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64)
    format = models.CharField(_("format"), max_length=4, default="csv")
    dry_run = models.BooleanField(_("simulation"), default=True)
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    progress = models.PositiveSmallIntegerField(_("avancement (%)"), default=0)
    rows = models.PositiveIntegerField(_("lignes"), default=0)
    created_clients = models.PositiveIntegerField(_("clients créés"), default=0)
    created_solutions = models.PositiveIntegerField(_("solutions créées"), default=0)
    created_dossiers = models.PositiveIntegerField(_("dossiers créés"), default=0)
    unchanged = models.PositiveIntegerField(_("lignes inchangées"), default=0)
    errors = models.JSONField(_("erreurs"), default=list, blank=True)
    background = models.BooleanField(_("en arrière-plan"), default=False)
    created_at = models.DateTimeField(_("lancé le"), auto_now_add=True)
    started_at = models.DateTimeField(_("commencé le"), null=True, blank=True)
    finished_at = models.DateTimeField(_("terminé le"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [models.Index(fields=["organisation", "-created_at"], name="import_org_created")]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"

    @property
    def saved(self) -> bool:
        """True when this run wrote its rows (a real run that finished without any error)."""
        return not self.dry_run and self.status == self.Status.DONE and not self.errors


class ImportedDossier(models.Model):
    """A dossier an import created, with its spreadsheet row (finds duplicates within one file)."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="imported")
    dossier = models.OneToOneField(Dossier, on_delete=models.CASCADE, related_name="+")
    row = models.PositiveIntegerField(_("ligne"))

    class Meta:
        ordering = ["row"]
        verbose_name = _("dossier importé")
        verbose_name_plural = _("dossiers importés")
