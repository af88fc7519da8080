"""The dossier and its state machine (DOMAIN.md §4).

Transition methods change the instance in memory and record the step's data; only
`dossiers.services.run_transition` calls them, then saves and appends the history row.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, FSMField, FSMModelMixin, transition

from organisations.models import Membership, Organisation

from ..business_days import correction_due_on
from .parties import Client, Solution
from .reference import Dispositif


class State(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    BDC_SIGNED = "bdc_signed", _("BDC signé")
    AVANCE_FILED = "avance_filed", _("Avance déposée")
    AVANCE_TO_FIX = "avance_to_fix", _("Avance à modifier")
    AVANCE_VALIDATED = "avance_validated", _("Avance validée")
    AVANCE_PAID = "avance_paid", _("Avance payée")
    DEPLOYED = "deployed", _("Déployé, VA attendue")
    VA_SIGNED = "va_signed", _("VA signée")
    SOLDE_FILED = "solde_filed", _("Solde déposé")
    SOLDE_TO_FIX = "solde_to_fix", _("Solde à modifier")
    SOLDE_VALIDATED = "solde_validated", _("Solde validé")
    SOLDE_PAID = "solde_paid", _("Soldé")
    CANCELLATION_REQUESTED = "cancellation_requested", _("Annulation demandée")
    RECOVERY_ISSUED = "recovery_issued", _("Ordre de recouvrement émis")
    CANCELLED = "cancelled", _("Annulé")


FINAL_STATES = frozenset({State.SOLDE_PAID, State.CANCELLED})
# States from which a cancellation may be requested: every state from the signed order to a solde to fix.
CANCELLABLE_STATES = [
    State.BDC_SIGNED, State.AVANCE_FILED, State.AVANCE_TO_FIX, State.AVANCE_VALIDATED, State.AVANCE_PAID,
    State.DEPLOYED, State.VA_SIGNED, State.SOLDE_FILED, State.SOLDE_TO_FIX,
]
# The scenario may change until the VA is signed (SEED-0/SEED-1: no new avance is needed); the VA then fixes it,
# since the a posteriori checks use the scenario of the VA (DOMAIN.md §8).
SCENARIO_CHANGE_STATES = frozenset(
    [State.DRAFT, State.BDC_SIGNED, State.AVANCE_FILED, State.AVANCE_TO_FIX, State.AVANCE_VALIDATED,
     State.AVANCE_PAID, State.DEPLOYED]
)
# An avance amendment (avenant) may be filed while the avance is open: once filed, before the solde.
AMENDMENT_STATES = frozenset(
    [State.AVANCE_FILED, State.AVANCE_TO_FIX, State.AVANCE_VALIDATED, State.AVANCE_PAID, State.DEPLOYED,
     State.VA_SIGNED, State.SOLDE_TO_FIX]
)
# Dossiers that hold the client's one Ségur prestation for a dispositif (unique per client and dispositif).
ACTIVE_EXCLUDED_STATES = (State.DRAFT, State.CANCELLED)
# The solde's vocabulary, one word per concept: the states in which the request is being prepared (the VA is
# signed, or the ASP asked for a fix), those in which it has been filed, and the invoice data filed with it
# (file_solde's payload; the fields' words are their verbose names, see `field_label`).
SOLDE_FILING_STATES = frozenset({State.VA_SIGNED, State.SOLDE_TO_FIX})
SOLDE_FILED_STATES = frozenset({State.SOLDE_FILED, State.SOLDE_VALIDATED, State.SOLDE_PAID})
INVOICE_FIELDS = ("invoice_number", "invoice_date", "invoice_addressee", "invoice_total", "solde_amount", "vat",
                  "invoice_count", "invoices_in_single_pdf", "invoices_total", "invoice_mentions_checked")


class SignatureType(models.TextChoices):
    HANDWRITTEN = "handwritten", _("Manuscrite")
    CPX = "cpx", _("Certificat CPx")
    PRO_SANTE_CONNECT = "pro_sante_connect", _("Pro Santé Connect")
    RGS_CERTIFICATE = "rgs_certificate", _("Certificat logiciel RGS")
    EIDAS_SIMPLE = "eidas_simple", _("eIDAS simple")
    EIDAS_ADVANCED = "eidas_advanced", _("eIDAS avancée")
    EIDAS_QUALIFIED = "eidas_qualified", _("eIDAS qualifiée")


class MssDeployment(models.TextChoices):
    CAS_1 = "cas_1", _("Cas 1")
    CAS_2 = "cas_2", _("Cas 2")


class DeclaredFiness(models.TextChoices):
    GEO = "geo", _("FINESS géographique")
    LEGAL = "legal", _("FINESS juridique")


class CancellationReason(models.TextChoices):
    VENDOR_ERROR = "vendor_error", _("Erreur de l'éditeur lors de la demande")
    CLIENT_AGREEMENT = "client_agreement", _("Accord avec le client")


def _step(label: Any, button: Any = None) -> dict[str, Any]:
    """A transition's words (its django-fsm `custom`): `label` names the step wherever it is shown (history,
    diagram, messages, admin), `button` is what the button that takes it says (the label when they agree)."""
    return {"label": label, "button": label if button is None else button}


def _money(label) -> models.DecimalField:
    return models.DecimalField(label, max_digits=12, decimal_places=2, null=True, blank=True)


class DossierQuerySet(models.QuerySet):
    def for_organisation(self, organisation: Organisation | int) -> "DossierQuerySet":
        return self.filter(organisation=organisation)

    def active(self) -> "DossierQuerySet":
        return self.exclude(state__in=ACTIVE_EXCLUDED_STATES)


class Dossier(FSMModelMixin, models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="dossiers")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="dossiers")
    # The client's name, copied so the list sorts and searches by it on the dossier's own indexes: filled at
    # creation (`save`, the importer's and the generator's bulk paths), carried by `services.save_client` on a rename.
    client_name = models.CharField(_("nom du client"), max_length=200, blank=True, default="", editable=False)
    solution = models.ForeignKey(Solution, on_delete=models.PROTECT, related_name="dossiers")
    # Copied from the solution at creation so the one-prestation-per-dispositif constraint is a plain index.
    dispositif = models.ForeignKey(Dispositif, on_delete=models.PROTECT, related_name="dossiers")
    reference = models.CharField(_("référence"), max_length=60, blank=True, default="")
    # Whose dossier it is: a manager or admin of the organisation, or nobody; changed through dossiers.team.
    owner = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="owned_dossiers", verbose_name=_("responsable"))
    scenario = models.CharField(_("scénario d'installation"), max_length=100, blank=True, default="")
    # The scenario of the signed VA: recorded by sign_va, never changed afterwards; the solde JSON carries it.
    va_scenario = models.CharField(_("scénario de la VA"), max_length=100, blank=True, default="")
    # The one FINESS the solde JSON declares (SEED-1 "L'éditeur doit donc renseigner un seul FINESS").
    declared_finess = models.CharField(_("FINESS déclaré"), max_length=5, choices=DeclaredFiness.choices,
                                       default=DeclaredFiness.GEO)
    installed_version = models.CharField(_("version installée"), max_length=60, blank=True, default="")
    # The Ségur maintenance obligations (6 years) exist only with a maintenance contract (SEED-1).
    maintenance_contract = models.BooleanField(_("contrat de maintenance"), default=False)
    state = FSMField(_("état"), max_length=30, choices=State.choices, default=State.DRAFT, protected=True)
    state_changed_at = models.DateTimeField(_("état changé le"), null=True, blank=True)

    bdc_signed_on = models.DateField(_("BDC signé le"), null=True, blank=True)
    bdc_signer_name = models.CharField(_("signataire du BDC"), max_length=200, blank=True, default="")
    bdc_signature_type = models.CharField(
        _("type de signature"), max_length=30, choices=SignatureType.choices, blank=True, default=""
    )

    avance_filed_on = models.DateField(_("avance déposée le"), null=True, blank=True)
    avance_declared_amount = _money(_("montant déclaré de l'avance"))
    # The declared amount in force: the avance's, replaced by each amendment (avenant) filed since.
    declared_amount = _money(_("montant déclaré en vigueur"))
    avance_fix_requested_on = models.DateField(_("modification de l'avance demandée le"), null=True, blank=True)
    avance_fix_reason = models.TextField(_("motif de la modification de l'avance"), blank=True, default="")
    avance_fix_due_on = models.DateField(_("modification de l'avance attendue le"), null=True, blank=True)
    avance_validated_on = models.DateField(_("avance validée le"), null=True, blank=True)
    avance_paid_on = models.DateField(_("avance payée le"), null=True, blank=True)
    avance_paid_amount = _money(_("montant de l'avance payée"))
    # Avance paid, amendments' payments included: what a recovery or the solde is measured against.
    avance_paid_total = models.DecimalField(_("avance versée (avenants compris)"), max_digits=12, decimal_places=2,
                                            default=Decimal("0.00"))

    deployed_on = models.DateField(_("déployé le"), null=True, blank=True)

    va_signed_on = models.DateField(_("VA signée le"), null=True, blank=True)
    va_signer_name = models.CharField(_("signataire de la VA"), max_length=200, blank=True, default="")
    mss_deployment = models.CharField(
        _("indicateur de déploiement MSS"), max_length=10, choices=MssDeployment.choices, blank=True, default=""
    )

    solde_filed_on = models.DateField(_("solde déposé le"), null=True, blank=True)
    invoice_number = models.CharField(_("numéro de facture"), max_length=60, blank=True, default="")
    invoice_date = models.DateField(_("date de facture"), null=True, blank=True)
    invoice_addressee = models.CharField(_("destinataire de la facture"), max_length=200, blank=True, default="")
    invoice_total = _money(_("total de la facture"))
    solde_amount = _money(_("montant « Prestation Ségur »"))
    vat = models.CharField(_("TVA applicable"), max_length=10, blank=True, default="")
    invoice_count = models.PositiveSmallIntegerField(_("nombre de factures"), null=True, blank=True)
    invoices_in_single_pdf = models.BooleanField(_("factures dans un PDF unique"), null=True, blank=True)
    invoices_total = _money(_("total récapitulatif des factures"))
    invoice_mentions_checked = models.BooleanField(_("mentions obligatoires vérifiées"), default=False)
    # Invoice data typed before filing: the pre-solde checklist evaluates the rules against it.
    solde_draft = models.JSONField(_("brouillon de la demande de solde"), default=dict, blank=True)
    solde_fix_requested_on = models.DateField(_("modification du solde demandée le"), null=True, blank=True)
    solde_fix_reason = models.TextField(_("motif de la modification du solde"), blank=True, default="")
    solde_fix_due_on = models.DateField(_("modification du solde attendue le"), null=True, blank=True)
    solde_validated_on = models.DateField(_("solde validé le"), null=True, blank=True)
    solde_paid_on = models.DateField(_("solde payé le"), null=True, blank=True)
    solde_paid_amount = _money(_("montant du solde payé"))

    cancellation_requested_on = models.DateField(_("annulation demandée le"), null=True, blank=True)
    cancellation_reason = models.CharField(_("motif d'annulation"), max_length=20, choices=CancellationReason.choices,
                                           blank=True, default="")
    cancellation_motive = models.TextField(_("explication de l'annulation"), blank=True, default="")
    cancellation_from_state = models.CharField(_("état avant l'annulation"), max_length=30, blank=True, default="")
    recovery_issued_on = models.DateField(_("ordre de recouvrement émis le"), null=True, blank=True)
    recovered_on = models.DateField(_("remboursé le"), null=True, blank=True)
    recovered_amount = _money(_("montant remboursé"))
    # Repayments of a recovery order add up here (each is one record_recovery history row); the dossier is
    # cancelled once they reach the avance paid.
    recovery_repaid = models.DecimalField(_("remboursements cumulés"), max_digits=12, decimal_places=2,
                                          default=Decimal("0.00"))
    cancellation_refused_on = models.DateField(_("annulation refusée le"), null=True, blank=True)
    cancellation_refusal_reason = models.TextField(_("motif du refus d'annulation"), blank=True, default="")
    cancelled_on = models.DateField(_("annulé le"), null=True, blank=True)

    # Head of the hash chain of the history, kept here so appending needs no extra read under the lock.
    history_seq = models.PositiveIntegerField(_("rang du dernier historique"), default=0)
    history_hash = models.CharField(_("empreinte du dernier historique"), max_length=64, blank=True, default="")
    # HMAC of the head with HISTORY_ANCHOR_KEY (dossiers.anchors): recomputing every hash does not forge it.
    history_anchor = models.CharField(_("ancre de l'historique"), max_length=64, blank=True, default="")

    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    objects = DossierQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("dossier")
        verbose_name_plural = _("dossiers")
        constraints = [
            models.UniqueConstraint(
                fields=["client", "dispositif"],
                condition=~Q(state__in=["draft", "cancelled"]),
                name="dossier_one_active_per_client_dispositif",
            ),
            models.UniqueConstraint(
                fields=["organisation", "reference"], condition=~Q(reference=""), name="dossier_reference_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "state"], name="dossier_org_state"),
            models.Index(fields=["organisation", "dispositif", "state"], name="dossier_org_disp_state"),
            models.Index(fields=["organisation", "deployed_on"], name="dossier_org_deployed",
                         condition=Q(state="deployed")),
            # One per sort of the list (dossiers.queries.SORTS), the organisation first: a page reads its rows in
            # order from the index (ascending sorts scan it backwards) and a deep page seeks to its key.
            models.Index(fields=["organisation", "-updated_at", "-id"], name="dossier_org_updated"),
            models.Index(fields=["organisation", "client_name", "id"], name="dossier_org_client_name"),
            models.Index(fields=["organisation", "reference", "id"], name="dossier_org_reference"),
            models.Index(fields=["organisation", "state", "id"], name="dossier_org_state_id"),
        ]

    def __str__(self) -> str:
        return self.reference or f"#{self.pk}"

    def save(self, *args, **kwargs) -> None:
        if self._state.adding and not self.client_name and self.client_id is not None:
            self.client_name = self.client.name
        super().save(*args, **kwargs)

    # --- transitions (DOMAIN.md §4): each records the step's data from a validated payload ---

    @transition(field=state, source=State.DRAFT, target=State.BDC_SIGNED,
                custom=_step(_("Signature du BDC"), _("Enregistrer la signature du BDC")))
    def sign_bdc(self, data: dict[str, Any]) -> None:
        self.bdc_signed_on = data["signed_on"]
        self.bdc_signer_name = data["signer_name"]
        self.bdc_signature_type = data["signature_type"]

    @transition(field=state, source=State.BDC_SIGNED, target=State.AVANCE_FILED,
                custom=_step(_("Dépôt de l'avance"), _("Déposer l'avance")))
    def file_avance(self, data: dict[str, Any]) -> None:
        self.avance_filed_on = data["filed_on"]
        self.avance_declared_amount = self.declared_amount = data["declared_amount"]
        if data.get("scenario"):
            self.scenario = data["scenario"]

    @transition(field=state, source=State.AVANCE_FILED, target=State.AVANCE_TO_FIX,
                custom=_step(_("Avance à modifier (demande de l'ASP)")))
    def request_avance_fix(self, data: dict[str, Any]) -> None:
        self.avance_fix_requested_on = data["on"]
        self.avance_fix_reason = data["reason"]
        self.avance_fix_due_on = correction_due_on(data["on"], department=self.client.department)

    @transition(field=state, source=State.AVANCE_TO_FIX, target=State.AVANCE_FILED,
                custom=_step(_("Nouveau dépôt de l'avance"), _("Redéposer l'avance")))
    def refile_avance(self, data: dict[str, Any]) -> None:
        self.avance_filed_on = data["filed_on"]
        if data.get("declared_amount") is not None:
            self.avance_declared_amount = self.declared_amount = data["declared_amount"]
        if data.get("scenario"):
            self.scenario = data["scenario"]

    @transition(field=state, source=State.AVANCE_FILED, target=State.AVANCE_VALIDATED,
                custom=_step(_("Avance validée par l'ASP")))
    def validate_avance(self, data: dict[str, Any]) -> None:
        self.avance_validated_on = data["on"]

    @transition(field=state, source=State.AVANCE_VALIDATED, target=State.AVANCE_PAID,
                custom=_step(_("Paiement de l'avance"), _("Enregistrer le paiement de l'avance")))
    def record_avance_payment(self, data: dict[str, Any]) -> None:
        self.avance_paid_on = data["paid_on"]
        self.avance_paid_amount = data["amount"]
        self.avance_paid_total = (self.avance_paid_total or Decimal("0")) + data["amount"]

    @transition(field=state, source=[State.AVANCE_VALIDATED, State.AVANCE_PAID], target=State.DEPLOYED,
                custom=_step(_("Déploiement"), _("Marquer comme déployé")))
    def mark_deployed(self, data: dict[str, Any]) -> None:
        self.deployed_on = data["deployed_on"]

    @transition(field=state, source=State.DEPLOYED, target=State.VA_SIGNED,
                custom=_step(_("Signature de la VA"), _("Enregistrer la signature de la VA")))
    def sign_va(self, data: dict[str, Any]) -> None:
        self.va_signed_on = data["signed_on"]
        self.va_signer_name = data["signer_name"]
        # The VA's scenario is the one that counts from now on (SEED-0: checks use the VA's scenario).
        self.scenario = self.va_scenario = data["scenario"]
        self.mss_deployment = data.get("mss_deployment") or ""

    @transition(field=state, source=[State.VA_SIGNED, State.SOLDE_TO_FIX], target=State.SOLDE_FILED,
                custom=_step(_("Dépôt du solde"), _("Déposer le solde")))
    def file_solde(self, data: dict[str, Any]) -> None:
        self.solde_filed_on = data["filed_on"]
        for field in INVOICE_FIELDS:
            setattr(self, field, data.get(field))
        if self.invoice_count == 1:
            self.invoices_in_single_pdf = None
            self.invoices_total = None

    @transition(field=state, source=State.SOLDE_FILED, target=State.SOLDE_TO_FIX,
                custom=_step(_("Solde à modifier (demande de l'ASP)")))
    def request_solde_fix(self, data: dict[str, Any]) -> None:
        self.solde_fix_requested_on = data["on"]
        self.solde_fix_reason = data["reason"]
        self.solde_fix_due_on = correction_due_on(data["on"], department=self.client.department)

    @transition(field=state, source=State.SOLDE_FILED, target=State.SOLDE_VALIDATED,
                custom=_step(_("Solde validé par l'ASP")))
    def validate_solde(self, data: dict[str, Any]) -> None:
        self.solde_validated_on = data["on"]

    @transition(field=state, source=State.SOLDE_VALIDATED, target=State.SOLDE_PAID,
                custom=_step(_("Paiement du solde"), _("Enregistrer le paiement du solde")))
    def record_solde_payment(self, data: dict[str, Any]) -> None:
        self.solde_paid_on = data["paid_on"]
        self.solde_paid_amount = data["amount"]
        # The history row (the payload as recorded) keeps what was expected beside what was paid.
        data["expected_amount"] = self.solde_expected_payment

    @transition(field=state, source=CANCELLABLE_STATES, target=State.CANCELLATION_REQUESTED,
                custom=_step(_("Demande d'annulation"), _("Demander l'annulation")))
    def request_cancellation(self, data: dict[str, Any]) -> None:
        self.cancellation_from_state = self.state
        # A new request after a refused one: the refusal fields describe the request in progress (history keeps all).
        self.cancellation_refused_on, self.cancellation_refusal_reason = None, ""
        self.cancellation_requested_on = data["requested_on"]
        self.cancellation_reason = data["reason"]
        self.cancellation_motive = data["motive"]

    @transition(
        field=state,
        source=State.CANCELLATION_REQUESTED,
        target=RETURN_VALUE(State.RECOVERY_ISSUED, State.CANCELLED),
        custom=_step(_("Confirmation de l'annulation"), _("Confirmer l'annulation")),
    )
    def confirm_cancellation(self, data: dict[str, Any]) -> str:
        # SEED-0: a vendor that received the avance gets a recovery order to repay it.
        if self.avance_paid_total and self.avance_paid_total > 0:
            self.recovery_issued_on = data["on"]
            return State.RECOVERY_ISSUED
        self.cancelled_on = data["on"]
        return State.CANCELLED

    @transition(field=state, source=State.CANCELLATION_REQUESTED, target=RETURN_VALUE(*CANCELLABLE_STATES),
                custom=_step(_("Annulation refusée par l'ASP")))
    def refuse_cancellation(self, data: dict[str, Any]) -> str:
        # The ASP refused: the dossier goes on from where it was when the cancellation was requested.
        self.cancellation_refused_on = data["on"]
        self.cancellation_refusal_reason = data["reason"]
        return self.cancellation_from_state

    @transition(field=state, source=State.RECOVERY_ISSUED, target=RETURN_VALUE(State.RECOVERY_ISSUED, State.CANCELLED),
                custom=_step(_("Remboursement de l'avance"), _("Enregistrer un remboursement")))
    def record_recovery(self, data: dict[str, Any]) -> str:
        # One repayment; recovered_on/recovered_amount describe the latest one, recovery_repaid their sum.
        self.recovered_on = data["repaid_on"]
        self.recovered_amount = data["amount"]
        self.recovery_repaid = (self.recovery_repaid or Decimal("0")) + data["amount"]
        if self.recovery_outstanding > 0:
            return State.RECOVERY_ISSUED
        self.cancelled_on = data["repaid_on"]
        return State.CANCELLED

    @property
    def solde_expected_payment(self) -> Decimal | None:
        """The balance the ASP is expected to pay for the solde: the « Prestation Ségur » amount requested less the
        avance already paid, amendments included (None before the solde is filed)."""
        if self.solde_amount is None:
            return None
        return max(self.solde_amount - (self.avance_paid_total or Decimal("0")), Decimal("0.00"))

    @property
    def recovery_outstanding(self) -> Decimal:
        """What the recovery order still asks: the avance paid (amendments included) less the repayments."""
        if not self.recovery_issued_on:
            return Decimal("0.00")
        return max((self.avance_paid_total or Decimal("0")) - (self.recovery_repaid or Decimal("0")), Decimal("0.00"))


def field_label(name: str) -> Any:
    """The model's word for one of its fields, capitalised as a form or API label (lazy, translated)."""
    return capfirst(Dossier._meta.get_field(name).verbose_name)


def _transition_words(key: str) -> dict[str, Any]:
    """Each transition's `custom[key]` by name, in the order the model declares them (the name if missing:
    the system check dossiers.E006 reports it)."""
    return {t.name: t.custom.get(key) or t.name for t in Dossier._meta.get_field("state").get_all_transitions(Dossier)}


# What each step is called wherever it is shown, and what the button that takes it says (see `_step`).
TRANSITION_LABELS: dict[str, Any] = _transition_words("label")
TRANSITION_BUTTONS: dict[str, Any] = _transition_words("button")
