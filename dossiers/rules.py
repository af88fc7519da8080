"""The prerequisite catalogue (DOMAIN.md §5): one small declarative object per rule code.

`evaluate()` runs every rule of a transition against one prepared `Context` and returns all failures,
so the API's 409, the checklist page, the admin and the reminders say the same thing.
"""
from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from . import names
from .identifiers import validate_finess, validate_siret
from .models import (
    Amendment, Client, DeclaredFiness, Document, DocumentKind, Dossier, PvPilote, SignatureType, State,
)


class Severity(str, enum.Enum):
    BLOCK = "block"
    WARN = "warn"


@dataclass(frozen=True)
class Facts:
    """What the rules know of a dossier beyond its own fields, client, solution and dispositif, given as plain values.

    A caller that already holds them (a batch that looked them up together, a test) passes them to the Context,
    which then reads no database at all; without them, the Context queries each on first use.
    """

    document_kinds: frozenset[str] = frozenset()
    has_validated_pv_pilote: bool = False
    last_amendment: Amendment | None = None
    other_active_dossier: Dossier | None = None


@dataclass
class Context:
    """What the rules read about one dossier; each relation is loaded once, on first use (≤ 4 queries), unless
    `facts` gives them."""

    dossier: Dossier
    transition: str
    payload: dict[str, Any] = field(default_factory=dict)
    now: datetime = field(default_factory=timezone.now)
    # Documents are also counted as present when the caller is about to attach them (upload-in-place forms).
    extra_document_kinds: frozenset[str] = frozenset()
    facts: Facts | None = None

    @property
    def client(self) -> Client:
        return self.dossier.client

    @property
    def dispositif(self):
        return self.dossier.dispositif

    @property
    def solution(self):
        return self.dossier.solution

    @cached_property
    def document_kinds(self) -> frozenset[str]:
        if self.facts is not None:
            return self.facts.document_kinds | self.extra_document_kinds
        kinds = Document.objects.filter(dossier_id=self.dossier.pk).values_list("kind", flat=True).distinct()
        return frozenset(kinds) | self.extra_document_kinds

    @cached_property
    def has_validated_pv_pilote(self) -> bool:
        if self.facts is not None:
            return self.facts.has_validated_pv_pilote
        return PvPilote.objects.filter(solution_id=self.dossier.solution_id, status=PvPilote.Status.VALIDATED).exists()

    @cached_property
    def last_amendment(self) -> Amendment | None:
        if self.facts is not None:
            return self.facts.last_amendment
        return Amendment.objects.filter(dossier_id=self.dossier.pk).order_by("-filed_on", "-id").first()

    @cached_property
    def other_active_dossier(self) -> Dossier | None:
        if self.facts is not None:
            return self.facts.other_active_dossier
        return (
            Dossier.objects.filter(client_id=self.dossier.client_id, dispositif_id=self.dossier.dispositif_id)
            .exclude(pk=self.dossier.pk)
            .active()
            .only("id", "reference", "state")
            .first()
        )

    def reuse(self, known: Context | None) -> Context:
        """Take the facts `known` (an earlier context of the same dossier in the same transaction) has already read,
        so a transition's rules and its blocker refresh read each relation once. Documents counted as about to be
        attached are not facts: a context with some passes nothing on."""
        if known is not None and known.dossier.pk == self.dossier.pk and not known.extra_document_kinds:
            for name in FACT_NAMES:
                if name in known.__dict__ and name not in self.__dict__:
                    self.__dict__[name] = known.__dict__[name]
        return self

    def knowing_documents(self, documents: Iterable[Any] | None) -> Context:
        """Take the dossier's documents from rows the caller has already read (a page's prefetch), if it has."""
        if documents is not None:
            self.__dict__["document_kinds"] = frozenset(d.kind for d in documents) | self.extra_document_kinds
        return self

    def has_document(self, kind: str) -> bool:
        return kind in self.document_kinds

    def value(self, name: str) -> Any:
        """A payload value, else the dossier's own (a refile may leave the amount unchanged)."""
        if name in self.payload and self.payload[name] is not None:
            return self.payload[name]
        return getattr(self.dossier, name, None)


# The Context's lazily read relations (its cached properties), which `Context.reuse` passes on.
FACT_NAMES = ("document_kinds", "has_validated_pv_pilote", "last_amendment", "other_active_dossier")


@dataclass(frozen=True)
class Rule:
    code: str
    transitions: frozenset[str]
    severity: Severity
    faq_query: str
    check: Callable[[Context], str | None]
    title: Any   # lazy French label
    # Payload fields the check reads: when a checklist has none of them yet, the rule is "pending".
    needs: frozenset[str] = frozenset()
    # Whether the check judges what it can while its data is missing (the checklist then says "failed" rather
    # than "pending" when that part already fails).
    partial: bool = False


@dataclass(frozen=True)
class Failure:
    rule: str
    severity: Severity
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "severity": self.severity.value, "message": self.message}


CATALOGUE: dict[str, Rule] = {}


def rule(code: str, *, on: Iterable[str], severity: Severity = Severity.BLOCK, faq: str, title: str,
         needs: Iterable[str] = (), partial: bool = False,
         ) -> Callable[[Callable[[Context], str | None]], Callable[[Context], str | None]]:
    def register(check: Callable[[Context], str | None]) -> Callable[[Context], str | None]:
        if code in CATALOGUE:
            raise ValueError(f"Duplicate rule code {code}")
        CATALOGUE[code] = Rule(code, frozenset(on), severity, faq, check, title, frozenset(needs), partial)
        return check
    return register


def _paris_date(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def money(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:,.2f} €".replace(",", "\u202f").replace(".", ",")


# --- every transition that takes a date -------------------------------------------------------------------

# The date each transition records, in its payload.
STEP_DATE_FIELDS: dict[str, str] = {
    "sign_bdc": "signed_on", "file_avance": "filed_on", "request_avance_fix": "on", "refile_avance": "filed_on",
    "validate_avance": "on", "record_avance_payment": "paid_on", "mark_deployed": "deployed_on",
    "sign_va": "signed_on", "file_solde": "filed_on", "request_solde_fix": "on", "validate_solde": "on",
    "record_solde_payment": "paid_on", "request_cancellation": "requested_on", "confirm_cancellation": "on",
    "refuse_cancellation": "on", "record_recovery": "repaid_on",
}
# The dossier's record of each step's date; since every step is dated on or after the one before, the latest of
# them is the previous step's.
RECORDED_STEP_DATES = (
    "bdc_signed_on", "avance_filed_on", "avance_fix_requested_on", "avance_validated_on", "avance_paid_on",
    "deployed_on", "va_signed_on", "solde_filed_on", "solde_fix_requested_on", "solde_validated_on", "solde_paid_on",
    "cancellation_requested_on", "cancellation_refused_on", "recovery_issued_on", "recovered_on", "cancelled_on",
)


def previous_step(dossier: Dossier) -> tuple[date, str] | None:
    """The latest step date the dossier records, with the French name of that step."""
    dated = [(getattr(dossier, name), name) for name in RECORDED_STEP_DATES if getattr(dossier, name, None)]
    if not dated:
        return None
    on, name = max(dated)
    return on, str(Dossier._meta.get_field(name).verbose_name)


@rule("dates.chronology", on=set(STEP_DATE_FIELDS), title=_l("Dates des étapes dans l'ordre"),
      faq="après la signature du bon de commande annulation nouvelle demande date de fin de dépôt des demandes d'avance")
def dates_chronology(ctx: Context) -> str | None:
    # Before a date is typed (the pre-solde checklist), a step taken today is what can be judged.
    today = _paris_date(ctx.now)
    on = ctx.payload.get(STEP_DATE_FIELDS.get(ctx.transition, "")) or today
    if on > today:
        return _("La date indiquée (%(on)s) est dans le futur : une étape se date au plus tard aujourd'hui "
                 "(%(today)s).") % {"on": on.strftime("%d/%m/%Y"), "today": today.strftime("%d/%m/%Y")}
    previous = previous_step(ctx.dossier)
    if previous is not None and on < previous[0]:
        return _("La date indiquée (%(on)s) précède celle de l'étape précédente (%(step)s : %(previous)s) : les "
                 "étapes se suivent dans l'ordre.") % {
            "on": on.strftime("%d/%m/%Y"), "step": previous[1], "previous": previous[0].strftime("%d/%m/%Y")}
    return None


# --- sign_bdc -------------------------------------------------------------------------------------

@rule("client.identified", on={"sign_bdc"}, title=_l("Site du client identifié"),
      faq="site géographique identifié numéro FINESS géographique SIRET")
def client_identified(ctx: Context) -> str | None:
    client = ctx.client
    for value, check in ((client.finess_geo, validate_finess), (client.siret, validate_siret)):
        if value:
            try:
                check(value)
                return None
            except ValidationError:
                continue
    if client.finess_geo or client.siret:
        return _("Le FINESS géographique ou le SIRET du client « %(name)s » est invalide.") % {"name": client.name}
    return _("Le client « %(name)s » n'a ni FINESS géographique ni SIRET : le site n'est pas identifié.") % {
        "name": client.name}


@rule("bdc.document", on={"sign_bdc"}, title=_l("Bon de commande joint"),
      faq="bon de commande annexes accord explicite client final signature responsable")
def bdc_document(ctx: Context) -> str | None:
    if ctx.has_document(DocumentKind.BDC):
        return None
    return _("Joignez le bon de commande signé (PDF) avant d'enregistrer sa signature.")


@rule("bdc.signature_type", on={"sign_bdc"}, title=_l("Type de signature recevable"), needs={"signature_type"},
      faq="bon de commande signature manuscrite électronique certificats CPx Pro Santé Connect RGS eIDAS")
def bdc_signature_type(ctx: Context) -> str | None:
    value = ctx.payload.get("signature_type")
    if value in SignatureType.values:
        return None
    accepted = ", ".join(str(label) for label in SignatureType.labels)
    return _("Type de signature « %(value)s » non recevable ; sont acceptés : %(accepted)s.") % {
        "value": value or "", "accepted": accepted}


@rule("dispositif.single_active", on={"sign_bdc"}, title=_l("Une seule prestation par dispositif"),
      faq="une seule prestation Ségur financée par dispositif SONS annulation nouveau bon de commande")
def dispositif_single_active(ctx: Context) -> str | None:
    other = ctx.other_active_dossier
    if other is None:
        return None
    return _("Le client a déjà un dossier actif pour le dispositif %(dispositif)s (%(other)s, état « %(state)s ») : "
             "il doit être annulé avant qu'un nouveau bon de commande soit traité.") % {
        "dispositif": ctx.dispositif.code, "other": other.reference or f"#{other.pk}",
        "state": State(other.state).label}


PRE_REFERENCING_DAYS = 120


@rule("bdc.pre_referencing_window", on={"sign_bdc"}, severity=Severity.WARN, needs={"signed_on"},
      title=_l("Bon de commande signé avant référencement"),
      faq="bon de commande signé avant référencement dépôt des preuves délai")
def bdc_pre_referencing_window(ctx: Context) -> str | None:
    solution = ctx.solution
    if solution.referenced_on:
        return None
    signed_on = ctx.payload.get("signed_on")
    if solution.proofs_submitted_on is None:
        return _("La solution %(solution)s n'est pas référencée et ses preuves ne sont pas déposées : un bon de "
                 "commande n'est recevable que signé au plus %(days)d jours avant ce dépôt.") % {
            "solution": solution, "days": PRE_REFERENCING_DAYS}
    if signed_on is None or signed_on >= solution.proofs_submitted_on - timedelta(days=PRE_REFERENCING_DAYS):
        return None
    return _("Bon de commande signé le %(signed)s, plus de %(days)d jours avant le dépôt des preuves de la "
             "solution (%(proofs)s).") % {"signed": signed_on.strftime("%d/%m/%Y"), "days": PRE_REFERENCING_DAYS,
                                         "proofs": solution.proofs_submitted_on.strftime("%d/%m/%Y")}


# --- file_avance, refile_avance ------------------------------------------------------------------------

@rule("avance.solution_referenced", on={"file_avance"}, title=_l("Solution référencée Ségur"),
      faq="programme ne finance pas acquisition nouveau logiciel mise à jour référencé ségur ANS")
def avance_solution_referenced(ctx: Context) -> str | None:
    # Referenced on the filing date (DOMAIN.md §8); before a date is typed, a filing today is what can be judged.
    referenced_on = ctx.solution.referenced_on
    filed_on = ctx.payload.get("filed_on") or _paris_date(ctx.now)
    if referenced_on and referenced_on <= filed_on:
        return None
    if referenced_on:
        return _("La solution %(solution)s n'est référencée par l'ANS que depuis le %(referenced)s, après la date "
                 "de dépôt de l'avance (%(filed)s) : elle doit l'être à cette date.") % {
            "solution": ctx.solution, "referenced": referenced_on.strftime("%d/%m/%Y"),
            "filed": filed_on.strftime("%d/%m/%Y")}
    return _("La solution %(solution)s n'est pas encore référencée par l'ANS : l'avance ne peut pas être "
             "demandée.") % {"solution": ctx.solution}


@rule("avance.deadline", on={"file_avance", "refile_avance"}, title=_l("Date limite de dépôt de l'avance"),
      needs={"filed_on"}, faq="nouvelle demande respecter la date de fin de dépôt des demandes d'avance")
def avance_deadline(ctx: Context) -> str | None:
    deadline = ctx.dispositif.avance_deadline
    filed_on = ctx.payload.get("filed_on")
    if deadline is None or filed_on is None:
        return None
    last_day = _paris_date(deadline)
    # A date alone says nothing of the hour: on the last day itself, only a filing made now can be timed.
    if filed_on < last_day or (filed_on == last_day and (filed_on != _paris_date(ctx.now) or ctx.now < deadline)):
        return None
    return _("La date limite de dépôt des demandes d'avance du dispositif %(dispositif)s était le %(deadline)s.") % {
        "dispositif": ctx.dispositif.code,
        "deadline": timezone.localtime(deadline).strftime("%d/%m/%Y à %H:%M")}


@rule("avance.amount", on={"file_avance", "refile_avance"}, title=_l("Montant de l'avance"),
      needs={"declared_amount"}, faq="montant déclaré lors de l'avance dépôt du dossier plafond")
def avance_amount(ctx: Context) -> str | None:
    amount = ctx.value("declared_amount") if ctx.transition == "refile_avance" else ctx.payload.get("declared_amount")
    if amount is None:
        return _("Indiquez le montant déclaré de l'avance.")
    amount = Decimal(amount)
    if amount <= 0:
        return _("Le montant déclaré doit être positif (reçu : %(amount)s).") % {"amount": money(amount)}
    if amount.as_tuple().exponent < -2:
        return _("Le montant déclaré a plus de deux décimales.")
    ceiling = ctx.dispositif.ceiling_amount
    if ceiling is not None and amount > ceiling:
        return _("Le montant déclaré (%(amount)s) dépasse le plafond du dispositif %(dispositif)s (%(ceiling)s).") % {
            "amount": money(amount), "dispositif": ctx.dispositif.code, "ceiling": money(ceiling)}
    return None


# --- sign_va -----------------------------------------------------------------------------------------------

@rule("va.document", on={"sign_va"}, title=_l("VA signée jointe"),
      faq="demande de solde comprend JSON VA signée par son client")
def va_document(ctx: Context) -> str | None:
    if ctx.has_document(DocumentKind.VA):
        return None
    return _("Joignez la VA signée par le client (PDF) avant d'enregistrer sa signature.")


@rule("va.esms_prerequisites", on={"sign_va"}, title=_l("Prérequis ESMS avant la VA"),
      faq="amont signature VA prérequis ESMS contractualiser ANS cartes CPE certificats logiciels")
def va_esms_prerequisites(ctx: Context) -> str | None:
    client = ctx.client
    if not client.is_esms:
        return None
    missing = []
    if client.ans_contract_signed_on is None:
        missing.append(_("la date de signature du contrat avec l'ANS"))
    if client.cpe_cards not in Client.Prerequisite.values:
        missing.append(_("la commande des cartes CPE (ou « non nécessaire »)"))
    if client.software_certificates not in Client.Prerequisite.values:
        missing.append(_("la commande des certificats logiciels (ou « non nécessaire »)"))
    if not missing:
        return None
    return _("Prérequis ESMS manquants pour %(client)s : %(missing)s.") % {
        "client": client.name, "missing": ", ".join(str(m) for m in missing)}


def _mss_message(ctx: Context) -> str:
    return _("Le dispositif %(dispositif)s exige l'indicateur de déploiement MSS (cas 1 ou cas 2).") % {
        "dispositif": ctx.dispositif.code}


@rule("va.mss_deployment", on={"sign_va"}, title=_l("Indicateur de déploiement MSS"), needs={"mss_deployment"},
      faq="Dossier Usager Informatisé DUI médico-social MSS déploiement indicateur")
def va_mss_deployment(ctx: Context) -> str | None:
    if not ctx.dispositif.requires_mss_deployment or ctx.payload.get("mss_deployment") in ("cas_1", "cas_2"):
        return None
    return _mss_message(ctx)


# --- file_solde ----------------------------------------------------------------------------------------------

SOLDE = {"file_solde"}


@rule("solde.pv_pilote", on=SOLDE, title=_l("PV pilote validé"),
      faq="demandes de solde déposées après validation des PV pilotes")
def solde_pv_pilote(ctx: Context) -> str | None:
    if ctx.has_validated_pv_pilote:
        return None
    return _("Aucun PV pilote validé pour la solution %(solution)s : les soldes ne peuvent être déposés qu'après "
             "validation des PV pilotes.") % {"solution": ctx.solution}


@rule("solde.invoice_document", on=SOLDE, title=_l("Facture jointe"),
      faq="demande de solde comprend JSON VA signée facture")
def solde_invoice_document(ctx: Context) -> str | None:
    if ctx.has_document(DocumentKind.INVOICE):
        return None
    return _("Joignez la facture (PDF) à la demande de solde.")


def name_tokens(name: str) -> frozenset[str]:
    """Parts of a person's name, ignoring case, accents, ligatures, punctuation, word order and titles."""
    return frozenset(names.name_parts(name))


@rule("solde.invoice_matches_va_signer", on=SOLDE, title=_l("Facture au nom du signataire de la VA"),
      needs={"invoice_addressee"}, faq="concordance nom figurant sur la facture et signataire de la VA")
def solde_invoice_matches_va_signer(ctx: Context) -> str | None:
    addressee = ctx.payload.get("invoice_addressee") or ""
    signer = ctx.dossier.va_signer_name
    if names.names_match(addressee, signer):
        return None
    return _("La facture est adressée à « %(addressee)s » mais la VA a été signée par « %(signer)s » : les noms "
             "doivent concorder.") % {"addressee": addressee, "signer": signer}


@rule("solde.amount_within_avance", on=SOLDE, title=_l("Solde dans la limite de l'avance"), needs={"solde_amount"},
      faq="partie Prestation Segur reportée dans le JSON inférieure ou égale au montant déclaré lors de l'avance")
def solde_amount_within_avance(ctx: Context) -> str | None:
    amount = ctx.payload.get("solde_amount")
    declared = ctx.dossier.declared_amount
    if amount is not None and declared is not None and amount <= declared:
        return None
    return _("Le montant « Prestation Ségur » (%(amount)s) doit être inférieur ou égal au montant déclaré lors de "
             "l'avance, avenants compris (%(declared)s).") % {"amount": money(amount), "declared": money(declared)}


@rule("solde.invoice_full_amount", on=SOLDE, title=_l("Facture à 100 %"), needs={"invoice_total", "solde_amount"},
      faq="montant de la facture transmise correspondre au montant total 100%")
def solde_invoice_full_amount(ctx: Context) -> str | None:
    total, amount = ctx.payload.get("invoice_total"), ctx.payload.get("solde_amount")
    if total is not None and amount is not None and total >= amount:
        return None
    return _("La facture doit porter sur 100 %% du montant : son total (%(total)s) est inférieur au montant "
             "« Prestation Ségur » (%(amount)s).") % {"total": money(total), "amount": money(amount)}


@rule("solde.vat_exemption", on=SOLDE, title=_l("TVA ou exonération justifiée"), needs={"vat"}, partial=True,
      faq="client pas assujetti TVA applicable HT attestation de non-assujettissement")
def solde_vat_exemption(ctx: Context) -> str | None:
    vat = ctx.payload.get("vat")
    if ctx.client.vat_liable:
        if vat == "HT":
            return _("Le client est assujetti à la TVA : « TVA applicable » ne peut pas être « HT ».")
        return None
    problems = []
    # Before the rate is typed, the missing exemption certificate is already known (DOMAIN.md §8).
    if vat is not None and vat != "HT":
        problems.append(_("« TVA applicable » doit valoir « HT »"))
    if not ctx.has_document(DocumentKind.VAT_EXEMPTION):
        problems.append(_("joignez l'attestation de non-assujettissement délivrée par la DGFiP"))
    if not problems:
        return None
    return _("Client non assujetti à la TVA : %(problems)s.") % {"problems": " ; ".join(str(p) for p in problems)}


NO_VAT_DEPARTMENTS = frozenset({"973", "975", "976"})


def usual_vat_rate(department: str) -> Decimal | None:
    """Normal rate by territory (art. 294 CGI): none in Guyane, Mayotte and Saint-Pierre-et-Miquelon, 8.5 % in the
    other overseas departments."""
    if department in NO_VAT_DEPARTMENTS:
        return None
    if department in {"971", "972", "974"}:
        return Decimal("8.5")
    return Decimal("20")


@rule("solde.vat_rate", on=SOLDE, severity=Severity.WARN, title=_l("Taux de TVA habituel"), needs={"vat"},
      faq="taux normal de TVA en vigueur 20% métropole 8,5% outre-mer")
def solde_vat_rate(ctx: Context) -> str | None:
    vat = ctx.payload.get("vat")
    if vat in (None, "", "HT"):
        return None
    rate = Decimal(vat)
    usual = usual_vat_rate(ctx.client.department)
    if (usual is None and rate == 0) or rate == usual:
        return None
    if usual is None:
        return _("La TVA ne s'applique pas dans le département %(dep)s ; le taux indiqué est %(rate)s %%.") % {
            "dep": ctx.client.department, "rate": vat}
    return _("Le taux habituel dans le département %(dep)s est %(usual)s %% ; le taux indiqué est %(rate)s %%.") % {
        "dep": ctx.client.department, "usual": f"{usual.normalize()}".replace(".", ","), "rate": vat}


@rule("solde.two_invoices", on=SOLDE, title=_l("Deux factures : PDF unique et total"), needs={"invoice_count"},
      faq="seule facture globale deux factures document PDF unique montant récapitulatif")
def solde_two_invoices(ctx: Context) -> str | None:
    if ctx.payload.get("invoice_count") != 2:
        return None
    problems = []
    if not ctx.payload.get("invoices_in_single_pdf"):
        problems.append(_("les deux factures doivent être envoyées dans un PDF unique"))
    if ctx.payload.get("invoices_total") is None:
        problems.append(_("indiquez le montant récapitulatif total des deux factures"))
    if not problems:
        return None
    return _("Deux factures : %(problems)s.") % {"problems": " ; ".join(str(p) for p in problems)}


@rule("solde.two_invoices_marked", on=SOLDE, severity=Severity.WARN, title=_l("Factures marquées AVANCE / SOLDE"),
      needs={"invoice_count"}, faq="indiquer sur chacune des factures AVANCE ou SOLDE")
def solde_two_invoices_marked(ctx: Context) -> str | None:
    if ctx.payload.get("invoice_count") != 2 or ctx.payload.get("invoices_marked"):
        return None
    return _("Il est conseillé d'indiquer sur chaque facture s'il s'agit de l'AVANCE ou du SOLDE.")


@rule("solde.invoice_mentions", on=SOLDE, title=_l("Mentions obligatoires de la facture"),
      needs={"invoice_mentions_checked"},
      faq="éléments mentions obligatoires facture chapitre 12 SONS Modeles de documents")
def solde_invoice_mentions(ctx: Context) -> str | None:
    if ctx.payload.get("invoice_mentions_checked") is True:
        return None
    return _("Confirmez que la facture porte les mentions obligatoires (chapitre 12 du document des modèles SONS).")


@rule("solde.mss_deployment", on=SOLDE, title=_l("Indicateur MSS porté par la VA"),
      faq="Dossier Usager Informatisé DUI médico-social MSS déploiement indicateur solde")
def solde_mss_deployment(ctx: Context) -> str | None:
    if not ctx.dispositif.requires_mss_deployment or ctx.dossier.mss_deployment in ("cas_1", "cas_2"):
        return None
    return _mss_message(ctx)


@rule("solde.declared_finess", on=SOLDE, title=_l("Un seul FINESS déclaré"),
      faq="éditeur doit renseigner un seul FINESS juridique ou géographique contrôles a posteriori")
def solde_declared_finess(ctx: Context) -> str | None:
    # The solde JSON carries one FINESS, the one the dossier declares; the SIRET only for a site without FINESS.
    client = ctx.client
    if ctx.dossier.declared_finess == DeclaredFiness.LEGAL and not client.finess_legal:
        return _("Le dossier déclare le FINESS juridique, mais le client « %(name)s » n'en a pas : renseignez-le "
                 "ou déclarez le FINESS géographique.") % {"name": client.name}
    if ctx.dossier.declared_finess != DeclaredFiness.LEGAL and not (client.finess_geo or client.siret):
        return _("Le client « %(name)s » n'a ni FINESS géographique ni SIRET à déclarer.") % {"name": client.name}
    return None


@rule("solde.last_amendment_paid", on=SOLDE, title=_l("Dernier avenant payé"),
      faq="dernier avenant de l'avance payé")
def solde_last_amendment_paid(ctx: Context) -> str | None:
    amendment = ctx.last_amendment
    if amendment is None or amendment.status == Amendment.Status.PAID:
        return None
    return _("Le dernier avenant (déposé le %(on)s, %(amount)s) n'est pas encore payé.") % {
        "on": amendment.filed_on.strftime("%d/%m/%Y"), "amount": money(amendment.amount)}


# --- cancellation --------------------------------------------------------------------------------------------

@rule("cancel.honour_statement", on={"request_cancellation"}, title=_l("Attestation sur l'honneur"),
      faq="annuler demande de financement attestation sur l'honneur signée motivée")
def cancel_honour_statement(ctx: Context) -> str | None:
    if ctx.has_document(DocumentKind.HONOUR_STATEMENT):
        return None
    return _("Joignez une attestation sur l'honneur signée et motivée pour demander l'annulation.")


@rule("cancel.client_renunciation", on={"request_cancellation"}, title=_l("Renonciation du client"),
      needs={"reason"}, faq="annulation en accord avec le client attestation de renonciation du client")
def cancel_client_renunciation(ctx: Context) -> str | None:
    if ctx.payload.get("reason") != "client_agreement" or ctx.has_document(DocumentKind.CLIENT_RENUNCIATION):
        return None
    return _("Une annulation en accord avec le client exige son attestation de renonciation.")


# --- evaluation ------------------------------------------------------------------------------------------------

def rules_for(transition: str) -> list[Rule]:
    return [r for r in CATALOGUE.values() if transition in r.transitions]


def evaluate(ctx: Context) -> list[Failure]:
    """Every failing rule of the context's transition, blocks and warnings, in catalogue order."""
    failures = []
    for r in rules_for(ctx.transition):
        message = r.check(ctx)
        if message is not None:
            failures.append(Failure(r.code, r.severity, message))
    return failures


@dataclass(frozen=True)
class ChecklistItem:
    rule: Rule
    status: str            # "ok", "failed", or "pending" (its data is not typed yet)
    message: str


def checklist(ctx: Context) -> list[ChecklistItem]:
    """The pre-solde checklist: every file_solde rule against the dossier and whatever invoice data is known."""
    items = []
    for r in rules_for(ctx.transition):
        if r.needs and not all(ctx.payload.get(name) not in (None, "") for name in r.needs):
            # Data still untyped: pending, unless the part the rule can already judge fails (DOMAIN.md §8).
            message = r.check(ctx) if r.partial else None
            if message is None:
                items.append(ChecklistItem(r, "pending", _("À renseigner : %(what)s.") % {"what": r.title}))
            else:
                items.append(ChecklistItem(r, "failed", message))
            continue
        message = r.check(ctx)
        items.append(ChecklistItem(r, "ok" if message is None else "failed", message or str(r.title)))
    return items


STATE_RULE = "state.transition_not_allowed"


# The vendor's next move from each state; the other states wait on the ASP or are final.
NEXT_STEP: dict[str, str] = {
    State.DRAFT: "sign_bdc",
    State.BDC_SIGNED: "file_avance",
    State.AVANCE_TO_FIX: "refile_avance",
    State.DEPLOYED: "sign_va",
    State.VA_SIGNED: "file_solde",
    State.SOLDE_TO_FIX: "file_solde",
}


def next_step_blockers(dossier: Dossier, payload: dict[str, Any] | None = None,
                       known: Context | None = None) -> list[Failure]:
    """Blocking rules that already fail for the dossier's next step, before any payload is typed (reading again
    nothing `known`, the context of the change just made, has read)."""
    transition = NEXT_STEP.get(dossier.state)
    if transition is None:
        return []
    items = checklist(Context(dossier, transition, payload or {}).reuse(known))
    return [Failure(item.rule.code, item.rule.severity, item.message) for item in items
            if item.status == "failed" and item.rule.severity is Severity.BLOCK]
