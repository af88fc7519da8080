"""A new dossier is its creator's when the creator is a member (issue 16 point 1 leftover): "Mes dossiers", a
manager's default list, then shows what they created; the importer's bulk path and platform staff leave no owner."""
from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from dossiers import services
from dossiers.models import Dossier
from imports import samples
from segurtrack.errors import NotPermitted

from ..factories import ClientFactory, SolutionFactory, UserFactory
from ..imports.conftest import rows

pytestmark = pytest.mark.django_db


def test_a_member_who_creates_a_dossier_owns_it(organisation, manager_membership, manager):
    dossier = services.create_dossier(organisation=organisation, by=manager, client=ClientFactory(
        organisation=organisation), solution=SolutionFactory(organisation=organisation))
    dossier.refresh_from_db()
    assert dossier.owner_id == manager_membership.pk


def test_platform_staff_outside_the_organisation_create_a_dossier_without_owner(organisation):
    staff = UserFactory(is_superuser=True, is_staff=True)
    dossier = services.create_dossier(organisation=organisation, by=staff, client=ClientFactory(
        organisation=organisation), solution=SolutionFactory(organisation=organisation))
    dossier.refresh_from_db()
    assert dossier.owner_id is None


def test_a_viewer_creates_nothing(organisation, viewer_membership):
    with pytest.raises(NotPermitted):
        services.create_dossier(organisation=organisation, by=viewer_membership.user, client=ClientFactory(
            organisation=organisation), solution=SolutionFactory(organisation=organisation))
    assert not Dossier.objects.exists()


def test_the_created_dossier_is_in_the_managers_own_list_at_once(organisation, manager_membership, as_manager):
    response = as_manager.post(reverse("dossier-create"), {
        "client": ClientFactory(organisation=organisation).pk,
        "solution": SolutionFactory(organisation=organisation).pk})
    assert response.status_code == 302
    created = Dossier.objects.get()
    listing = as_manager.get(reverse("dossier-list"))
    assert [d.pk for d in listing.context["page"].object_list] == [created.pk]
    assert 'aria-current="page">Mes dossiers' in listing.content.decode()


def test_a_viewer_posting_the_creation_form_gets_403_and_nothing_is_saved(organisation, as_viewer):
    response = as_viewer.post(reverse("dossier-create"), {
        "client": ClientFactory(organisation=organisation).pk,
        "solution": SolutionFactory(organisation=organisation).pk})
    assert response.status_code == 403 and not Dossier.objects.exists()


def test_the_importers_bulk_path_leaves_the_dossiers_without_owner(tmp_path, organisation, manager):
    path = tmp_path / "book.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        samples.write_csv(iter(rows(3)), handle)
    call_command("import_dossiers", str(path), "--commit", "--organisation", str(organisation.pk), "--user", "manon",
                 stdout=io.StringIO(), stderr=io.StringIO())
    assert Dossier.objects.count() == 3
    assert not Dossier.objects.filter(owner__isnull=False).exists()
