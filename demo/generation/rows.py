"""The rows of a planned batch: clients, documents, and each dossier realised step by step with its history."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.core.management.base import CommandError

from dossiers.anchors import anchor
from dossiers.business_days import correction_due_on
from dossiers.rules import PRE_REFERENCING_DAYS

from .bulk import chain_hash, data_json
from .plans import DOSSIER_DEFAULTS, ClientDraft, Plan, dossier_row
from .vocabulary import (
    CLIENT_NAMES, FILINGS, FIRST, FIX_REASONS, LAST, MOTIVES, SAINTS, SCENARIOS, SIGNATURES, TITLES, cents,
    weighted, with_luhn,
)


class Rows:
    """The row builders of Generator (one batch's state: rng, now, mornings, amendment rows)."""

    def client_row(self, client: ClientDraft) -> tuple:
        # Identifiers from the reserved row id: unique per site across batches, workers and repeated runs
        # (DOMAIN.md §8: one FINESS géographique, one SIRET per client of an organisation).
        rng, n, dep = self.rng, client.id, client.department
        digits = f"{(n * 7919 + 12345) % 1_000_000:06d}"
        if dep in ("2A", "2B"):
            finess = f"{dep}{digits}{n % 10}"        # no published key rule for Corsica: format only
        elif len(dep) == 3:
            finess = with_luhn(f"97{dep[2]}{digits[1:]}")
        else:
            finess = with_luhn(f"{dep}{digits}")
        siren = f"{10_000_000 + (n * 104_729) % 89_999_999:08d}"
        siren = with_luhn("10000001" if siren == "35600000" else siren)   # La Poste's SIREN has its own rule
        siret = with_luhn(f"{siren}{n % 9999 + 1:04d}")
        kind = client.kind
        if kind == "ps":
            finess_geo, siret = ("", siret) if rng.random() < 0.7 else (finess, siret)
        else:
            finess_geo, siret = finess, (siret if rng.random() < 0.3 else "")
        if n >= (100_000 if len(dep) == 3 else 1_000_000):
            # A FINESS has six free digits (five overseas): beyond them the site is identified by its SIRET alone.
            finess_geo, siret = "", with_luhn(f"{siren}{n % 9999 + 1:04d}")
        finess_legal = ""
        if kind in ("es", "esms") and rng.random() < 0.5 and len(dep) == 2 and dep not in ("2A", "2B"):
            finess_legal = with_luhn(f"{dep}{(n * 31 + 777) % 1_000_000:06d}")
        template = rng.choice(CLIENT_NAMES.get(client.couloir, ["Structure de santé de {city}"]))
        name = template.format(city=client.city, saint=rng.choice(SAINTS), last=rng.choice(LAST))
        client.name = name                           # each dossier row carries it (Dossier.client_name)
        created = client.first_event - timedelta(days=rng.randint(0, 60), seconds=rng.randrange(86_400))
        contract = cpe = certificates = None
        if kind == "esms":
            contract = created.date() - timedelta(days=rng.randint(0, 200))
            cpe = rng.choice(["ordered", "not_needed"])
            certificates = rng.choice(["ordered", "not_needed"])
            if not client.esms_ready:
                missing = rng.randrange(3)
                contract = None if missing == 0 else contract
                cpe = None if missing == 1 else cpe
                certificates = None if missing == 2 else certificates
        return (client.id, client.org.id, name, kind, finess_geo, finess_legal, siret, dep, client.vat_liable,
                contract, cpe or "", certificates or "", created)

    def document_rows(self, plans: list[Plan]):
        """Metadata only: `file` names a path that does not exist on disk and sha256 is random. Benchmark data
        never downloads a file; the application would answer 404 for one."""
        rng = self.rng
        before = {"bdc": "sign_bdc", "va": "sign_va", "invoice": "file_solde", "vat_exemption": "file_solde",
                  "honour_statement": "request_cancellation", "client_renunciation": "request_cancellation"}
        for plan in plans:
            moments = plan.moments
            for kind in sorted(plan.documents):
                step = before.get(kind)
                if step in plan.steps:
                    i = plan.steps.index(step) + 1
                    start, end = moments[i - 1], moments[i]       # uploaded between the event before and the step
                else:
                    start, end = moments[-1], self.now             # uploaded ahead of a step still to come
                uploaded = start + (end - start) * rng.random()
                yield (plan.org.id, plan.id, kind, f"org{plan.org.id}/dossier{plan.id}/{rng.getrandbits(128):032x}.pdf",
                       f"{kind}-SEG-{plan.id:06d}.pdf", "application/pdf", rng.randint(30_000, 2_500_000),
                       f"{rng.getrandbits(256):064x}", plan.org.manager_id, uploaded)

    def history(self, plans: list[Plan]):
        """Every dossier's rows, chained; the dossier row (with its chain's head) is kept on the plan."""
        self.amendment_rows: list[tuple] = []
        for plan in plans:
            yield from self.realise(plan)

    def realise(self, plan: Plan):
        """Apply the plan's steps as the model's transition methods would, yielding one history row per event."""
        rng, dispositif, client = self.rng, plan.dispositif, plan.client
        d = dict(DOSSIER_DEFAULTS)
        reference = f"SEG-{plan.id:06d}"
        scenario = rng.choice(SCENARIOS)
        d.update(id=plan.id, organisation_id=plan.org.id, client_id=client.id, client_name=client.name,
                 solution_id=plan.solution.id,
                 dispositif_id=dispositif.id, reference=reference, scenario=scenario, created_at=plan.moments[0])
        user_id, username = plan.org.manager_id, plan.org.manager_username
        seq, prev = 0, ""
        events = [("create", {"client": client.id, "solution": plan.solution.id, "scenario": scenario,
                              "reference": reference})] + [(s, None) for s in plan.steps]
        amendment: list = []
        for (action, data), at, day in zip(events, plan.moments, plan.days):
            from_state = d["state"] if seq else ""
            if data is None:
                action, data = self.apply(plan, d, action, day, amendment)
            if not action.startswith(("file_amendment", "amendment_")) and seq:
                d["state_changed_at"] = at
            seq += 1
            payload = data_json(data)
            digest = chain_hash(dossier_id=plan.id, seq=seq, at=at, username=username, action=action,
                                from_state=from_state, to_state=d["state"], data=payload, prev_hash=prev)
            yield (plan.id, seq, at, user_id, username, action, from_state, d["state"], payload, prev, digest)
            prev = digest
        if d["state"] != plan.state:
            raise CommandError(f"SEG-{plan.id:06d}: {d['state']} instead of {plan.state} after {plan.steps}")
        if amendment:
            self.amendment_rows.append(tuple(amendment))
        d.update(history_seq=seq, history_hash=prev, history_anchor=anchor(plan.id, seq, prev),
                 updated_at=plan.moments[-1], solde_draft="{}")
        plan.row = dossier_row(d)

    def apply(self, plan: Plan, d: dict, step: str, on: date, amendment: list) -> tuple[str, dict]:
        """One step on the dossier's fields (mirrors Dossier's transition methods); returns (action, data)."""
        rng = self.rng
        iso = on.isoformat()
        state = d["state"]
        if step.startswith("+"):
            return self.apply_amendment(plan, d, step, on, amendment)
        if step == "sign_bdc":
            signer = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            data = {"signed_on": iso, "signer_name": signer, "signature_type": weighted(rng, SIGNATURES)}
            solution = plan.solution
            if not solution.referenced and (solution.proofs_submitted_on is None or on < (
                    solution.proofs_submitted_on - timedelta(days=PRE_REFERENCING_DAYS))):
                data["warnings"] = ["bdc.pre_referencing_window"]
            d.update(bdc_signed_on=on, bdc_signer_name=signer, bdc_signature_type=data["signature_type"],
                     state="bdc_signed")
        elif step in FILINGS:
            data = {"filed_on": iso}
            if step == "file_avance" or rng.random() < 0.5:
                dispositif = plan.dispositif
                high = min(dispositif.high, dispositif.ceiling_cents or dispositif.high)
                amount = cents(rng.randint(min(dispositif.low, high), high) if step == "file_avance" else
                               int(d["declared_amount"] * 100 * Decimal(rng.uniform(0.85, 1.0))))
                data["declared_amount"] = str(amount)
                d["avance_declared_amount"] = d["declared_amount"] = amount
            if rng.random() < 0.7:
                data["scenario"] = d["scenario"] = rng.choice(SCENARIOS)
            d.update(avance_filed_on=on, state="avance_filed")
        elif step in ("request_avance_fix", "request_solde_fix"):
            data = {"on": iso, "reason": rng.choice(FIX_REASONS)}
            prefix = step[len("request_"):-len("_fix")]
            d.update({f"{prefix}_fix_requested_on": on, f"{prefix}_fix_reason": data["reason"],
                      "state": f"{prefix}_to_fix"})
            # As the transition records it: due in jours ouvrés of the client's department.
            d[f"{prefix}_fix_due_on"] = correction_due_on(on, department=plan.client.department)
        elif step in ("validate_avance", "validate_solde"):
            data = {"on": iso}
            prefix = step[len("validate_"):]
            d.update({f"{prefix}_validated_on": on, "state": f"{prefix}_validated"})
        elif step == "record_avance_payment":
            amount = cents(round(d["declared_amount"] * 30))          # 30 % of the declared amount
            data = {"paid_on": iso, "amount": str(amount)}
            d.update(avance_paid_on=on, avance_paid_amount=amount, avance_paid_total=d["avance_paid_total"] + amount,
                     state="avance_paid")
        elif step == "mark_deployed":
            data = {"deployed_on": iso}
            d.update(deployed_on=on, state="deployed")
        elif step == "sign_va":
            signer = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            data = {"signed_on": iso, "signer_name": signer, "scenario": rng.choice(SCENARIOS)}
            if plan.dispositif.mss:
                data["mss_deployment"] = rng.choice(["cas_1", "cas_2"])
            d.update(va_signed_on=on, va_signer_name=signer, scenario=data["scenario"], va_scenario=data["scenario"],
                     mss_deployment=data.get("mss_deployment", ""), state="va_signed")
        elif step == "file_solde":
            data = self.solde_payload(plan, d, on)
            d.update(solde_filed_on=on, invoice_number=data["invoice_number"], invoice_date=date.fromisoformat(
                data["invoice_date"]), invoice_addressee=data["invoice_addressee"],
                invoice_total=Decimal(data["invoice_total"]), solde_amount=Decimal(data["solde_amount"]),
                vat=data["vat"], invoice_count=data["invoice_count"], invoice_mentions_checked=True,
                state="solde_filed",
                invoices_in_single_pdf=data["invoices_in_single_pdf"] if data["invoice_count"] == 2 else None,
                invoices_total=Decimal(data["invoices_total"]) if data["invoice_count"] == 2 else None)
        elif step == "record_solde_payment":
            amount = max(d["solde_amount"] - d["avance_paid_total"], Decimal("0.00"))
            data = {"paid_on": iso, "amount": str(amount)}
            d.update(solde_paid_on=on, solde_paid_amount=amount, state="solde_paid")
        elif step == "request_cancellation":
            reason = "client_agreement" if rng.random() < 0.4 else "vendor_error"
            data = {"requested_on": iso, "reason": reason, "motive": rng.choice(MOTIVES[reason])}
            if reason == "client_agreement":
                plan.documents.add("client_renunciation")
            d.update(cancellation_from_state=state, cancellation_requested_on=on, cancellation_reason=reason,
                     cancellation_motive=data["motive"], state="cancellation_requested")
        elif step == "confirm_cancellation":
            data = {"on": iso}
            if d["avance_paid_total"] > 0:    # SEED-0: an avance received is to be repaid
                d.update(recovery_issued_on=on, state="recovery_issued")
            else:
                d.update(cancelled_on=on, state="cancelled")
        elif step == "record_recovery":
            data = {"repaid_on": iso, "amount": str(d["avance_paid_total"])}
            d.update(recovered_on=on, recovered_amount=d["avance_paid_total"], recovery_repaid=d["avance_paid_total"],
                     cancelled_on=on, state="cancelled")
        else:
            raise CommandError(f"Unknown step {step}")
        return step, data

    def solde_payload(self, plan: Plan, d: dict, on: date) -> dict:
        """The invoice of a solde: addressed to the VA signer, within the avance declared, at the usual VAT."""
        rng, client = self.rng, plan.client
        first, last = d["va_signer_name"].split(" ", 1)
        addressee = f"{rng.choice(TITLES)} {last.upper()} {first}".strip()
        declared = d["declared_amount"]
        amount = declared if rng.random() < 0.8 else cents(int(declared * 100 * Decimal(rng.uniform(0.85, 1.0))))
        if not client.vat_liable:
            vat = "HT"
        else:
            vat = {"971": "8.5", "972": "8.5", "974": "8.5", "973": "0", "976": "0"}.get(client.department, "20")
        total = amount if vat == "HT" else cents(round(amount * (100 + Decimal(vat))))
        invoice_date = max(on - timedelta(days=rng.randint(0, 10)), d["va_signed_on"])
        data = {"filed_on": on.isoformat(), "invoice_number": f"FA-{invoice_date.year}-{plan.id:07d}",
                "invoice_date": invoice_date.isoformat(), "invoice_addressee": addressee, "invoice_total": str(total),
                "solde_amount": str(amount), "vat": vat, "invoice_count": 1, "invoices_in_single_pdf": None,
                "invoices_marked": False, "invoice_mentions_checked": True}
        if rng.random() < 0.1:
            data.update(invoice_count=2, invoices_in_single_pdf=True, invoices_total=str(total), invoices_marked=True)
        return data

    def apply_amendment(self, plan: Plan, d: dict, step: str, on: date, amendment: list) -> tuple[str, dict]:
        """services.add_amendment / update_amendment: the amounts in force recomputed from the amendment."""
        iso = on.isoformat()
        if step == "+amendment_filed":
            amount = cents(int(d["declared_amount"] * 100 * Decimal(self.rng.uniform(1.05, 1.25))))
            # id, dossier, filed_on, amount, status, validated_on, paid_on, paid_amount, created_at
            amendment[:] = [plan.amendment_id, plan.id, on, amount, "filed", None, None, None,
                            plan.moments[plan.steps.index(step) + 1]]
            self.amendment_previous = d["declared_amount"]
            d["declared_amount"] = amount
            return "file_amendment", {"amendment": plan.amendment_id, "filed_on": iso, "amount": str(amount)}
        if step == "+amendment_validated":
            amendment[4:6] = ["validated", on]
            return "amendment_validated", {"amendment": plan.amendment_id, "on": iso, "paid_amount": None}
        paid = cents(round((amendment[3] - self.amendment_previous) * 30))
        amendment[4], amendment[6], amendment[7] = "paid", on, paid
        d["avance_paid_total"] = (d["avance_paid_amount"] or Decimal("0.00")) + paid
        return "amendment_paid", {"amendment": plan.amendment_id, "on": iso, "paid_amount": str(paid)}

