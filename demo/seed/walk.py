"""The demo's showcase steps, run through the services as a person would: documents attached first, then the
transition with its payload, so each step's history row, blockers and deadlines are the services' own."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.management.base import CommandError

from dossiers import services
from dossiers.models import Amendment, Document, Dossier, SignatureType

from .data import BASE_AMOUNTS, DOCUMENTS, PEOPLE, SCENARIOS, Plan, money, vat_for, with_vat
from .pdf import pdf_upload


class Walk:
    """Runs a plan's steps on a dossier through the services (mixed into the demo builder)."""

    def attach(self, dossier: Dossier, kind: str, plan: Plan, by) -> None:
        title = str(dict(Document._meta.get_field("kind").choices)[kind])
        upload = pdf_upload(f"{kind}-{dossier.reference}.pdf", title, [
            f"Dossier : {dossier.reference}", f"Client : {plan.client.name}",
            f"Solution : {plan.solution}", f"Dispositif : {plan.solution.dispositif.code}"])
        services.add_document(dossier.pk, by=by, kind=kind, upload=upload)

    def declared_amount(self, plan: Plan) -> Decimal:
        """The avance declared: the couloir's typical amount ±20 %, within the dispositif's ceiling."""
        dispositif = plan.solution.dispositif
        base = Decimal(BASE_AMOUNTS.get(dispositif.couloir_id, 8000) * self.rng.uniform(0.8, 1.2))
        return money(min(base, dispositif.ceiling_amount or base))

    def payload(self, step: str, dossier: Dossier, plan: Plan, on: date) -> dict:
        client, dispositif = plan.client, plan.solution.dispositif
        signer = PEOPLE[(dossier.pk + 3) % len(PEOPLE)]
        if step == "sign_bdc":
            return {"signed_on": on, "signer_name": PEOPLE[dossier.pk % len(PEOPLE)],
                    "signature_type": SignatureType.values[dossier.pk % len(SignatureType.values)]}
        if step in ("file_avance", "refile_avance"):
            return {"filed_on": on, "declared_amount": self.declared_amount(plan),
                    "scenario": SCENARIOS[dossier.pk % len(SCENARIOS)]}
        if step in ("request_avance_fix", "request_solde_fix"):
            return {"on": on, "reason": "Pièce justificative illisible, à déposer de nouveau."}
        if step in ("validate_avance", "validate_solde", "confirm_cancellation"):
            return {"on": on}
        if step == "record_avance_payment":
            return {"paid_on": on, "amount": money(dossier.declared_amount * Decimal("0.3"))}
        if step == "mark_deployed":
            return {"deployed_on": on}
        if step == "sign_va":
            return {"signed_on": on, "signer_name": signer, "scenario": SCENARIOS[(dossier.pk + plan.variant) % 3],
                    "mss_deployment": ("cas_1", "cas_2")[dossier.pk % 2] if dispositif.requires_mss_deployment else ""}
        if step == "file_solde":
            first, last = dossier.va_signer_name.split(" ", 1)
            vat, solde = vat_for(client), dossier.declared_amount
            total = with_vat(solde, vat)
            payload = {"filed_on": on, "invoice_number": f"FA-{on.year}-{dossier.pk:05d}", "invoice_date": on,
                       "invoice_addressee": f"{('Mme', 'M.', 'Dr')[dossier.pk % 3]} {last.upper()} {first}",
                       "invoice_total": total, "solde_amount": solde, "vat": vat, "invoice_count": 1,
                       "invoice_mentions_checked": True}
            if plan.variant % 4 == 3:
                payload.update(invoice_count=2, invoices_in_single_pdf=True, invoices_total=total,
                               invoices_marked=True)
            return payload
        if step == "record_solde_payment":
            return {"paid_on": on, "amount": max(dossier.solde_amount - dossier.avance_paid_total, Decimal("0.00"))}
        if step == "request_cancellation":
            reason = "client_agreement" if plan.variant % 2 else "vendor_error"
            return {"requested_on": on, "reason": reason,
                    "motive": "Le client renonce à la prestation." if plan.variant % 2
                    else "Dossier créé en double par erreur."}
        if step == "record_recovery":
            return {"repaid_on": on, "amount": dossier.avance_paid_total}
        raise CommandError(f"Unknown step {step}")

    def amend(self, dossier: Dossier, step: str, on: date) -> None:
        """File the avance amendment, or move the last one on (validated, then paid)."""
        if step == "+amendment_filed":
            services.add_amendment(dossier.pk, by=self.manager, filed_on=on,
                                   amount=money(dossier.declared_amount * Decimal("1.15")))
            return
        amendment = dossier.amendments.order_by("-id").first()
        paid = step == "+amendment_paid"
        services.update_amendment(amendment.pk, by=self.admin, on=on,
                                  status=Amendment.Status.PAID if paid else Amendment.Status.VALIDATED,
                                  paid_amount=money(amendment.amount * Decimal("0.05")) if paid else None)

    def run_step(self, dossier: Dossier, step: str, plan: Plan, on: date) -> Dossier:
        """Attach the documents the step needs, then run it through the service; the dossier as saved."""
        kinds = list(DOCUMENTS.get(step, []))
        if step == "file_solde" and not plan.client.vat_liable and not dossier.documents.filter(
                kind="vat_exemption").exists():
            kinds.append("vat_exemption")
        if step == "request_cancellation" and plan.variant % 2:
            kinds.append("client_renunciation")
        for kind in kinds:
            self.attach(dossier, kind, plan, self.manager)
        by = self.admin if step.startswith(("validate", "record", "confirm")) else self.manager
        try:
            outcome = services.run_transition(dossier.pk, step, by=by, data=self.payload(step, dossier, plan, on))
        except services.RulesFailed as refused:
            raise CommandError(f"{dossier.reference} {step}: {refused.failures}")
        return outcome.dossier

    def walk(self, dossier: Dossier, plan: Plan, start: int) -> Dossier:
        """Run the plan's steps from `start` on; amendment pseudo-steps go through the amendment services."""
        for step, on in zip(plan.steps[start:], plan.dates[start:]):
            if step.startswith("+"):
                self.amend(dossier, step, on)
                dossier.refresh_from_db()   # the declared amount in force changed
            else:
                dossier = self.run_step(dossier, step, plan, on)
        return dossier
