"""The rule catalogue's invariants as system checks: silent on the real catalogue, an error with its id otherwise."""
from dataclasses import replace
from io import StringIO

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from dossiers import payloads, rules
from dossiers.checks import check_payloads, check_rule_catalogue, check_transition_words, model_transitions
from dossiers.models import TRANSITION_BUTTONS, TRANSITION_LABELS, Dossier


def ids(messages) -> list[str]:
    return [message.id for message in messages]


def test_the_checks_are_registered_and_manage_py_check_passes_on_the_real_catalogue():
    registered = checks.registry.registry.get_checks()
    assert {check_rule_catalogue, check_payloads, check_transition_words} <= set(registered)
    out = StringIO()
    call_command("check", stdout=out)
    assert "no issues" in out.getvalue()


def test_the_real_catalogue_and_payloads_raise_nothing():
    assert check_rule_catalogue() == []
    assert check_payloads() == []
    assert check_transition_words() == []
    assert "file_solde" in model_transitions()


def test_a_rule_without_faq_search_terms_is_e001():
    catalogue = {"bdc.document": replace(rules.CATALOGUE["bdc.document"], faq_query="  ")}
    assert ids(check_rule_catalogue(catalogue=catalogue)) == ["dossiers.E001"]


def test_a_rule_without_any_transition_is_e002():
    catalogue = {"bdc.document": replace(rules.CATALOGUE["bdc.document"], transitions=frozenset())}
    assert ids(check_rule_catalogue(catalogue=catalogue)) == ["dossiers.E002"]


def test_a_rule_naming_a_transition_the_model_lacks_is_e003():
    rule = rules.CATALOGUE["bdc.document"]
    catalogue = {rule.code: replace(rule, transitions=rule.transitions | {"sign_bdcc"})}
    [error] = check_rule_catalogue(catalogue=catalogue)
    assert (error.id, error.obj) == ("dossiers.E003", "bdc.document")
    assert "sign_bdcc" in error.msg


def test_a_payload_for_a_transition_the_model_lacks_is_e004():
    broken = {**payloads.PAYLOADS, "file_soldee": payloads.FileSolde}
    assert ids(check_payloads(payloads=broken)) == ["dossiers.E004"]


def test_a_transition_without_a_payload_is_e005():
    broken = {name: shape for name, shape in payloads.PAYLOADS.items() if name != "record_recovery"}
    [error] = check_payloads(payloads=broken)
    assert (error.id, error.obj) == ("dossiers.E005", "record_recovery")


def test_manage_py_check_fails_when_the_catalogue_is_broken(monkeypatch):
    monkeypatch.setitem(rules.CATALOGUE, "broken.rule", replace(rules.CATALOGUE["bdc.document"], code="broken.rule",
                                                                 faq_query="", transitions=frozenset({"nope"})))
    with pytest.raises(SystemCheckError) as failed:
        call_command("check", stdout=StringIO(), stderr=StringIO())
    assert "dossiers.E001" in str(failed.value) and "dossiers.E003" in str(failed.value)


def transitions_with(**custom):
    """The model's transitions, the one named in `custom` given those words instead of its own."""
    found = []
    for transition in Dossier._meta.get_field("state").get_all_transitions(Dossier):
        if transition.name in custom:
            transition = replace_custom(transition, custom[transition.name])
        found.append(transition)
    return found


def replace_custom(transition, custom):
    copy = type(transition).__new__(type(transition))
    copy.__dict__.update({**transition.__dict__, "custom": custom})
    return copy


def test_every_transition_carries_its_label_and_button_words():
    assert set(TRANSITION_LABELS) == set(TRANSITION_BUTTONS) == model_transitions()
    assert str(TRANSITION_LABELS["file_solde"]) == "Dépôt du solde"
    assert str(TRANSITION_BUTTONS["file_solde"]) == "Déposer le solde"


@pytest.mark.parametrize("custom, missing", [
    ({}, ["button", "label"]),
    ({"label": "Dépôt du solde", "button": " "}, ["button"]),
    ({"button": "Déposer le solde"}, ["label"]),
])
def test_a_transition_without_its_words_is_e006(custom, missing):
    errors = check_transition_words(transitions=transitions_with(file_solde=custom))
    assert ids(errors) == ["dossiers.E006"] * len(missing)
    assert [(error.obj, error.msg.rsplit(" ", 1)[-1]) for error in errors] == [
        ("file_solde", f"{key}.") for key in missing]


def test_a_rule_needing_a_field_its_transition_does_not_take_is_e007():
    rule = rules.CATALOGUE["bdc.signature_type"]
    assert rule.needs and ids(check_rule_catalogue(catalogue={rule.code: rule})) == []
    catalogue = {rule.code: replace(rule, needs=rule.needs | {"signature_kind"})}
    [error] = check_rule_catalogue(catalogue=catalogue)
    assert (error.id, error.obj) == ("dossiers.E007", "bdc.signature_type") and "signature_kind" in error.msg
    # The same need is fine where the payload takes the field.
    assert check_rule_catalogue(catalogue=catalogue, payloads={"sign_bdc": payloads.SignVa}) != []
    assert check_rule_catalogue(catalogue={rule.code: replace(rule, needs={"scenario"})},
                                payloads={"sign_bdc": payloads.SignVa}) == []
