"""A site is one client record per organisation (DOMAIN.md §8): service, API, page, migration and concurrency."""
import threading
from collections import Counter
from contextlib import nullcontext
from html import unescape

import pytest
from django.db import connection, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from dossiers import services
from dossiers.models import Client
from segurtrack.errors import InvalidInput
from dossiers.sites import duplicate_sites, refuse_duplicate_sites

from ..factories import ClientFactory, next_finess, next_siret, token_for
from ..pages.conftest import signed_in

pytestmark = pytest.mark.django_db


def new_client(organisation, **fields) -> Client:
    return Client(organisation=organisation, name=fields.pop("name", "Clinique du Parc"), kind="es",
                  department="75", **fields)


def test_a_second_client_with_the_same_finess_geo_is_refused_naming_the_first(manager, organisation):
    first = ClientFactory(organisation=organisation, name="Clinique des Lilas")
    with pytest.raises(InvalidInput) as refused:
        services.save_client(new_client(organisation, finess_geo=first.finess_geo), by=manager)
    assert list(refused.value.errors) == ["finess_geo"]
    message = refused.value.errors["finess_geo"][0]
    assert "déjà utilisé par le client « Clinique des Lilas »" in message and f"(n° {first.pk})" in message
    assert Client.objects.count() == 1


def test_a_second_client_with_the_same_siret_is_refused_and_spaced_input_is_compared_compacted(manager,
                                                                                                organisation):
    siret = next_siret()
    first = ClientFactory(organisation=organisation, finess_geo="", siret=siret)
    spaced = f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}"
    with pytest.raises(InvalidInput) as refused:
        services.save_client(new_client(organisation, siret=spaced), by=manager)
    assert list(refused.value.errors) == ["siret"] and f"(n° {first.pk})" in refused.value.errors["siret"][0]


def test_an_update_onto_another_clients_finess_is_refused_but_saving_a_client_unchanged_is_not(manager,
                                                                                                organisation):
    first, second = ClientFactory(organisation=organisation), ClientFactory(organisation=organisation)
    services.save_client(first, by=manager)  # its own FINESS is no conflict
    second.finess_geo = first.finess_geo
    with pytest.raises(InvalidInput):
        services.save_client(second, by=manager)
    assert Client.objects.get(pk=second.pk).finess_geo != first.finess_geo


def test_empty_identifiers_and_other_organisations_never_conflict(manager, organisation, other_organisation):
    ClientFactory(organisation=organisation, finess_geo="", siret=next_siret())
    services.save_client(new_client(organisation, siret=next_siret()), by=manager)  # both without FINESS géo
    foreign = ClientFactory(organisation=other_organisation)
    saved = services.save_client(new_client(organisation, finess_geo=foreign.finess_geo), by=manager)
    assert saved.pk and Client.objects.filter(finess_geo=foreign.finess_geo).count() == 2


def test_the_database_refuses_a_duplicate_site_whatever_the_writer(organisation):
    first = ClientFactory(organisation=organisation)
    with pytest.raises(Exception) as refused, transaction.atomic():
        ClientFactory(organisation=organisation, finess_geo=first.finess_geo)
    assert "client_unique_finess_geo" in str(refused.value)


# --- API ------------------------------------------------------------------------------------------------------------

def test_the_api_answers_400_naming_the_existing_client(api, organisation):
    first = ClientFactory(organisation=organisation, name="EHPAD Les Tilleuls")
    body = {"name": "EHPAD Tilleuls", "kind": "esms", "department": "75", "vat_liable": False,
            "finess_geo": first.finess_geo}
    response = api.post(reverse("api:client-list"), body, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["finess_geo"]
    assert f"« EHPAD Les Tilleuls » (n° {first.pk})" in response.json()["errors"]["finess_geo"][0]
    other = ClientFactory(organisation=organisation)
    response = api.patch(reverse("api:client-detail", args=[other.pk]), {"finess_geo": first.finess_geo},
                         format="json")
    assert response.status_code == 400 and "finess_geo" in response.json()["errors"]
    assert Client.objects.count() == 2
    assert api.post(reverse("api:client-list"), {**body, "finess_geo": next_finess()}, format="json").status_code == 201


# --- page -----------------------------------------------------------------------------------------------------------

def test_the_client_page_shows_the_duplicate_in_french(manager_membership, organisation):
    as_manager = signed_in(manager_membership)
    first = ClientFactory(organisation=organisation, name="Pharmacie du Centre")
    response = as_manager.post(reverse("client-create"), {
        "name": "Pharmacie Centre", "kind": "officine", "department": "75", "vat_liable": "on",
        "finess_geo": first.finess_geo, "siret": "", "finess_legal": ""})
    assert response.status_code == 400
    assert "déjà utilisé par le client « Pharmacie du Centre »" in unescape(response.content.decode())
    assert Client.objects.count() == 1


# --- migration ------------------------------------------------------------------------------------------------------

def test_the_migration_reports_existing_duplicates_and_refuses_to_add_the_constraints(organisation):
    first = ClientFactory(organisation=organisation, name="Site A")
    with transaction.atomic():
        # As before the migration: no constraint, two records of one site.
        with connection.schema_editor() as editor:
            for constraint in Client._meta.constraints:
                editor.remove_constraint(Client, constraint)
        twin = ClientFactory(organisation=organisation, name="Site A bis", finess_geo=first.finess_geo)
        report = duplicate_sites(Client)
        assert len(report) == 1
        assert f"« Site A » (n° {first.pk}), « Site A bis » (n° {twin.pk})" in report[0]
        with pytest.raises(RuntimeError) as refused:
            refuse_duplicate_sites(type("Apps", (), {"get_model": staticmethod(lambda *_: Client)}), None)
        assert first.finess_geo in str(refused.value) and "Site A bis" in str(refused.value)
        transaction.set_rollback(True)
    assert Client.objects.count() == 1 and duplicate_sites(Client) == []
    refuse_duplicate_sites(type("Apps", (), {"get_model": staticmethod(lambda *_: Client)}), None)  # none: passes


# --- concurrency (PostgreSQL: the unique index decides) -----------------------------------------------------------

@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_simultaneous_creations_of_one_site_give_one_201_and_one_400(manager_membership):
    key, finess = token_for(manager_membership), next_finess()
    barrier = threading.Barrier(2)
    one_at_a_time = threading.Lock() if connection.vendor == "sqlite" else nullcontext()
    answers, crashes = [], []

    def create(name: str) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        try:
            barrier.wait(timeout=30)
            with one_at_a_time:
                response = client.post(reverse("api:client-list"), {
                    "name": name, "kind": "es", "department": "75", "vat_liable": True, "finess_geo": finess},
                    format="json")
            answers.append((response.status_code, response.json()))
        except Exception as error:  # a 500 is re-raised in this thread
            crashes.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(name,)) for name in ("Site un", "Site deux")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not crashes and Counter(status for status, _ in answers) == {201: 1, 400: 1}, (crashes, answers)
    winner = Client.objects.get(finess_geo=finess)
    refused = next(body for status, body in answers if status == 400)
    assert f"« {winner.name} » (n° {winner.pk})" in refused["errors"]["finess_geo"][0]


def test_the_admin_refuses_a_duplicate_site_with_a_form_error(admin_client, organisation):
    first = ClientFactory(organisation=organisation)
    response = admin_client.post(reverse("admin:dossiers_client_add"), {
        "organisation": organisation.pk, "name": "Doublon", "kind": "es", "department": "75", "vat_liable": "on",
        "finess_geo": first.finess_geo, "finess_legal": "", "siret": "", "ans_contract_signed_on": "",
        "cpe_cards": "", "software_certificates": ""})
    assert response.status_code == 200
    assert "Ce FINESS géographique est déjà celui d'un autre client" in unescape(response.content.decode())
    assert Client.objects.count() == 1
