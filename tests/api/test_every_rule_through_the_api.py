"""Every rule code through POST /transitions/: 409 (or a 200 warning) when its prerequisite is missing, 200 when met.

The scenarios are the service tests' (one dossier a step before the rule's transition, one prerequisite
removed); here they go through HTTP, with the contract's item shape and FAQ guidance checked.
"""
import pytest

from dossiers import rules

from ..scenarios import SCENARIOS
from .conftest import faq_of, post_transition

pytestmark = pytest.mark.django_db


def test_every_rule_of_the_catalogue_is_tested_through_the_api():
    assert set(SCENARIOS) == set(rules.CATALOGUE)


@pytest.mark.parametrize("code", list(SCENARIOS))
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


@pytest.mark.parametrize("code", list(SCENARIOS))
def test_a_met_prerequisite_lets_the_transition_through(code, api, manager_membership):
    dossier, name, payload = SCENARIOS[code](manager_membership, ok=True)
    response = post_transition(api, dossier, name, payload)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert code not in [warning["rule"] for warning in body["warnings"]]
    assert body["state"] != dossier.state
    dossier.refresh_from_db()
    assert dossier.state == body["state"]
