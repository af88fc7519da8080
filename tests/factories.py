"""Factories for every model, and `walk_to`, which brings a dossier to any state through the service."""
from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from dossiers import services
from dossiers.models import Client, Dispositif, Dossier, PvPilote, Solution, State
from organisations.models import ApiToken, Membership, Organisation, Role

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"

# Valid identifiers (Luhn-checked), handed out in turn so clients never collide.
_FINESS = itertools.count(100)
_SIRET = itertools.count(1)


def luhn_complete(body: str) -> str:
    from stdnum import luhn

    return body + luhn.calc_check_digit(body)


def next_finess(department: str = "75") -> str:
    return luhn_complete(f"{department}{next(_FINESS):06d}")


def next_siret() -> str:
    siren = luhn_complete(f"{next(_SIRET) + 10_000_000:08d}")
    return luhn_complete(f"{siren}{next(_SIRET) % 10_000:04d}")


def pdf_upload(name: str = "document.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Éditeur {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("segur-test-pw")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Role.MANAGER


def token_for(membership: Membership) -> str:
    return ApiToken.issue(membership)[1]


class SolutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Solution

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Logiciel {n}")
    version = "5.2"
    dispositif = factory.LazyFunction(lambda: Dispositif.objects.get(code="MDV-LGC-VA1"))
    proofs_submitted_on = date(2024, 1, 10)
    referenced_on = date(2024, 3, 1)


class PvPiloteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PvPilote

    solution = factory.SubFactory(SolutionFactory)
    signed_on = date(2024, 6, 1)
    status = PvPilote.Status.VALIDATED
    file = factory.django.FileField(filename="pv.pdf", data=PDF)
    filename = "pv.pdf"
    size = len(PDF)
    sha256 = "0" * 64


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Centre de santé {n}")
    kind = Client.Kind.PS
    finess_geo = factory.LazyFunction(next_finess)
    department = "75"
    vat_liable = True


class EsmsClientFactory(ClientFactory):
    kind = Client.Kind.ESMS
    ans_contract_signed_on = date(2024, 2, 1)
    cpe_cards = Client.Prerequisite.ORDERED
    software_certificates = Client.Prerequisite.NOT_NEEDED


def valid_payload(name: str, dossier: Dossier | None = None, **overrides: Any) -> dict[str, Any]:
    """A payload that passes every rule of `name` when the dossier's documents are in place."""
    signer = "Dr Jeanne Martin"
    payloads: dict[str, dict[str, Any]] = {
        "sign_bdc": {"signed_on": "2024-04-01", "signer_name": "Paul Durand", "signature_type": "handwritten"},
        "file_avance": {"filed_on": "2024-04-10", "declared_amount": "10000.00", "scenario": "Scénario 1"},
        "request_avance_fix": {"on": "2024-04-15", "reason": "Pièce illisible"},
        "refile_avance": {"filed_on": "2024-04-20"},
        "validate_avance": {"on": "2024-04-25"},
        "record_avance_payment": {"paid_on": "2024-05-02", "amount": "3000.00"},
        "mark_deployed": {"deployed_on": "2024-06-01"},
        "sign_va": {"signed_on": "2024-06-20", "signer_name": signer, "scenario": "Scénario 1"},
        "file_solde": {
            "filed_on": "2024-07-01", "invoice_number": "F-2024-001", "invoice_date": "2024-06-28",
            "invoice_addressee": "Mme Jeanne MARTIN", "invoice_total": "12000.00", "solde_amount": "10000.00",
            "vat": "20", "invoice_count": 1, "invoice_mentions_checked": True,
        },
        "request_solde_fix": {"on": "2024-07-05", "reason": "Facture sans mention"},
        "validate_solde": {"on": "2024-07-10"},
        "record_solde_payment": {"paid_on": "2024-07-20", "amount": "7000.00"},
        # After every other step's date: a cancellation may be requested from any state (dates.chronology).
        "request_cancellation": {"requested_on": "2024-08-01", "reason": "vendor_error", "motive": "Doublon"},
        "confirm_cancellation": {"on": "2024-08-05"},
        "refuse_cancellation": {"on": "2024-08-05", "reason": "Pièces incomplètes"},
        "record_recovery": {"repaid_on": "2024-08-20", "amount": "3000.00"},
    }
    payload = dict(payloads[name])
    if dossier is not None:
        if dossier.dispositif.requires_mss_deployment and name == "sign_va":
            payload["mss_deployment"] = "cas_1"
        if name == "file_solde" and not dossier.client.vat_liable:
            payload["vat"] = "HT"
        if name == "file_solde" and dossier.state == State.SOLDE_TO_FIX:
            payload["filed_on"] = "2024-07-06"  # after the ASP's request for a fix (dates.chronology)
        if name == "file_solde" and dossier.client.vat_liable and dossier.client.department in {"971", "972", "974"}:
            payload["vat"] = "8.5"
    payload.update(overrides)
    return payload


# The documents each transition needs, attached just before it runs.
DOCUMENTS_BEFORE = {
    "sign_bdc": ["bdc"],
    "sign_va": ["va"],
    "file_solde": ["invoice"],
    "request_cancellation": ["honour_statement"],
}

# The path from draft to each state.
_MAIN = ["sign_bdc", "file_avance", "validate_avance", "record_avance_payment", "mark_deployed", "sign_va",
         "file_solde", "validate_solde", "record_solde_payment"]
PATHS: dict[str, list[str]] = {
    State.DRAFT: [],
    State.BDC_SIGNED: _MAIN[:1],
    State.AVANCE_FILED: _MAIN[:2],
    State.AVANCE_TO_FIX: _MAIN[:2] + ["request_avance_fix"],
    State.AVANCE_VALIDATED: _MAIN[:3],
    State.AVANCE_PAID: _MAIN[:4],
    State.DEPLOYED: _MAIN[:5],
    State.VA_SIGNED: _MAIN[:6],
    State.SOLDE_FILED: _MAIN[:7],
    State.SOLDE_TO_FIX: _MAIN[:7] + ["request_solde_fix"],
    State.SOLDE_VALIDATED: _MAIN[:8],
    State.SOLDE_PAID: _MAIN[:9],
    State.CANCELLATION_REQUESTED: _MAIN[:1] + ["request_cancellation"],
    State.RECOVERY_ISSUED: _MAIN[:4] + ["request_cancellation", "confirm_cancellation"],
    State.CANCELLED: _MAIN[:1] + ["request_cancellation", "confirm_cancellation"],
}


def attach(dossier: Dossier, kind: str, by, name: str | None = None):
    return services.add_document(dossier.pk, by=by, kind=kind, upload=pdf_upload(name or f"{kind}.pdf"))


def walk_to(state: str, *, membership: Membership | None = None, dossier: Dossier | None = None,
            client: Client | None = None, solution: Solution | None = None) -> Dossier:
    """A complete dossier in `state`, reached through the service (history chained, documents attached)."""
    if dossier is None:
        membership = membership or MembershipFactory()
        organisation = membership.organisation
        solution = solution or SolutionFactory(organisation=organisation)
        client = client or ClientFactory(organisation=organisation)
        dossier = services.create_dossier(organisation=organisation, by=membership.user, client=client,
                                          solution=solution, scenario="Scénario 1")
    user = membership.user
    path = PATHS[state]
    if "file_solde" in path and not PvPilote.objects.filter(solution=dossier.solution, status="validated").exists():
        PvPiloteFactory(solution=dossier.solution)
    for name in path:
        for kind in DOCUMENTS_BEFORE.get(name, []):
            attach(dossier, kind, user)
        if name == "file_solde" and not dossier.client.vat_liable:
            attach(dossier, "vat_exemption", user)
        services.run_transition(dossier.pk, name, by=user, data=valid_payload(name, dossier))
        dossier.refresh_from_db()
    return dossier


def days_ago(n: int) -> date:
    from django.utils import timezone

    return timezone.localdate() - timedelta(days=n)


__all__ = [
    "PDF", "ClientFactory", "Decimal", "EsmsClientFactory", "MembershipFactory", "OrganisationFactory", "PATHS",
    "PvPiloteFactory", "SolutionFactory", "UserFactory", "attach", "days_ago", "next_finess", "next_siret",
    "pdf_upload", "token_for", "valid_payload", "walk_to",
]
