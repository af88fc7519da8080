"""The audit of what rules read (DOMAIN.md §8): who changed a client or a solution, when, before and after."""
from datetime import date
from html import unescape

import pytest
from django.urls import reverse

from dossiers import audit, services
from dossiers.models import AuditEntry, Client, PvPilote
from segurtrack.errors import InvalidInput, NotPermitted

from ..factories import ClientFactory, EsmsClientFactory, PvPiloteFactory, SolutionFactory, pdf_upload
from ..pages.conftest import signed_in

pytestmark = pytest.mark.django_db


def changes_of(entry: AuditEntry) -> dict:
    return {change["field"]: (change["before"], change["after"]) for change in entry.changes}


def test_a_client_created_then_changed_is_recorded_with_who_before_and_after(manager, organisation):
    client = services.save_client(Client(organisation=organisation, name="EHPAD Les Tilleuls", kind="esms",
                                         department="67", vat_liable=True), by=manager)
    client.vat_liable = False
    client.ans_contract_signed_on = date(2025, 3, 1)
    client.cpe_cards = "ordered"
    services.save_client(client, by=manager)
    created, updated = AuditEntry.objects.filter(client=client).order_by("id")
    assert (created.action, created.user, changes_of(created)["name"]) == ("created", manager,
                                                                           (None, "EHPAD Les Tilleuls"))
    assert (updated.action, updated.user, updated.organisation) == ("updated", manager, organisation)
    assert changes_of(updated) == {"vat_liable": (True, False), "ans_contract_signed_on": (None, "2025-03-01"),
                                   "cpe_cards": ("", "ordered")}


def test_saving_a_client_unchanged_records_nothing_and_a_refused_change_records_nothing(manager, viewer_membership,
                                                                                          organisation):
    client = ClientFactory(organisation=organisation)
    services.save_client(client, by=manager)
    client.siret = "12345678900000"  # a wrong Luhn key
    with pytest.raises(InvalidInput):
        services.save_client(client, by=manager)
    client.refresh_from_db()
    client.department = "68"
    with pytest.raises(NotPermitted):
        services.save_client(client, by=viewer_membership.user)
    assert not AuditEntry.objects.exists()


def test_a_solutions_referencing_dates_version_and_pv_pilotes_are_recorded(manager, organisation):
    solution = SolutionFactory(organisation=organisation, referenced_on=None)
    solution.referenced_on = date(2025, 2, 3)
    solution.version = "5.3"
    services.save_solution(solution, by=manager)
    pv = services.add_pv_pilote(solution, by=manager, signed_on=date(2025, 4, 1), status="pending",
                                upload=pdf_upload())
    services.set_pv_pilote_status(pv, by=manager, status="validated")
    services.set_pv_pilote_status(pv, by=manager, status="validated")  # no change: no row
    dates, added, validated = AuditEntry.objects.filter(solution=solution).order_by("id")
    assert changes_of(dates) == {"referenced_on": (None, "2025-02-03"), "version": ("5.2", "5.3")}
    assert (added.action, changes_of(added)) == ("pv_pilote_added", {"pv_pilote.status": (None, "pending")})
    assert (validated.action, changes_of(validated)) == ("pv_pilote_status",
                                                         {"pv_pilote.status": ("pending", "validated")})


def test_recorded_values_are_described_in_french(manager, organisation):
    client = EsmsClientFactory(organisation=organisation, vat_liable=True, cpe_cards="")
    client.vat_liable, client.cpe_cards, client.ans_contract_signed_on = False, "not_needed", date(2025, 3, 1)
    services.save_client(client, by=manager)
    described = {c["field"]: c for c in audit.describe(AuditEntry.objects.get(client=client))}
    assert (described["vat_liable"]["label"], described["vat_liable"]["before_display"],
            described["vat_liable"]["after_display"]) == ("Assujetti à la TVA", "Oui", "Non")
    assert (described["cpe_cards"]["before_display"], described["cpe_cards"]["after_display"]) == (
        "—", "Non nécessaire")
    assert described["ans_contract_signed_on"]["after_display"] == "1 mars 2025"


def test_the_api_lists_a_clients_and_a_solutions_history(api, outsider_api, manager, organisation):
    client = ClientFactory(organisation=organisation)
    assert api.patch(reverse("api:client-detail", args=[client.pk]), {"vat_liable": False},
                     format="json").status_code == 200
    history = api.get(reverse("api:client-history", args=[client.pk])).json()
    assert history["count"] == 1
    entry = history["results"][0]
    assert (entry["action"], entry["action_label"], entry["user"]) == ("updated", "Modification",
                                                                       manager.get_username())
    assert entry["changes"] == [{"field": "vat_liable", "label": "Assujetti à la TVA", "before": True, "after": False,
                                 "before_display": "Oui", "after_display": "Non"}]
    solution = SolutionFactory(organisation=organisation)
    api.patch(reverse("api:solution-detail", args=[solution.pk]), {"referenced_on": "2025-02-03"}, format="json")
    changes = api.get(reverse("api:solution-history", args=[solution.pk])).json()["results"][0]["changes"]
    assert [(c["field"], c["before"], c["after_display"]) for c in changes] == [
        ("referenced_on", "2024-03-01", "3 février 2025")]
    assert outsider_api.get(reverse("api:client-history", args=[client.pk])).status_code == 404
    assert outsider_api.get(reverse("api:solution-history", args=[solution.pk])).status_code == 404
    assert api.post(reverse("api:client-history", args=[client.pk]), {}, format="json").status_code == 405


def test_the_pages_show_the_audit_with_labels_and_french_dates(manager_membership, organisation):
    client = ClientFactory(organisation=organisation)
    client.ans_contract_signed_on = date(2025, 3, 1)
    services.save_client(client, by=manager_membership.user)
    solution = SolutionFactory(organisation=organisation)
    PvPiloteFactory(solution=solution)
    pv = PvPilote.objects.get(solution=solution)
    services.set_pv_pilote_status(pv, by=manager_membership.user, status="pending")
    browser = signed_in(manager_membership)
    page = unescape(browser.get(reverse("client-edit", args=[client.pk])).content.decode())
    journal = page[page.index('id="journal"'):]
    assert "Contrat ANS signé le" in journal and "1 mars 2025" in journal and "2025-03-01" not in journal
    assert manager_membership.user.get_username() in journal and "ans_contract_signed_on" not in journal
    page = unescape(browser.get(reverse("solution-detail", args=[solution.pk])).content.decode())
    journal = page[page.index('id="journal"'):]
    assert "Statut d'un PV pilote modifié" in journal and "Validé" in journal and "En attente" in journal
    assert "1 juin 2024" in journal  # the PV pilote's signature date names it
