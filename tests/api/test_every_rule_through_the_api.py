"""The rules through POST /transitions/: one rule per severity (a 409 for a blocking one, a 200 with its warning for
the other), with the contract's item shape and its FAQ guidance; every rule code's guidance in the API's items.

Each rule's own outcomes are tested on an in-memory context (tests/dossiers/test_rules.py) and through the
transition service (tests/dossiers/test_rules_service.py); here the HTTP answer is what is checked.
"""
import pytest

from dossiers import rules
from dossiers.api.guidance import with_faq

from ..scenarios import SCENARIOS
from .conftest import faq_of, post_transition

pytestmark = pytest.mark.django_db
# The first rule of the catalogue of each severity.
ONE_PER_SEVERITY = {severity: next(code for code, r in rules.CATALOGUE.items() if r.severity is severity)
                    for severity in rules.Severity}


@pytest.mark.parametrize("code", ONE_PER_SEVERITY.values())
def test_a_missing_prerequisite_answers_its_rule_with_french_guidance(code, api, manager_membership, guidance):
    dossier, name, payload = SCENARIOS[code](manager_membership, ok=False)
    state, history = dossier.state, dossier.history.count()
    severity = rules.CATALOGUE[code].severity
    response = post_transition(api, dossier, name, payload)
    if severity is rules.Severity.BLOCK:
        assert response.status_code == 409, response.json()
        items = response.json()["errors"]
    else:
        assert response.status_code == 200, response.json()
        items = response.json()["warnings"]
    item = next(item for item in items if item["rule"] == code)
    assert item["severity"] == severity.value
    assert item["faq"] == faq_of(guidance)
    assert len(item["message"]) > 20 and item["message"] == item["message"].strip()
    dossier.refresh_from_db()
    if severity is rules.Severity.BLOCK:
        assert [i["rule"] for i in items] == [code]
        assert (dossier.state, dossier.history.count()) == (state, history)
    else:
        assert dossier.state == response.json()["state"]
        assert dossier.history.count() == history + 1


@pytest.mark.parametrize("code", ONE_PER_SEVERITY.values())
def test_a_met_prerequisite_lets_the_transition_through(code, api, manager_membership):
    dossier, name, payload = SCENARIOS[code](manager_membership, ok=True)
    response = post_transition(api, dossier, name, payload)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert code not in [warning["rule"] for warning in body["warnings"]]
    assert body["state"] != dossier.state
    dossier.refresh_from_db()
    assert dossier.state == body["state"]


def test_every_rule_codes_refusal_item_carries_its_faq_guidance_in_one_query(guidance, django_assert_num_queries):
    items = [rules.Failure(code, r.severity, "…").as_dict() for code, r in rules.CATALOGUE.items()]
    with django_assert_num_queries(1):
        answered = with_faq(items)
    assert [item["rule"] for item in answered] == list(rules.CATALOGUE)
    assert all(item["faq"] == faq_of(guidance) for item in answered)


def test_a_rule_without_a_linked_answer_says_so_with_an_empty_list(db):
    assert with_faq([rules.Failure("bdc.document", rules.Severity.BLOCK, "…").as_dict()])[0]["faq"] == []
