"""POST /api/v1/dossiers/bulk-transitions/: each item through the transition service, in its own transaction."""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dossiers import bulk_transitions
from dossiers.models import HistoryEntry, OutboxMessage, State
from tests.factories import days_ago, walk_to

pytestmark = pytest.mark.django_db
URL = "/api/v1/dossiers/bulk-transitions/"


def test_the_path_is_the_dossier_apis():
    assert reverse("api:dossier-bulk-transitions") == URL


def _mixed(manager_membership, outsider_membership):
    filed = walk_to("avance_filed", membership=manager_membership)
    also_filed = walk_to("avance_filed", membership=manager_membership)
    draft = walk_to("draft", membership=manager_membership)
    foreign = walk_to("avance_filed", membership=outsider_membership)
    return filed, also_filed, draft, foreign


def test_mixed_results_come_back_in_item_order_and_one_failure_undoes_nothing(
        api, manager_membership, outsider_membership, guidance):
    filed, also_filed, draft, foreign = _mixed(manager_membership, outsider_membership)
    on = days_ago(1).isoformat()
    answer = api.post(URL, {"transition": "validate_avance", "items": [
        {"dossier": filed.pk, "data": {"on": on}},
        {"dossier": also_filed.pk, "data": {"on": "pas une date"}},
        {"dossier": foreign.pk, "data": {"on": on}},
        {"dossier": draft.pk, "data": {"on": on}},
        {"dossier": 999999, "data": {"on": on}},
    ]}, format="json")
    assert answer.status_code == 200
    body = answer.json()
    assert [(r["dossier"], r["status"]) for r in body["results"]] == [
        (filed.pk, 200), (also_filed.pk, 400), (foreign.pk, 404), (draft.pk, 409), (999999, 404)]
    assert (body["succeeded"], body["failed"]) == (1, 4)
    assert list(body["results"][1]["errors"]) == ["on"]
    refusal = body["results"][3]["errors"][0]
    assert refusal["rule"] == "state.transition_not_allowed" and refusal["faq"][0]["url"]
    assert body["results"][0]["warnings"] == [] and body["results"][0]["state"] == "avance_validated"
    filed.refresh_from_db(), also_filed.refresh_from_db(), foreign.refresh_from_db()
    assert (filed.state, also_filed.state, foreign.state) == ("avance_validated", "avance_filed", "avance_filed")
    assert HistoryEntry.objects.filter(dossier=filed, action="validate_avance").count() == 1


def test_a_dry_run_evaluates_everything_and_saves_nothing(api, manager_membership, outsider_membership):
    filed, _also_filed, draft, _foreign = _mixed(manager_membership, outsider_membership)
    history, outbox = HistoryEntry.objects.count(), OutboxMessage.objects.count()
    body = api.post(URL, {"transition": "validate_avance", "dry_run": True, "items": [
        {"dossier": filed.pk, "data": {"on": days_ago(1).isoformat()}},
        {"dossier": draft.pk, "data": {"on": days_ago(1).isoformat()}},
    ]}, format="json").json()
    assert [r["status"] for r in body["results"]] == [200, 409]
    filed.refresh_from_db()
    assert filed.state == State.AVANCE_FILED
    assert (HistoryEntry.objects.count(), OutboxMessage.objects.count()) == (history, outbox)


def test_a_409_carries_the_rules_and_their_warnings(api, manager_membership):
    from dossiers import services
    from tests.factories import ClientFactory, SolutionFactory

    dossier = services.create_dossier(organisation=manager_membership.organisation, by=manager_membership.user,
                                      client=ClientFactory(organisation=manager_membership.organisation),
                                      solution=SolutionFactory(organisation=manager_membership.organisation))
    body = api.post(URL, {"transition": "sign_bdc", "items": [{"dossier": dossier.pk, "data": {
        "signed_on": days_ago(2).isoformat(), "signer_name": "Claire Dubois", "signature_type": "fax"}}]},
        format="json").json()
    assert body["results"][0]["status"] == 409
    assert {e["rule"] for e in body["results"][0]["errors"]} == {"bdc.document", "bdc.signature_type"}


@pytest.mark.parametrize("payload,field", [
    ({"transition": "teleport", "items": [{"dossier": 1}]}, "transition"),
    ({"transition": "validate_avance", "items": []}, "items"),
    ({"transition": "validate_avance"}, "items"),
    ({"transition": "validate_avance", "items": [{"dossier": "douze"}]}, "items.0.dossier"),
    ({"transition": "validate_avance", "dry_run": "peut-être", "items": [{"dossier": 1}]}, "dry_run"),
])
def test_malformed_requests_are_400s(api, payload, field):
    answer = api.post(URL, payload, format="json")
    assert answer.status_code == 400
    assert field in answer.json()["errors"]


def test_more_than_1000_items_is_a_400_and_runs_nothing(api, manager_membership):
    dossier = walk_to("avance_filed", membership=manager_membership)
    items = [{"dossier": dossier.pk, "data": {"on": days_ago(1).isoformat()}}] * (bulk_transitions.MAX_ITEMS + 1)
    answer = api.post(URL, {"transition": "validate_avance", "items": items}, format="json")
    assert (answer.status_code, list(answer.json()["errors"])) == (400, ["items"])
    dossier.refresh_from_db()
    assert dossier.state == State.AVANCE_FILED


@pytest.mark.slow
def test_exactly_1000_items_are_accepted(api, manager_membership):
    dossier = walk_to("avance_filed", membership=manager_membership)
    items = [{"dossier": dossier.pk, "data": {"on": days_ago(1).isoformat()}}] * bulk_transitions.MAX_ITEMS
    body = api.post(URL, {"transition": "validate_avance", "dry_run": True, "items": items}, format="json").json()
    assert body["succeeded"] == 1000


def test_a_viewer_may_not_run_bulk_transitions(viewer_api, manager_membership):
    dossier = walk_to("avance_filed", membership=manager_membership)
    answer = viewer_api.post(URL, {"transition": "validate_avance", "items": [
        {"dossier": dossier.pk, "data": {"on": days_ago(1).isoformat()}}]}, format="json")
    assert answer.status_code == 403
    dossier.refresh_from_db()
    assert dossier.state == State.AVANCE_FILED


def _statement(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("releve-asp.csv", ("\ufeff" + text).encode("utf-8"), content_type="text/csv")


def test_an_asp_payment_statement_applies_in_one_go(api, manager_membership, outsider_membership):
    validated = walk_to("avance_validated", membership=manager_membership)
    other = walk_to("avance_validated", membership=manager_membership)
    foreign = walk_to("avance_validated", membership=outsider_membership)
    paid_on = days_ago(1).strftime("%d/%m/%Y")
    text = (f"reference;transition;paid_on;amount\n{validated.reference};record_avance_payment;{paid_on};1 234,50\n"
            f"{other.reference};record_avance_payment;{paid_on};douze\n"
            f"{foreign.reference};record_avance_payment;{paid_on};10,00\nINCONNUE;record_avance_payment;{paid_on};1\n")
    answer = api.post(URL, {"file": _statement(text)}, format="multipart")
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert [(r["row"], r["reference"], r["status"]) for r in body["results"]] == [
        (2, validated.reference, 200), (3, other.reference, 400), (4, foreign.reference, 404), (5, "INCONNUE", 404)]
    validated.refresh_from_db()
    assert (validated.state, str(validated.avance_paid_amount)) == ("avance_paid", "1234.50")
    foreign.refresh_from_db()
    assert foreign.state == "avance_validated"


def test_a_statement_without_a_transition_column_takes_the_field(api, manager_membership):
    validated = walk_to("avance_validated", membership=manager_membership)
    text = f"reference,paid_on,amount\n{validated.reference},{days_ago(1).isoformat()},100.00\n"
    body = api.post(URL, {"file": _statement(text), "transition": "record_avance_payment", "dry_run": "true"},
                    format="multipart").json()
    assert [r["status"] for r in body["results"]] == [200]
    validated.refresh_from_db()
    assert validated.state == "avance_validated"


@pytest.mark.parametrize("text,field", [("paid_on;amount\n01/01/2025;1\n", "file"),
                                        ("reference;paid_on\nX;01/01/2025\n", "file")])
def test_a_statement_without_its_columns_is_a_400(api, text, field):
    answer = api.post(URL, {"file": _statement(text)}, format="multipart")
    assert (answer.status_code, list(answer.json()["errors"])) == (400, [field])


def test_a_viewers_statement_is_refused(viewer_api):
    assert viewer_api.post(URL, {"file": _statement("reference;transition\nX;validate_avance\n")},
                           format="multipart").status_code == 403


def test_a_statement_that_is_not_utf8_is_a_400(api):
    answer = api.post(URL, {"file": SimpleUploadedFile("r.csv", "reference;transition\néé;x\n".encode("latin-1"))},
                      format="multipart")
    assert (answer.status_code, list(answer.json()["errors"])) == (400, ["file"])


def test_a_dossier_id_beyond_any_id_is_a_400_not_a_500(api):
    answer = api.post(URL, {"transition": "validate_avance", "items": [{"dossier": 2**70}]}, format="json")
    assert (answer.status_code, list(answer.json()["errors"])) == (400, ["items.0.dossier"])
