"""dossiers/api/serializers.dossier_data: the transition's answer from a serializer bound once per thread and
language is DossierSerializer(dossier).data, whatever the dossier, its state, the language and the time zone."""
from __future__ import annotations

import pytest
from django.utils import timezone, translation

from dossiers.api.serializers import DossierSerializer, dossier_data
from dossiers.models import Dossier, State

from ..factories import walk_to

pytestmark = pytest.mark.django_db


def read(pk: int) -> Dossier:
    return Dossier.objects.select_related("client", "solution", "dispositif").get(pk=pk)


@pytest.mark.parametrize("state", [State.DRAFT, State.AVANCE_FILED, State.SOLDE_PAID])
def test_the_answer_is_the_serializers_for_every_dossier(manager_membership, state):
    dossier = read(walk_to(state, membership=manager_membership).pk)
    assert list(dossier_data(dossier).items()) == list(DossierSerializer(dossier).data.items())


def test_a_second_dossier_gets_its_own_values_not_the_firsts(manager_membership):
    first = read(walk_to(State.DRAFT, membership=manager_membership).pk)
    second = read(walk_to(State.AVANCE_FILED, membership=manager_membership).pk)
    assert dossier_data(first)["id"] == first.pk
    data = dossier_data(second)
    assert data["id"] == second.pk and data["state"] == "avance_filed"
    assert data == dict(DossierSerializer(second).data)


def test_the_language_and_the_time_zone_of_the_request_are_followed(manager_membership):
    dossier = read(walk_to(State.AVANCE_FILED, membership=manager_membership).pk)
    with translation.override("fr"):
        french = dossier_data(dossier)
    with translation.override("en"):
        english = dossier_data(dossier)
        assert english == dict(DossierSerializer(dossier).data)
    with timezone.override("America/New_York"):
        assert dossier_data(dossier) == dict(DossierSerializer(dossier).data)
        assert dossier_data(dossier)["state_changed_at"] != french["state_changed_at"]
