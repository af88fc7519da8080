"""The factories reach every state through the service, with the history chained at each step."""
import pytest

from dossiers.models import State

from ..factories import PATHS, walk_to


@pytest.mark.parametrize("state", list(PATHS))
def test_walk_to_reaches_every_state(state, manager_membership):
    dossier = walk_to(state, membership=manager_membership)
    assert dossier.state == state
    assert dossier.history.count() == 1 + len(PATHS[state]) + dossier.documents.count()
    assert list(dossier.history.values_list("seq", flat=True)) == list(range(1, dossier.history_seq + 1))


def test_confirm_cancellation_without_paid_avance_ends_cancelled(manager_membership):
    assert walk_to(State.CANCELLED, membership=manager_membership).state == State.CANCELLED
