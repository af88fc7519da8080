"""What one transition costs: its statements per kind, the columns its UPDATE writes, the relations read once, and
the notification's work left until after the response."""
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dossiers import outbox, services, views
from dossiers.models import Notification, OutboxMessage, State
from dossiers.services import transitions
from organisations.models import Role

from ..factories import (
    DOCUMENTS_BEFORE,
    PATHS,
    MembershipFactory,
    PvPiloteFactory,
    attach,
    valid_payload,
    walk_to,
)

TRANSACTION_CONTROL = re.compile(r"\s*(SAVEPOINT|RELEASE SAVEPOINT|ROLLBACK|BEGIN|COMMIT)")

# Statements of one transition (savepoints left out), per kind, when its rules pass:
#   lock (the row, its client, solution and dispositif, whether it has blockers, the user's role) 1,
#   the step (history row, outbox message and the dossier's UPDATE in one statement) 1,
#   webhook endpoints (the history listener) 1, state counts 1, the kept deadlines replaced 1  = BASE (5)
# plus what the rules read (documents, PV pilote, last amendment, other active dossier: each once, the blocker
# refresh reusing them) and the blocker refresh of a state with a next step (documents if not yet read, the rows,
# the counts).
BASE = 5
BUDGET = {
    "sign_bdc": BASE + 2,             # documents, other active dossier
    "file_avance": BASE,
    "validate_avance": BASE,
    "record_avance_payment": BASE,
    "mark_deployed": BASE + 3,        # next step sign_va: documents, blocker row, blocker counts
    "sign_va": BASE + 1 + 4,          # documents; next step file_solde: PV pilote, last amendment, blocker row and counts
    "file_solde": BASE + 3,           # PV pilote, documents, last amendment
    "validate_solde": BASE,
    "record_solde_payment": BASE,
}


def statements(captured):
    return [q["sql"] for q in captured.captured_queries if not TRANSACTION_CONTROL.match(q["sql"])]


def walk_counting(membership, path):
    """Run `path` from a new draft, each transition's statements captured; {name: [sql, ...]}."""
    dossier = walk_to(State.DRAFT, membership=membership)
    PvPiloteFactory(solution=dossier.solution)
    assert dossier.dispositif and dossier.client  # the test's own reads (valid_payload) stay out of the counts
    seen = {}
    for name in path:
        for kind in DOCUMENTS_BEFORE.get(name, []):
            attach(dossier, kind, membership.user)
        if name == "file_solde" and not dossier.client.vat_liable:
            attach(dossier, "vat_exemption", membership.user)
        data = valid_payload(name, dossier)
        with CaptureQueriesContext(connection) as captured:
            services.run_transition(dossier.pk, name, by=membership.user, data=data)
        seen[name] = statements(captured)
        dossier.refresh_from_db()
    return seen


def test_each_transition_of_the_main_path_runs_its_budget_of_statements(manager_membership):
    seen = walk_counting(manager_membership, PATHS[State.SOLDE_PAID])
    counts = {name: len(sql) for name, sql in seen.items()}
    assert counts == {name: BUDGET[name] for name in PATHS[State.SOLDE_PAID]}, seen


def test_the_fix_loop_runs_its_budget_of_statements(manager_membership):
    seen = walk_counting(manager_membership, PATHS[State.AVANCE_TO_FIX] + ["refile_avance"])
    # request_avance_fix: next step refile_avance, nothing blocks it (no blocker row, counts unchanged);
    # refile_avance: leaves a state without a next step.
    assert len(seen["request_avance_fix"]) == BASE, seen["request_avance_fix"]
    assert len(seen["refile_avance"]) == BASE, seen["refile_avance"]


def test_the_cancellation_path_runs_its_budget_of_statements(manager_membership):
    seen = walk_counting(manager_membership, PATHS[State.CANCELLED])
    assert len(seen["request_cancellation"]) == BASE + 1, seen["request_cancellation"]  # documents
    assert len(seen["confirm_cancellation"]) == BASE, seen["confirm_cancellation"]


def test_the_lock_locks_the_dossier_row_alone_and_each_relation_is_read_once(manager_membership):
    seen = walk_counting(manager_membership, PATHS[State.VA_SIGNED])
    lock = seen["sign_va"][0]
    assert "FOR UPDATE OF" in lock and '"dossiers_client"' in lock and '"dossiers_couloir"' not in lock
    for name, sql in seen.items():
        reads = [q for q in sql if q.startswith("SELECT")]
        assert sum("FOR UPDATE" in q for q in reads) == 1, (name, reads)  # the dossier's row, read once
        for table in ("dossiers_document", "dossiers_pvpilote", "dossiers_amendment"):
            assert sum(f'FROM "{table}"' in q for q in reads) <= 1, (name, table, reads)


def test_the_update_writes_only_the_changed_columns(manager_membership):
    seen = walk_counting(manager_membership, PATHS[State.AVANCE_VALIDATED])
    [step] = [q for q in seen["validate_avance"] if 'UPDATE "dossiers_dossier"' in q]
    update = step.split('UPDATE "dossiers_dossier"')[1]
    columns = set(re.findall(r'"(\w+)" = ', update.split(" WHERE ")[0]))
    assert columns == {"state", "state_changed_at", "avance_validated_on", "history_seq", "history_hash",
                       "history_anchor", "updated_at"}


def test_a_json_column_changed_in_place_is_in_the_set_list(manager_membership):
    """The SET list comes from comparing the columns before and after the transition method: a JSON value changed
    in place (not reassigned) still counts, and an untouched column does not."""
    dossier = walk_to(State.VA_SIGNED, membership=manager_membership)
    before = transitions._values(dossier)
    dossier.solde_draft["invoice_number"] = "F-1"
    changed = transitions._changed(dossier, before)
    assert "solde_draft" in changed and "reference" not in changed and "state" not in changed
    assert changed[-5:] == list(transitions._ALWAYS_SAVED)


# --- the notification after the response ---------------------------------------------------------------------------

def test_inside_a_request_the_commit_only_notes_the_message_and_the_end_publishes_it(
        manager_membership, django_capture_on_commit_callbacks):
    colleague = MembershipFactory(organisation=manager_membership.organisation, role=Role.VIEWER)
    first = walk_to(State.AVANCE_FILED, membership=manager_membership)
    second = walk_to(State.AVANCE_FILED, membership=manager_membership)
    outbox.begin_request()
    try:
        with django_capture_on_commit_callbacks(execute=True):
            a = services.run_transition(first.pk, "validate_avance", by=manager_membership.user,
                                        data=valid_payload("validate_avance"))
        with django_capture_on_commit_callbacks(execute=True):
            b = services.run_transition(second.pk, "validate_avance", by=manager_membership.user,
                                        data=valid_payload("validate_avance"))
        notes = Notification.objects.filter(user=colleague.user, history_entry__in=[a.history, b.history])
        assert not notes.exists()  # committed, not yet published: the response is not sent
        waiting = OutboxMessage.objects.filter(args__in=[[a.history.pk], [b.history.pk]], sent_at__isnull=True)
        assert waiting.count() == 2
    finally:
        published = outbox.finish_request()
    assert published == 2
    assert list(notes.order_by("id").values_list("history_entry_id", flat=True)) == [a.history.pk, b.history.pk]
    assert not waiting.exists()


def test_what_a_request_never_closed_noted_is_published_when_the_next_one_starts(
        manager_membership, django_capture_on_commit_callbacks):
    colleague = MembershipFactory(organisation=manager_membership.organisation, role=Role.VIEWER)
    dossier = walk_to(State.AVANCE_FILED, membership=manager_membership)
    outbox.begin_request()
    with django_capture_on_commit_callbacks(execute=True):
        outcome = services.run_transition(dossier.pk, "validate_avance", by=manager_membership.user,
                                          data=valid_payload("validate_avance"))
    notes = Notification.objects.filter(user=colleague.user, history_entry=outcome.history)
    assert not notes.exists()
    outbox.begin_request()  # the first response was never closed (a streamed body nobody read)
    assert notes.exists()
    assert outbox.finish_request() == 0


def test_outside_a_request_the_commit_publishes_at_once(manager_membership, django_capture_on_commit_callbacks):
    colleague = MembershipFactory(organisation=manager_membership.organisation, role=Role.VIEWER)
    dossier = walk_to(State.AVANCE_FILED, membership=manager_membership)
    assert outbox.finish_request() == 0  # no request open: nothing noted
    with django_capture_on_commit_callbacks(execute=True):
        outcome = services.run_transition(dossier.pk, "validate_avance", by=manager_membership.user,
                                          data=valid_payload("validate_avance"))
    assert Notification.objects.filter(user=colleague.user, history_entry=outcome.history).exists()


def test_a_message_that_fails_after_the_response_stays_waiting_for_the_drain(
        manager_membership, django_capture_on_commit_callbacks, monkeypatch):
    dossier = walk_to(State.AVANCE_FILED, membership=manager_membership)
    outbox.begin_request()
    with django_capture_on_commit_callbacks(execute=True):
        outcome = services.run_transition(dossier.pk, "validate_avance", by=manager_membership.user,
                                          data=valid_payload("validate_avance"))

    def refuse(*args, **kwargs):
        raise ConnectionError("broker away")

    monkeypatch.setattr(outbox, "_send", refuse)
    assert outbox.finish_request() == 1  # tried; the failure is logged, never raised
    message = OutboxMessage.objects.get(args=[outcome.history.pk])
    assert message.sent_at is None and "broker away" in message.last_error


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_transition_page_answers_before_its_notification_is_made(monkeypatch):
    """Through the real request cycle (commits included): when the view has its outcome, the transition is
    committed but nobody is notified yet; once the response is closed, the colleague is."""
    manager = MembershipFactory(role=Role.MANAGER)
    colleague = MembershipFactory(organisation=manager.organisation, role=Role.VIEWER)
    dossier = walk_to(State.AVANCE_FILED, membership=manager)
    during = []
    announce = views.dossier_pages.announce_transition

    def spy(request, outcome, name):
        during.append(Notification.objects.filter(history_entry=outcome.history).count())
        return announce(request, outcome, name)

    monkeypatch.setattr(views.dossier_pages, "announce_transition", spy)
    client = Client()
    client.force_login(manager.user)
    response = client.post(reverse("dossier-transition", args=[dossier.pk, "validate_avance"]),
                           {"validate_avance-on": "2024-04-25"})
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.state == State.AVANCE_VALIDATED
    assert during == [0]
    entry = dossier.history.get(action="validate_avance")
    assert list(Notification.objects.filter(history_entry=entry).values_list("user_id", flat=True)) == [
        colleague.user_id]


# --- the lock, compiled once per shape ------------------------------------------------------------------------------

def test_the_compiled_lock_reads_what_the_orm_reads(manager_membership, outsider_membership):
    from django.db import transaction

    from dossiers.blockers import TRANSITION_RELATED, lock
    from dossiers.models import Blocker, Dossier

    first = walk_to(State.VA_SIGNED, membership=manager_membership)
    second = walk_to(State.AVANCE_FILED, membership=manager_membership)
    Blocker.objects.filter(dossier=second).delete()
    with transaction.atomic():
        for dossier in (first, second):  # the second call runs the statement the first compiled
            ours = lock(dossier.pk, TRANSITION_RELATED, role_of=manager_membership.user_id,
                        organisation_id=manager_membership.organisation_id)
            [theirs] = Dossier.objects.select_related(*TRANSITION_RELATED).filter(pk=dossier.pk)
            assert {f.attname: getattr(ours, f.attname) for f in Dossier._meta.concrete_fields} == {
                f.attname: getattr(theirs, f.attname) for f in Dossier._meta.concrete_fields}
            assert ours.has_blockers == Blocker.objects.filter(dossier=dossier).exists()
            assert ours.member_role == manager_membership.role
            for name in TRANSITION_RELATED:  # read with the row: no query
                assert Dossier._meta.get_field(name).is_cached(ours)
                assert getattr(ours, name) == getattr(theirs, name)
            assert ours.solde_draft == theirs.solde_draft and not ours._state.adding
        with pytest.raises(Dossier.DoesNotExist):
            lock(first.pk, TRANSITION_RELATED, organisation_id=outsider_membership.organisation_id)
        with pytest.raises(Dossier.DoesNotExist):
            lock(2**70)  # beyond any id: not found, as the ORM says, never a database error


def test_the_lock_outside_a_transaction_is_refused(manager_membership, monkeypatch):
    """As select_for_update says (the test itself runs in a transaction: autocommit is what the check reads)."""
    from django.db.transaction import TransactionManagementError

    from dossiers.blockers import lock

    dossier = walk_to(State.AVANCE_FILED, membership=manager_membership)
    assert lock(dossier.pk).pk == dossier.pk
    monkeypatch.setattr(connection, "get_autocommit", lambda: True)
    with pytest.raises(TransactionManagementError):
        lock(dossier.pk)


# --- one round trip for the step, the counts, the deadlines and the webhook endpoints -------------------------------

def test_the_step_and_what_follows_it_share_one_round_trip(manager_membership, monkeypatch):
    """On PostgreSQL the step's statement, the state counts, the kept deadlines and the endpoints' read are sent
    in one pipeline: the database is waited for once (the lock, then this, then the COMMIT)."""
    import psycopg

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's pipeline")
    dossier = walk_to(State.AVANCE_FILED, membership=manager_membership)
    pipelines = []
    original = psycopg.Connection.pipeline

    def spy(self):
        pipelines.append(len(pipelines))
        return original(self)

    monkeypatch.setattr(psycopg.Connection, "pipeline", spy)
    with CaptureQueriesContext(connection) as captured:
        outcome = services.run_transition(dossier.pk, "validate_avance", by=manager_membership.user,
                                          data=valid_payload("validate_avance"))
    assert pipelines == [0]
    sql = statements(captured)
    assert len(sql) == BASE and sql[0].startswith("SELECT") and "nextval" in sql[0]
    assert outcome.history.pk == dossier.history.get(seq=outcome.history.seq).pk  # the reserved id is the row's


def test_a_step_refused_by_the_database_in_the_pipeline_writes_nothing(manager_membership):
    """A history row already at the step's rank (a concurrent writer that did not hold the lock): the step's
    statement fails inside the pipeline; the error is Django's and nothing of the step is kept."""
    from django.db import IntegrityError

    from dossiers.models import HistoryEntry, OutboxMessage, StateCount

    dossier = walk_to(State.AVANCE_FILED, membership=manager_membership)
    HistoryEntry.objects.create(dossier=dossier, seq=dossier.history_seq + 1, at=dossier.updated_at,
                                action="intruder", hash="0" * 64)
    counts = list(StateCount.objects.order_by("pk").values())
    messages = OutboxMessage.objects.count()
    with pytest.raises(IntegrityError):
        services.run_transition(dossier.pk, "validate_avance", by=manager_membership.user,
                                data=valid_payload("validate_avance"))
    dossier.refresh_from_db()
    assert dossier.state == State.AVANCE_FILED
    assert list(StateCount.objects.order_by("pk").values()) == counts
    assert OutboxMessage.objects.count() == messages
    assert not dossier.history.filter(action="validate_avance").exists()
