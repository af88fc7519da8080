"""What a transition through the API costs and answers when the view does not read the dossier before the service:
its statements, the 404s of a missing or another organisation's dossier (whatever the body), and the dossier's
serializer whose fields are built once per class."""
import pytest
from django.core.signals import request_finished
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from dossiers import outbox
from dossiers.api import serializers as s
from dossiers.blockers import TRANSITION_RELATED, lock
from dossiers.models import Dossier, HistoryEntry, State
from organisations.models import ApiToken
from segurtrack.api import serializers as api_serializers

from ..factories import valid_payload, walk_to
from .conftest import post_transition, url


def statements(captured):
    return [q["sql"] for q in captured.captured_queries
            if not q["sql"].lstrip().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "BEGIN", "COMMIT", "ROLLBACK"))]


def test_a_transition_through_the_api_runs_the_services_statements_and_one_for_the_token(api, manager_membership):
    dossier = walk_to(State.AVANCE_FILED, membership=manager_membership)
    ApiToken.objects.filter(membership=manager_membership).update(last_used_at=timezone.now())
    request_finished.disconnect(dispatch_uid="dossiers.outbox.finish_request")  # the notification: after the response
    try:
        with CaptureQueriesContext(connection) as captured:
            response = post_transition(api, dossier, "validate_avance", valid_payload("validate_avance"))
    finally:
        request_finished.connect(outbox.finish_request, dispatch_uid="dossiers.outbox.finish_request")
        outbox.finish_request()
    assert response.status_code == 200, response.content
    sql = statements(captured)
    # token 1; the service's 5 (lock with the role, the step, webhook endpoints, state counts, kept deadlines):
    # the dossier is not read before the lock.
    assert len(sql) == 6, sql
    assert sum('FROM "dossiers_dossier"' in q and q.startswith("SELECT") for q in sql) == 1, sql
    assert response.json()["state"] == State.AVANCE_VALIDATED


def test_another_organisations_dossier_is_a_404_and_nothing_is_written(outsider_api, manager_membership):
    dossier = walk_to(State.AVANCE_FILED, membership=manager_membership)
    history = HistoryEntry.objects.count()
    response = post_transition(outsider_api, dossier, "validate_avance", valid_payload("validate_avance"))
    assert response.status_code == 404
    assert list(response.json()) == ["detail"]
    missing = post_transition(outsider_api, Dossier(pk=dossier.pk + 10_000), "validate_avance",
                              valid_payload("validate_avance"))
    assert missing.status_code == 404 and missing.json() == response.json()  # the same answer as a missing one
    dossier.refresh_from_db()
    assert dossier.state == State.AVANCE_FILED and HistoryEntry.objects.count() == history


@pytest.mark.parametrize("body", ["{not json", '{"on": "2024-04-25"}'])
def test_a_missing_dossier_is_a_404_whatever_the_body(api, manager_membership, body):
    """The body is read before the lock: a body that does not parse still answers 404 for a missing dossier (as
    when the view read the dossier first), and 400 for an existing one."""
    response = api.generic("POST", url("dossier-transition", 10**9, "validate_avance"), body,
                           content_type="application/json")
    assert response.status_code == 404, response.content
    assert list(response.json()) == ["detail"]
    if body == "{not json":
        dossier = walk_to(State.AVANCE_FILED, membership=manager_membership)
        found = api.generic("POST", url("dossier-transition", dossier.pk, "validate_avance"), body,
                            content_type="application/json")
        assert found.status_code == 400


def test_the_lock_scoped_to_an_organisation_does_not_find_another_ones_dossier(manager_membership,
                                                                           outsider_membership):
    dossier = walk_to(State.AVANCE_FILED, membership=manager_membership)
    with pytest.raises(Dossier.DoesNotExist):
        lock(dossier.pk, TRANSITION_RELATED, organisation_id=outsider_membership.organisation_id)
    found = lock(dossier.pk, TRANSITION_RELATED, organisation_id=manager_membership.organisation_id,
                 role_of=manager_membership.user_id)
    assert found.pk == dossier.pk and found.member_role == manager_membership.role
    assert lock(dossier.pk, role_of=outsider_membership.user_id).member_role is None  # not a member there


# --- the dossier's serializer: fields built once per class and language ---------------------------------------------

def test_the_fields_built_once_answer_as_the_fields_built_each_time(manager_membership, monkeypatch):
    dossier = walk_to(State.AVANCE_FILED, membership=manager_membership)
    api_serializers._BUILT_FIELDS.clear()
    first = s.DossierSerializer(dossier)
    built = first.data
    second = s.DossierSerializer(dossier)
    assert second.data == built
    # Against DRF building them on every instance (the mixin bypassed).
    monkeypatch.setattr(api_serializers.FieldsBuiltOnce, "get_fields",
                        lambda self: super(api_serializers.FieldsBuiltOnce, self).get_fields())
    fresh = s.DossierSerializer(dossier)
    assert fresh.data == built
    assert {name: (type(f), str(f.label)) for name, f in fresh.fields.items()} == {
        name: (type(f), str(f.label)) for name, f in second.fields.items()}


def test_each_instance_has_its_own_fields_bound_to_it(manager_membership):
    dossier = walk_to(State.AVANCE_FILED, membership=manager_membership)
    one, two = s.DossierSerializer(dossier), s.DossierSerializer(dossier)
    for name in ("reference", "client_summary", "state_label"):
        assert one.fields[name] is not two.fields[name]
        assert one.fields[name].parent is one and two.fields[name].parent is two
    assert one.data["client_summary"]["id"] == dossier.client_id


def test_the_fields_are_built_per_language():
    api_serializers._BUILT_FIELDS.clear()
    with translation.override("fr"):
        french = str(s.DossierSerializer().fields["reference"].label)
    with translation.override("en"):
        s.DossierSerializer().fields  # noqa: B018  (builds the English ones)
    assert {language for (cls, language) in api_serializers._BUILT_FIELDS if cls is s.DossierSerializer} == {
        "fr", "en"}
    with translation.override("fr"):
        assert str(s.DossierSerializer().fields["reference"].label) == french


def test_a_nested_list_of_the_fields_built_once_is_a_new_one_each_time(manager_membership):
    """The transition's answer nests its warnings (a list serializer whose child is bound to it)."""
    dossier = walk_to(State.AVANCE_FILED, membership=manager_membership)
    first = s.TransitionResultSerializer({**s.DossierSerializer(dossier).data, "warnings": []})
    second = s.TransitionResultSerializer(dossier)
    assert first.fields["warnings"] is not second.fields["warnings"]
    assert first.fields["warnings"].child is not second.fields["warnings"].child
    assert second.fields["warnings"].child.parent is second.fields["warnings"]
