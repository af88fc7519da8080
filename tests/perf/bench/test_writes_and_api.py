"""A committed transition through the API (through the service: test_transition_commit.py), against a committed
raw UPDATE + INSERT on a dossier of the same organisation; and the API reads a vendor's integration calls
(deadlines with the API's defaults, the FAQ search), each against its floor.

The transition cycles a dossier between `avance_filed` and `avance_to_fix` (`request_avance_fix`, then
`refile_avance`, which has rules): every call commits, the history chain stays valid, and the dossier is back where
it was after an even number of calls. The floor does what a hand-written integration would: one UPDATE of the
dossier row and one INSERT of its history row, committed; the raw dossier's row and its rows are put back after.
"""
from __future__ import annotations

import json

import pytest
from django.core.signals import request_finished
from django.db import transaction
from django.utils import timezone

from dossiers import outbox, services
from dossiers.models import Dossier

from .conftest import compare, count_queries, fetch, get_ok, member
from .floors import deadlines_floor

N_TRANSITION = 200
FINISH_UID = "dossiers.outbox.finish_request"
N_API = 20


def _cycling_dossiers(raw, org, how_many: int) -> list[int]:
    """Dossiers in `avance_filed` on which the cycle succeeds (tried once, rolled back)."""
    manager = member(org)
    today = timezone.localdate().isoformat()
    found = []
    for (pk,) in fetch(raw, "SELECT id FROM dossiers_dossier WHERE organisation_id = %s AND state = 'avance_filed' "
                            "ORDER BY id LIMIT 50", [org.pk]):
        try:
            with transaction.atomic():
                services.run_transition(pk, "request_avance_fix", by=manager, data={"on": today, "reason": "bench"})
                services.run_transition(pk, "refile_avance", by=manager, data={"filed_on": today})
                transaction.set_rollback(True)
        except services.ServiceError:
            continue
        found.append(pk)
        if len(found) == how_many:
            return found
    pytest.fail(f"no dossier of organisation {org.pk} completes the avance fix cycle")


class Cycle:
    """Each call runs the dossier's next step of the cycle (committed), through `step(pk, name, data)`."""

    def __init__(self, pk: int, step):
        self.pk, self.step, self.fixing = pk, step, True

    def __call__(self):
        today = timezone.localdate().isoformat()
        if self.fixing:
            self.step(self.pk, "request_avance_fix", {"on": today, "reason": "bench"})
        else:
            self.step(self.pk, "refile_avance", {"filed_on": today})
        self.fixing = not self.fixing

    def finish(self):
        if not self.fixing:
            self()


class RawCycle:
    """The floor: UPDATE the dossier row and INSERT a history row, committed; undone at the end."""

    def __init__(self, raw, pk: int, user):
        self.raw, self.pk, self.user = raw, pk, user
        self.saved = fetch(raw, "SELECT state, avance_fix_requested_on, history_seq, history_hash, updated_at, "
                                "state_changed_at FROM dossiers_dossier WHERE id = %s", [pk])[0]
        self.fixing = True

    def __call__(self):
        source, target = ("avance_filed", "avance_to_fix") if self.fixing else ("avance_to_fix", "avance_filed")
        with self.raw.transaction(), self.raw.cursor() as cursor:
            cursor.execute(
                "UPDATE dossiers_dossier SET state = %s, avance_fix_requested_on = current_date, updated_at = now(), "
                "state_changed_at = now(), history_seq = history_seq + 1, history_hash = %s WHERE id = %s "
                "AND state = %s RETURNING history_seq", [target, "0" * 64, self.pk, source])
            (seq,) = cursor.fetchone()
            cursor.execute(
                "INSERT INTO dossiers_historyentry (dossier_id, seq, at, user_id, username, action, from_state, "
                "to_state, data, prev_hash, hash) VALUES (%s, %s, now(), %s, %s, %s, %s, %s, %s, %s, %s)",
                [self.pk, seq, self.user.pk, self.user.username, "bench", source, target,
                 json.dumps({"on": timezone.localdate().isoformat(), "reason": "bench"}), "0" * 64, "1" * 64])
        self.fixing = not self.fixing

    def finish(self):
        state, fix_on, seq, hash_, updated, changed = self.saved
        with self.raw.transaction(), self.raw.cursor() as cursor:
            cursor.execute("DELETE FROM dossiers_historyentry WHERE dossier_id = %s AND seq > %s", [self.pk, seq])
            cursor.execute("UPDATE dossiers_dossier SET state = %s, avance_fix_requested_on = %s, history_seq = %s, "
                           "history_hash = %s, updated_at = %s, state_changed_at = %s WHERE id = %s",
                           [state, fix_on, seq, hash_, updated, changed, self.pk])


def _run(case, sized, raw, step, *, target=3, notes=""):
    org = sized[1]
    ours_pk, raw_pk = _cycling_dossiers(raw, org, 2)
    manager = member(org)
    ours, floor = Cycle(ours_pk, step), RawCycle(raw, raw_pk, manager)
    try:
        queries = count_queries(ours)
        queries = f"{queries} / {count_queries(ours)}"
        result = compare(case, sized, ours, floor, n=N_TRANSITION, target=target, queries=queries,
                         notes="; ".join(filter(None, ["request_avance_fix and refile_avance alternately, each "
                                                       "committed", notes])))
    finally:
        ours.finish()
        floor.finish()
    assert Dossier.objects.get(pk=ours_pk).state == "avance_filed"
    return result


def test_transition_through_the_api(raw, sized, api_client):
    """As the client sees it: a WSGI server sends the body, then closes the response, whose `request_finished`
    publishes the outbox's messages (the notification, run in-process in eager mode). Django's test client closes
    the response inside `post`, so here the publication is held back from the timed call and done afterwards, as
    in test_transition_commit.py's "as a request sees it" (the comparison below keeps it inline)."""
    deferred: list[int] = []

    def step(pk, name, data):
        request_finished.disconnect(dispatch_uid=FINISH_UID)
        try:
            response = api_client.post(f"/api/v1/dossiers/{pk}/transitions/{name}/", data,
                                       content_type="application/json")
        finally:
            request_finished.connect(outbox.finish_request, dispatch_uid=FINISH_UID)
        deferred.extend(message_id for message_id, _context in outbox._request.pending or [])
        outbox._request.pending = None
        assert response.status_code == 200, response.content

    try:
        _run("one transition, committed (API)", sized, raw, step, notes="notification published after the response")
    finally:
        for message_id in deferred:
            outbox.publish(message_id)


def test_transition_through_the_api_with_its_notification_inline(raw, sized, api_client):
    def step(pk, name, data):
        response = api_client.post(f"/api/v1/dossiers/{pk}/transitions/{name}/", data, content_type="application/json")
        assert response.status_code == 200, response.content

    _run("one transition, committed (API), notification inline", sized, raw, step, target=None,
         notes="comparison: the test client closes the response, and so publishes, inside the call")


def test_deadlines_api(raw, sized, api_client):
    """`GET /api/v1/deadlines/` with the API's defaults (every deadline, first page)."""
    org = sized[1]
    ours = get_ok(api_client, "/api/v1/deadlines/")
    compare("GET /api/v1/deadlines/ (defaults)", sized, ours, lambda: deadlines_floor(raw, org, limit=50),
            n=N_API, target=2, queries=count_queries(ours),
            answer_grows=True)  # the contract's exact "count" of the organisation's open deadlines


def test_faq_search_api(raw, sized, api_client):
    if sized[0] != "largest":
        return  # the FAQ is the same for every organisation: measured once
    from .test_reads import SEARCH_OPTIONS, SEARCH_RAW
    from faqref.search import query_words

    q = "facture du solde et PV pilote validé"
    words = " or ".join(query_words(q))
    ours = get_ok(api_client, "/api/v1/faq/", data={"q": q})
    compare("GET /api/v1/faq/?q= (top 20)", sized, ours,
            lambda: fetch(raw, SEARCH_RAW, {"q": words, "options": SEARCH_OPTIONS}),
            n=N_API, target=2, queries=count_queries(ours))
