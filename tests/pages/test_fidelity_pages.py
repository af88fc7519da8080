"""DOMAIN.md §8 on the pages: refusing a cancellation, repayments and what is still owed, the installation form,
the VA's scenario and the honest checklist."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dossiers import services
from dossiers.models import Dossier, HistoryEntry, State

from ..factories import ClientFactory, PvPiloteFactory, attach, valid_payload, walk_to
from .test_dossier_pages import text, transition_url

pytestmark = pytest.mark.django_db


def test_a_refused_cancellation_is_recorded_from_the_dossier_page(dossier_at, as_manager):
    dossier = dossier_at(State.CANCELLATION_REQUESTED)
    page = text(as_manager.get(reverse("dossier-detail", args=[dossier.pk])))
    assert "Annulation refusée par l'ASP" in page
    response = as_manager.post(transition_url(dossier, "refuse_cancellation"), {
        "refuse_cancellation-on": "2024-08-06", "refuse_cancellation-reason": "Pièces manquantes"}, follow=True)
    page = text(response)
    assert "le dossier est maintenant « BDC signé »" in page
    assert "Refusée par l'ASP le" in page and "6 août 2024" in page and "Pièces manquantes" in page
    dossier.refresh_from_db()
    assert (dossier.state, dossier.cancellation_refusal_reason) == (State.BDC_SIGNED, "Pièces manquantes")


def test_a_refusal_without_a_reason_or_out_of_order_says_why_in_french(dossier_at, as_manager):
    dossier = dossier_at(State.CANCELLATION_REQUESTED)
    history = HistoryEntry.objects.count()
    missing = as_manager.post(transition_url(dossier, "refuse_cancellation"), {"refuse_cancellation-on": "2024-08-06"})
    assert missing.status_code == 400 and "Ce champ est obligatoire." in text(missing)
    early = as_manager.post(transition_url(dossier, "refuse_cancellation"), {
        "refuse_cancellation-on": "2024-07-01", "refuse_cancellation-reason": "Trop tôt"})
    assert early.status_code == 409 and "précède celle de l'étape précédente" in text(early)
    assert (Dossier.objects.get(pk=dossier.pk).state, HistoryEntry.objects.count()) == (
        State.CANCELLATION_REQUESTED, history)


def test_a_repayment_leaves_the_outstanding_amount_on_the_page_and_in_the_deadlines(dossier_at, as_manager):
    dossier = dossier_at(State.RECOVERY_ISSUED)
    as_manager.post(transition_url(dossier, "record_recovery"), {
        "record_recovery-repaid_on": "2024-08-20", "record_recovery-amount": "1000,00"})
    dossier.refresh_from_db()
    assert dossier.state == State.RECOVERY_ISSUED
    page = text(as_manager.get(reverse("dossier-detail", args=[dossier.pk])))
    assert "Reste dû" in page and "2 000,00 €" in page.replace("\u202f", " ")
    assert 'value="2000.00"' in page  # the next repayment form offers what is still owed
    deadlines = text(as_manager.get(reverse("deadlines"))).replace("\u202f", " ")
    assert "Reste dû : 2 000,00 €" in deadlines
    too_much = as_manager.post(transition_url(dossier, "record_recovery"), {
        "record_recovery-repaid_on": "2024-08-21", "record_recovery-amount": "2000.01"})
    assert too_much.status_code == 400 and "dépasse ce qui reste dû" in text(too_much)


def test_the_installation_is_recorded_from_the_dossier_page(dossier_at, as_manager):
    dossier = dossier_at(State.VA_SIGNED)
    page = text(as_manager.get(reverse("dossier-detail", args=[dossier.pk])))
    assert "Scénario de la VA" in page and "FINESS géographique" in page
    response = as_manager.post(reverse("dossier-settings", args=[dossier.pk]), {
        "declared_finess": "legal", "installed_version": "5.3", "maintenance_contract": "on"}, follow=True)
    assert "Installation enregistrée." in text(response)
    dossier.refresh_from_db()
    assert (dossier.declared_finess, dossier.installed_version, dossier.maintenance_contract) == ("legal", "5.3", True)
    bad = as_manager.post(reverse("dossier-settings", args=[dossier.pk]), {
        "declared_finess": "siret", "installed_version": "x" * 61})
    assert bad.status_code == 400
    assert "Sélectionnez un choix valide" in text(bad) and "au plus 60 caractères" in text(bad)
    dossier.refresh_from_db()
    assert dossier.installed_version == "5.3"


def test_the_checklist_page_fails_the_missing_vat_certificate_before_any_invoice_data(manager_membership, as_manager):
    client = ClientFactory(organisation=manager_membership.organisation, vat_liable=False)
    dossier = walk_to(State.VA_SIGNED, membership=manager_membership, client=client)
    PvPiloteFactory(solution=dossier.solution)
    attach(dossier, "invoice", manager_membership.user)
    response = as_manager.get(reverse("dossier-solde", args=[dossier.pk]))
    failed = {row["item"].rule: row["item"].status for row in response.context["rows"]}
    assert failed["solde.vat_exemption"] == "failed" and response.context["ready"] is False
    assert "attestation de non-assujettissement" in text(response)


def test_a_future_filing_date_is_refused_on_the_solde_page(manager_membership, as_manager):
    dossier = walk_to(State.VA_SIGNED, membership=manager_membership)
    PvPiloteFactory(solution=dossier.solution)
    attach(dossier, "invoice", manager_membership.user)
    draft = valid_payload("file_solde", dossier)
    draft.pop("filed_on")
    services.update_dossier(dossier.pk, by=manager_membership.user, changes={"solde_draft": draft})
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = as_manager.post(reverse("dossier-solde-file", args=[dossier.pk]), {"filing-filed_on": tomorrow})
    assert response.status_code == 409
    assert "dates.chronology" in text(response) and "dans le futur" in text(response)
    assert Dossier.objects.get(pk=dossier.pk).state == State.VA_SIGNED
    today = timezone.localdate().isoformat()
    as_manager.post(reverse("dossier-solde-file", args=[dossier.pk]), {"filing-filed_on": today})
    assert Dossier.objects.get(pk=dossier.pk).state == State.SOLDE_FILED
