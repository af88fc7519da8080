"""`Idempotency-Key` on transitions: a retry replays the first answer (200 or 409) without running anything."""
import pytest
from rest_framework.test import APIClient

from dossiers.models import IdempotencyRecord, State

from ..factories import MembershipFactory, attach, token_for, valid_payload, walk_to
from .conftest import post_transition

pytestmark = pytest.mark.django_db
KEY = {"Idempotency-Key": "7b1f0c2e-retry"}


def test_a_retry_replays_the_same_answer_without_a_second_history_row(api, manager_membership):
    dossier = walk_to(State.AVANCE_FILED, membership=manager_membership)
    first = post_transition(api, dossier, "validate_avance", valid_payload("validate_avance"), **KEY)
    history = dossier.history.count()
    retry = post_transition(api, dossier, "validate_avance", valid_payload("validate_avance"), **KEY)
    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert dossier.history.count() == history


def test_a_refusal_is_replayed_too_even_once_the_prerequisite_is_met(api, manager_membership):
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    refused = post_transition(api, dossier, "sign_bdc", valid_payload("sign_bdc"), **KEY)
    assert refused.status_code == 409
    attach(dossier, "bdc", manager_membership.user)
    retry = post_transition(api, dossier, "sign_bdc", valid_payload("sign_bdc"), **KEY)
    assert (retry.status_code, retry.json()) == (409, refused.json())
    dossier.refresh_from_db()
    assert dossier.state == State.DRAFT
    assert post_transition(api, dossier, "sign_bdc", valid_payload("sign_bdc"),
                           **{"Idempotency-Key": "another"}).status_code == 200


def test_one_key_for_a_different_request_is_refused(api, manager_membership):
    dossier = walk_to(State.AVANCE_FILED, membership=manager_membership)
    other = walk_to(State.AVANCE_FILED, membership=manager_membership)
    post_transition(api, dossier, "validate_avance", valid_payload("validate_avance"), **KEY)
    history = (dossier.history.count(), other.history.count())
    for target, payload in ((dossier, {"on": "2024-04-26"}), (other, valid_payload("validate_avance"))):
        response = post_transition(api, target, "validate_avance", payload, **KEY)
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["Idempotency-Key"]
    assert (dossier.history.count(), other.history.count()) == history
    other.refresh_from_db()
    assert other.state == State.AVANCE_FILED


def test_bad_input_is_not_stored_so_the_key_can_be_retried_with_a_correct_body(api, manager_membership):
    dossier = walk_to(State.AVANCE_FILED, membership=manager_membership)
    assert post_transition(api, dossier, "validate_avance", {"on": "hier"}, **KEY).status_code == 400
    assert not IdempotencyRecord.objects.exists()
    assert post_transition(api, dossier, "validate_avance", valid_payload("validate_avance"), **KEY).status_code == 200


def test_keys_belong_to_one_organisation(api, manager_membership, outsider_membership):
    ours = walk_to(State.AVANCE_FILED, membership=manager_membership)
    theirs_membership = MembershipFactory(organisation=outsider_membership.organisation)
    theirs = walk_to(State.AVANCE_FILED, membership=theirs_membership)
    their_api = APIClient()
    their_api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(theirs_membership)}")
    assert post_transition(api, ours, "validate_avance", valid_payload("validate_avance"), **KEY).status_code == 200
    assert post_transition(their_api, theirs, "validate_avance", valid_payload("validate_avance"),
                           **KEY).status_code == 200
    assert IdempotencyRecord.objects.count() == 2


def test_an_empty_or_overlong_key_is_refused(api, manager_membership):
    dossier = walk_to(State.AVANCE_FILED, membership=manager_membership)
    for key in ("  ", "k" * 256):
        response = post_transition(api, dossier, "validate_avance", valid_payload("validate_avance"),
                                   **{"Idempotency-Key": key})
        assert response.status_code == 400 and "Idempotency-Key" in response.json()["errors"]
    dossier.refresh_from_db()
    assert dossier.state == State.AVANCE_FILED
