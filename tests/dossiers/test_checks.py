"""The rule catalogue's invariants as system checks: silent on the real catalogue, an error with its id otherwise."""
from dataclasses import replace
from io import StringIO

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from dossiers import payloads, rules
from dossiers.checks import check_payloads, check_rule_catalogue, model_transitions


def ids(messages) -> list[str]:
    return [message.id for message in messages]


def test_the_checks_are_registered_and_manage_py_check_passes_on_the_real_catalogue():
    registered = checks.registry.registry.get_checks()
    assert check_rule_catalogue in registered and check_payloads in registered
    out = StringIO()
    call_command("check", stdout=out)
    assert "no issues" in out.getvalue()


def test_the_real_catalogue_and_payloads_raise_nothing():
    assert check_rule_catalogue() == []
    assert check_payloads() == []
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
