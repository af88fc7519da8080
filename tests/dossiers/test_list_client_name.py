"""The client's name kept on the dossier (Dossier.client_name) by every writer: creation through the service, the
importer's bulk path, the benchmark generator, the migration for existing rows, and a client's rename; the list
sorts by it."""
import importlib
from io import StringIO

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection
from django.db.models import F

from dossiers import queries, services
from dossiers.models import Client, Dossier
from imports import importer
from imports.models import ImportJob

from ..factories import ClientFactory, SolutionFactory
from ..imports.conftest import csv_file, rows

pytestmark = pytest.mark.django_db
fill_migration = importlib.import_module("dossiers.migrations.0015_dossier_client_name_list_indexes")


@pytest.fixture
def three(organisation, manager):
    solution = SolutionFactory(organisation=organisation)
    clients = {name: ClientFactory(organisation=organisation, name=name)
               for name in ("Bérénice Santé", "Azur Clinique", "Centre Corail")}
    dossiers = {name: services.create_dossier(organisation=organisation, by=manager, client=client,
                                              solution=solution) for name, client in clients.items()}
    return clients, dossiers


def by_client(organisation_id: int, sort: str = "client") -> list[str]:
    return [d.client_name for d in queries.dossier_list(organisation_id, sort=sort)]


def test_creating_a_dossier_copies_its_clients_name(three):
    _clients, dossiers = three
    for name, dossier in dossiers.items():
        dossier.refresh_from_db()
        assert dossier.client_name == name


def test_renaming_a_client_renames_its_dossiers_and_they_re_sort(three, organisation, manager):
    clients, dossiers = three
    assert by_client(organisation.pk) == ["Azur Clinique", "Bérénice Santé", "Centre Corail"]
    assert by_client(organisation.pk, "-client") == ["Centre Corail", "Bérénice Santé", "Azur Clinique"]
    before = Dossier.objects.get(pk=dossiers["Azur Clinique"].pk).updated_at
    client = clients["Azur Clinique"]
    client.name = "Zénith Clinique"
    services.save_client(client, by=manager)
    assert by_client(organisation.pk) == ["Bérénice Santé", "Centre Corail", "Zénith Clinique"]
    renamed = Dossier.objects.get(pk=dossiers["Azur Clinique"].pk)
    assert renamed.client_name == "Zénith Clinique"
    assert renamed.updated_at == before            # the dossier itself did not change
    assert Dossier.objects.get(pk=dossiers["Centre Corail"].pk).client_name == "Centre Corail"


def test_a_refused_rename_leaves_the_dossiers_names(three, organisation, manager):
    clients, dossiers = three
    client = clients["Azur Clinique"]
    client.name = "Autre nom"
    client.finess_geo = clients["Centre Corail"].finess_geo        # the site of another client: refused
    with pytest.raises(services.InvalidInput):
        services.save_client(client, by=manager)
    assert Dossier.objects.get(pk=dossiers["Azur Clinique"].pk).client_name == "Azur Clinique"


def test_a_viewer_cannot_rename_a_client_nor_its_dossiers(three, viewer_membership):
    clients, dossiers = three
    client = clients["Azur Clinique"]
    client.name = "Par un lecteur"
    with pytest.raises(services.NotPermitted):
        services.save_client(client, by=viewer_membership.user)
    assert Dossier.objects.get(pk=dossiers["Azur Clinique"].pk).client_name == "Azur Clinique"


def test_the_importers_bulk_path_fills_the_name(organisation, manager):
    upload = csv_file(rows(5))
    job = ImportJob(organisation=organisation, user=manager, filename="f.csv", sha256="0" * 64, dry_run=False)
    job.file.save("f.csv", ContentFile(upload.read()), save=False)
    job.save()
    assert importer.execute(job.pk).created_dossiers == 5
    imported = Dossier.objects.filter(organisation=organisation)
    assert imported.count() == 5
    assert not imported.exclude(client_name=F("client__name")).exists()
    assert not imported.filter(client_name="").exists()


def test_the_migration_fills_the_existing_dossiers(three, organisation):
    Dossier.objects.update(client_name="")
    with connection.schema_editor() as editor:
        fill_migration.fill_client_name(apps, editor)
    assert sorted(Dossier.objects.values_list("client_name", flat=True)) == [
        "Azur Clinique", "Bérénice Santé", "Centre Corail"]
    assert not Dossier.objects.exclude(client_name=F("client__name")).exists()


@pytest.mark.slow
def test_the_generator_fills_the_name():
    call_command("generate_dossiers", count=120, organisations=2, seed=3, stdout=StringIO())
    assert Dossier.objects.count() == 120
    assert not Dossier.objects.exclude(client_name=F("client__name")).exists()
    assert Client.objects.exists()
