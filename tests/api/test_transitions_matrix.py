"""The state machine through the API: each transition from each source state of DOMAIN.md §4 answers 200 with
the target state; from every other state, 409 `state.transition_not_allowed` and nothing saved."""
import pytest

from dossiers.models import PvPilote, State
from dossiers.payloads import TRANSITIONS

from ..factories import DOCUMENTS_BEFORE, PvPiloteFactory, attach, valid_payload, walk_to
from .conftest import post_transition

pytestmark = pytest.mark.django_db

CANCELLABLE = [State.BDC_SIGNED, State.AVANCE_FILED, State.AVANCE_TO_FIX, State.AVANCE_VALIDATED, State.AVANCE_PAID,
               State.DEPLOYED, State.VA_SIGNED, State.SOLDE_FILED, State.SOLDE_TO_FIX]

# (transition, source) -> target, as DOMAIN.md §4 and §8 state it. walk_to reaches cancellation_requested from
# bdc_signed, with no avance paid: its confirmation ends cancelled (the paid case is recovery_issued, below).
ALLOWED = {
    ("sign_bdc", State.DRAFT): State.BDC_SIGNED,
    ("file_avance", State.BDC_SIGNED): State.AVANCE_FILED,
    ("request_avance_fix", State.AVANCE_FILED): State.AVANCE_TO_FIX,
    ("refile_avance", State.AVANCE_TO_FIX): State.AVANCE_FILED,
    ("validate_avance", State.AVANCE_FILED): State.AVANCE_VALIDATED,
    ("record_avance_payment", State.AVANCE_VALIDATED): State.AVANCE_PAID,
    ("mark_deployed", State.AVANCE_VALIDATED): State.DEPLOYED,
    ("mark_deployed", State.AVANCE_PAID): State.DEPLOYED,
    ("sign_va", State.DEPLOYED): State.VA_SIGNED,
    ("file_solde", State.VA_SIGNED): State.SOLDE_FILED,
    ("file_solde", State.SOLDE_TO_FIX): State.SOLDE_FILED,
    ("request_solde_fix", State.SOLDE_FILED): State.SOLDE_TO_FIX,
    ("validate_solde", State.SOLDE_FILED): State.SOLDE_VALIDATED,
    ("record_solde_payment", State.SOLDE_VALIDATED): State.SOLDE_PAID,
    **{("request_cancellation", source): State.CANCELLATION_REQUESTED for source in CANCELLABLE},
    ("confirm_cancellation", State.CANCELLATION_REQUESTED): State.CANCELLED,
    ("record_recovery", State.RECOVERY_ISSUED): State.CANCELLED,
    # walk_to requests the cancellation from bdc_signed: a refusal returns there.
    ("refuse_cancellation", State.CANCELLATION_REQUESTED): State.BDC_SIGNED,
}


def test_the_matrix_covers_every_transition():
    assert {name for name, _ in ALLOWED} == set(TRANSITIONS)


@pytest.mark.parametrize(("name", "source"), list(ALLOWED), ids=[f"{n}-from-{s}" for n, s in ALLOWED])
def test_a_transition_from_an_allowed_state_reaches_its_target(name, source, api, manager_membership):
    dossier = walk_to(source, membership=manager_membership)
    for kind in DOCUMENTS_BEFORE.get(name, []):
        attach(dossier, kind, manager_membership.user)
    if name == "file_solde" and not PvPilote.objects.filter(solution=dossier.solution).exists():
        PvPiloteFactory(solution=dossier.solution)
    response = post_transition(api, dossier, name, valid_payload(name, dossier))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == ALLOWED[name, source]
    assert body["warnings"] == []
    assert set(body["available_transitions"]) == {n for n, s in ALLOWED if s == body["state"]}


def test_confirming_a_cancellation_after_a_paid_avance_issues_a_recovery(api, manager_membership):
    dossier = walk_to(State.AVANCE_PAID, membership=manager_membership)
    attach(dossier, "honour_statement", manager_membership.user)
    assert post_transition(api, dossier, "request_cancellation",
                           valid_payload("request_cancellation")).status_code == 200
    response = post_transition(api, dossier, "confirm_cancellation", valid_payload("confirm_cancellation"))
    assert response.status_code == 200
    assert response.json()["state"] == State.RECOVERY_ISSUED


@pytest.mark.parametrize("state", list(State))
def test_every_other_transition_is_refused_from_this_state(state, api, manager_membership, guidance):
    dossier = walk_to(state, membership=manager_membership)
    history = dossier.history.count()
    refused = [name for name in TRANSITIONS if (name, state) not in ALLOWED]
    for name in refused:
        response = post_transition(api, dossier, name, valid_payload(name, dossier))
        assert response.status_code == 409, (name, response.json())
        [error] = response.json()["errors"]
        assert error["rule"] == "state.transition_not_allowed"
        assert error["severity"] == "block" and str(state.label) in error["message"]
        assert error["faq"][0]["id"] == guidance.pk
    dossier.refresh_from_db()
    assert (dossier.state, dossier.history.count()) == (state, history)
    assert refused  # every state refuses something
