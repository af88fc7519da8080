"""The history chain verification: sound chains pass, any edit, deletion or head mismatch is reported."""
import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F

from dossiers.anchors import anchor
from dossiers.history import broken_dossiers, verify_chain
from dossiers.models import Dossier, HistoryEntry, State

from ..factories import MembershipFactory, walk_to

pytestmark = pytest.mark.django_db


def run_verify(**options) -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("verify_history", stdout=out, **options)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


@pytest.fixture
def two_dossiers(manager_membership):
    return (walk_to(State.SOLDE_PAID, membership=manager_membership),
            walk_to(State.DEPLOYED, membership=manager_membership))


def middle_row(dossier: Dossier) -> HistoryEntry:
    return dossier.history.get(seq=dossier.history_seq // 2)


def test_a_chain_built_by_the_service_verifies(two_dossiers):
    paid, deployed = two_dossiers
    assert paid.history_seq > 10
    assert verify_chain(paid.pk) == []
    assert verify_chain(deployed.pk) == []
    assert list(broken_dossiers()) == []


def test_the_command_succeeds_and_summarises_when_every_chain_is_sound(two_dossiers):
    out, error = run_verify()
    assert error is None
    assert "2 dossier(s) vérifié(s), 0 historique(s) altéré(s)" in out


@pytest.mark.parametrize("change", [
    {"data": {"on": "2020-01-01"}},
    {"action": "validate_solde"},
    {"at": F("at") + timedelta(seconds=1)},
    {"to_state": State.CANCELLED},
    {"username": "quelqu'un d'autre"},
])
def test_editing_a_row_is_reported_for_that_dossier_only(two_dossiers, change):
    paid, deployed = two_dossiers
    row = middle_row(paid)
    HistoryEntry.objects.filter(pk=row.pk).update(**change)
    out, error = run_verify()
    assert error is not None
    assert "1 historique(s) altéré(s)" in str(error)
    assert paid.reference in out and f"Ligne {row.seq} " in out
    assert deployed.reference not in out
    assert verify_chain(deployed.pk) == []


def test_editing_a_row_with_raw_sql_is_reported(two_dossiers):
    paid, deployed = two_dossiers
    row = middle_row(paid)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {HistoryEntry._meta.db_table} SET action = %s WHERE id = %s", ["sign_bdc", row.pk])
    problems = verify_chain(paid.pk)
    assert len(problems) == 1 and "contenu modifié" in problems[0]
    assert [dossier_id for dossier_id, _ in broken_dossiers()] == [paid.pk]


def test_rehashing_an_edited_row_still_breaks_the_link_to_the_next_row(two_dossiers):
    paid, _ = two_dossiers
    row = middle_row(paid)
    row.data = {"on": "2020-01-01"}
    HistoryEntry.objects.filter(pk=row.pk).update(data=row.data, hash=row.compute_hash())
    problems = verify_chain(paid.pk)
    assert len(problems) == 1
    assert f"Ligne {row.seq + 1} " in problems[0] and "empreinte précédente" in problems[0]


def test_deleting_a_middle_row_is_reported_as_a_gap(two_dossiers):
    paid, deployed = two_dossiers
    row = middle_row(paid)
    HistoryEntry.objects.filter(pk=row.pk).delete()
    out, error = run_verify()
    assert error is not None
    assert f"ligne(s) {row.seq} à {row.seq} manquante(s)" in out
    assert deployed.reference not in out


def test_deleting_the_last_row_is_reported_as_a_head_mismatch(two_dossiers):
    _, deployed = two_dossiers
    HistoryEntry.objects.filter(dossier=deployed, seq=deployed.history_seq).delete()
    problems = verify_chain(deployed.pk)
    assert problems == [
        f"La tête de chaîne du dossier (ligne {deployed.history_seq}) ne correspond pas à la dernière ligne de "
        f"l'historique (ligne {deployed.history_seq - 1})."]


def test_a_dossier_whose_head_does_not_match_its_last_row_is_reported(two_dossiers):
    paid, deployed = two_dossiers
    Dossier.objects.filter(pk=deployed.pk).update(history_hash="0" * 64)
    out, error = run_verify()
    assert error is not None
    assert deployed.reference in out and "tête de chaîne" in out
    assert paid.reference not in out


def test_a_dossier_whose_whole_history_was_deleted_is_reported(two_dossiers):
    paid, _ = two_dossiers
    HistoryEntry.objects.filter(dossier=paid).delete()
    problems = verify_chain(paid.pk)
    assert any("Historique vide" in p for p in problems)
    assert any("tête de chaîne" in p for p in problems)


def test_the_options_restrict_the_check_to_one_organisation_or_one_dossier(two_dossiers):
    paid, deployed = two_dossiers
    elsewhere = walk_to(State.BDC_SIGNED, membership=MembershipFactory())
    HistoryEntry.objects.filter(pk=middle_row(elsewhere).pk).update(action="tampered")
    out, error = run_verify(organisation=paid.organisation_id)
    assert error is None and "2 dossier(s) vérifié(s)" in out
    out, error = run_verify(dossier=deployed.pk)
    assert error is None and "1 dossier(s) vérifié(s)" in out
    out, error = run_verify(dossier=elsewhere.pk)
    assert error is not None and elsewhere.reference in out


def test_an_unknown_dossier_is_an_error():
    _, error = run_verify(dossier=987654)
    assert error is not None and "introuvable" in str(error)
    with pytest.raises(Dossier.DoesNotExist):
        verify_chain(987654)


def test_streaming_in_small_chunks_checks_every_dossier_across_chunk_boundaries(manager_membership):
    dossiers = [walk_to(State.AVANCE_FILED, membership=manager_membership) for _ in range(4)]
    tampered = dossiers[2]
    HistoryEntry.objects.filter(dossier=tampered, seq=2).update(data={})
    assert [dossier_id for dossier_id, _ in broken_dossiers(chunk=3)] == [tampered.pk]


def test_scanning_every_dossier_is_a_single_query(manager_membership, django_assert_num_queries):
    for state in (State.DRAFT, State.AVANCE_PAID, State.SOLDE_FILED):
        walk_to(state, membership=manager_membership)
    with django_assert_num_queries(1):
        assert list(broken_dossiers(chunk=5)) == []


# --- anchors: the rewrite a database administrator could do -----------------------------------------------------------

def rewrite_history(dossier: Dossier, seq: int, data: dict, *, anchor_key: str | None = None) -> None:
    """What someone with write access to the database can do: change row `seq`, recompute every later hash (raw SQL,
    as a DBA would) and move the dossier's head to the new last hash; with `anchor_key`, re-anchor the head too."""
    previous = ""
    with connection.cursor() as cursor:
        for row in dossier.history.order_by("seq"):
            if row.seq == seq:
                row.data = data
            row.prev_hash = previous
            row.hash = row.compute_hash()
            cursor.execute(f"UPDATE {HistoryEntry._meta.db_table} SET data = %s, prev_hash = %s, hash = %s "
                           "WHERE id = %s", [json.dumps(row.data), row.prev_hash, row.hash, row.pk])
            previous = row.hash
        fields = "history_hash = %s"
        values = [previous]
        if anchor_key is not None:
            fields += ", history_anchor = %s"
            values.append(anchor(dossier.pk, dossier.history_seq, previous, key=anchor_key))
        cursor.execute(f"UPDATE {Dossier._meta.db_table} SET {fields} WHERE id = %s", [*values, dossier.pk])


def test_the_service_anchors_each_new_head(two_dossiers):
    paid, _ = two_dossiers
    paid.refresh_from_db()
    assert paid.history_anchor == anchor(paid.pk, paid.history_seq, paid.history_hash) != ""


def test_a_history_rewritten_with_every_hash_recomputed_fails_on_its_anchor(two_dossiers):
    paid, deployed = two_dossiers
    rewrite_history(paid, middle_row(paid).seq, {"on": "2020-01-01"})
    problems = verify_chain(paid.pk)
    assert len(problems) == 1 and "ancre" in problems[0]  # every hash and link verifies: only the anchor tells
    out, error = run_verify()
    assert error is not None and "1 historique(s) altéré(s)" in str(error)
    assert f"{paid.pk}\t{paid.reference}\t" in out and "ancre" in out
    assert deployed.reference not in out


def test_the_rewrite_passes_only_for_whoever_holds_the_key(two_dossiers, settings):
    paid, _ = two_dossiers
    settings.HISTORY_ANCHOR_KEY = "la-vraie-clé-hors-de-la-base"
    for dossier in two_dossiers:  # the chains as anchored by the production key
        dossier.refresh_from_db()
        Dossier.objects.filter(pk=dossier.pk).update(
            history_anchor=anchor(dossier.pk, dossier.history_seq, dossier.history_hash))
    assert run_verify()[1] is None

    rewrite_history(paid, 2, {"on": "2020-01-01"}, anchor_key="insecure-development-history-anchor-key")
    assert any("ancre" in p for p in verify_chain(paid.pk))  # anchored with a guessed key: caught

    rewrite_history(paid, 2, {"on": "2020-01-01"}, anchor_key=settings.HISTORY_ANCHOR_KEY)
    assert verify_chain(paid.pk) == []  # what the anchor cannot stop: the key's holder (see docs/history.md)


def test_an_anchor_copied_from_another_dossier_does_not_hold(two_dossiers):
    paid, deployed = two_dossiers
    paid.refresh_from_db()
    Dossier.objects.filter(pk=deployed.pk).update(history_seq=paid.history_seq, history_hash=paid.history_hash,
                                                  history_anchor=paid.history_anchor)
    assert any("ancre" in p for p in verify_chain(deployed.pk))


def test_a_changed_key_reports_every_dossier(two_dossiers, settings):
    settings.HISTORY_ANCHOR_KEY = "une-autre-clé"
    out, error = run_verify()
    assert error is not None and "2 historique(s) altéré(s)" in str(error) and "HISTORY_ANCHOR_KEY" in out
