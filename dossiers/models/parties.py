"""The vendor's solutions (with PV pilotes) and its clients (one geographic site each)."""
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from organisations.models import Organisation

from ..identifiers import (
    DEPARTMENTS, compact, finess_department_mismatch, validate_department, validate_finess, validate_siret,
)
from .reference import Dispositif


class Solution(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="solutions")
    name = models.CharField(_("nom"), max_length=200)
    version = models.CharField(_("version"), max_length=50)
    dispositif = models.ForeignKey(Dispositif, on_delete=models.PROTECT, related_name="solutions")
    proofs_submitted_on = models.DateField(_("preuves de référencement déposées le"), null=True, blank=True)
    referenced_on = models.DateField(_("référencée le"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "version"]
        verbose_name = _("solution")
        verbose_name_plural = _("solutions")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name", "version", "dispositif"], name="solution_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


def pv_pilote_path(instance, filename: str) -> str:
    return f"org{instance.solution.organisation_id}/pv/{filename}"


class PvPilote(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("En attente")
        VALIDATED = "validated", _("Validé")

    solution = models.ForeignKey(Solution, on_delete=models.CASCADE, related_name="pv_pilotes")
    signed_on = models.DateField(_("signé le"))
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.PENDING)
    file = models.FileField(_("document"), upload_to=pv_pilote_path, max_length=300)
    filename = models.CharField(max_length=200)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-signed_on", "-id"]
        verbose_name = _("PV pilote")
        verbose_name_plural = _("PV pilotes")

    def __str__(self) -> str:
        return f"PV pilote {self.solution} ({self.get_status_display()})"


class Client(models.Model):
    class Kind(models.TextChoices):
        ES = "es", _("Établissement de santé")
        PS = "ps", _("Professionnel de santé")
        ESMS = "esms", _("Établissement médico-social")
        OFFICINE = "officine", _("Officine")
        LABORATOIRE = "laboratoire", _("Laboratoire")
        IMAGERIE = "imagerie", _("Imagerie")
        OTHER = "other", _("Autre")

    class Prerequisite(models.TextChoices):
        ORDERED = "ordered", _("Commandé")
        NOT_NEEDED = "not_needed", _("Non nécessaire")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="clients")
    name = models.CharField(_("raison sociale"), max_length=200)
    kind = models.CharField(_("type"), max_length=12, choices=Kind.choices)
    finess_geo = models.CharField(_("FINESS géographique"), max_length=9, blank=True, default="")
    finess_legal = models.CharField(_("FINESS juridique"), max_length=9, blank=True, default="")
    siret = models.CharField(_("SIRET"), max_length=14, blank=True, default="")
    department = models.CharField(_("département"), max_length=3, choices=[(d, d) for d in DEPARTMENTS])
    vat_liable = models.BooleanField(_("assujetti à la TVA"), default=True)
    ans_contract_signed_on = models.DateField(_("contrat ANS signé le"), null=True, blank=True)
    cpe_cards = models.CharField(_("cartes CPE"), max_length=10, choices=Prerequisite.choices, blank=True, default="")
    software_certificates = models.CharField(
        _("certificats logiciels"), max_length=10, choices=Prerequisite.choices, blank=True, default=""
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        indexes = [
            models.Index(fields=["organisation", "finess_geo"], name="client_org_finess"),
            models.Index(fields=["organisation", "siret"], name="client_org_siret"),
        ]
        # A site is one client record (DOMAIN.md §8): one FINESS géographique, one SIRET per organisation.
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "finess_geo"], condition=~models.Q(finess_geo=""),
                name="client_unique_finess_geo", violation_error_message=_(
                    "Ce FINESS géographique est déjà celui d'un autre client de l'organisation : un site est un seul "
                    "client.")),
            models.UniqueConstraint(
                fields=["organisation", "siret"], condition=~models.Q(siret=""),
                name="client_unique_siret", violation_error_message=_(
                    "Ce SIRET est déjà celui d'un autre client de l'organisation : un site est un seul client.")),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def site_identifier(self) -> str:
        return self.finess_geo or self.siret

    @property
    def finess_department_mismatch(self) -> bool:
        """The FINESS géographique names another department than the client's (a typing error, most often)."""
        return finess_department_mismatch(self.finess_geo, self.department)

    @property
    def is_esms(self) -> bool:
        return self.kind == self.Kind.ESMS

    def clean_fields(self, exclude=None) -> None:
        # Spaces and dots are how people type identifiers; compact them before length checks.
        for name in ("finess_geo", "finess_legal", "siret", "department"):
            setattr(self, name, compact(getattr(self, name)))
        super().clean_fields(exclude=exclude)

    def clean(self) -> None:
        errors: dict[str, list] = {}
        for field, check in (("finess_geo", validate_finess), ("finess_legal", validate_finess), ("siret", validate_siret)):
            value = getattr(self, field)
            if value:
                try:
                    setattr(self, field, check(value))
                except ValidationError as error:
                    errors.setdefault(field, []).extend(error.messages)
        # A client may be recorded before its identifiers are known; the rule client.identified refuses
        # to sign its BDC until then (SEED-0: a site is identified by its FINESS géographique or its SIRET).
        if self.department:
            try:
                self.department = validate_department(self.department)
            except ValidationError as error:
                errors["department"] = error.messages
        if errors:
            raise ValidationError(errors)
