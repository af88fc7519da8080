"""System checks (`manage.py check`): the rule catalogue, the payloads and the transitions' words agree.

dossiers.E001–E003: every rule has FAQ search terms and guards transitions that exist; E004–E005: every payload
names a transition and every transition has one; E006: every transition has its label and button words;
E007: a rule only needs payload fields its transitions take.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core import checks


def model_transitions() -> frozenset[str]:
    """The names of the transitions the Dossier state machine declares (django-fsm-2)."""
    from .models import Dossier

    return frozenset(t.name for t in Dossier._meta.get_field("state").get_all_transitions(Dossier))


def check_rule_catalogue(app_configs: Iterable[Any] | None = None, *, catalogue: Mapping[str, Any] | None = None,
                         transitions: frozenset[str] | None = None, payloads: Mapping[str, Any] | None = None,
                         **kwargs: Any) -> list[checks.CheckMessage]:
    """Every rule has FAQ search terms (its guidance), applies to at least one transition that exists, and
    needs only fields the payloads of its transitions take."""
    from . import payloads as payload_module
    from . import rules

    catalogue = rules.CATALOGUE if catalogue is None else catalogue
    transitions = model_transitions() if transitions is None else transitions
    payloads = payload_module.PAYLOADS if payloads is None else payloads
    errors: list[checks.CheckMessage] = []
    for code, rule in catalogue.items():
        if not (rule.faq_query or "").strip():
            errors.append(checks.Error(
                f"Rule {code!r} has no FAQ search terms.",
                hint="Give it faq=… words that find its guidance in the FAQ.", obj=code, id="dossiers.E001"))
        if not rule.transitions:
            errors.append(checks.Error(
                f"Rule {code!r} applies to no transition.",
                hint="Name the transitions it guards with on=….", obj=code, id="dossiers.E002"))
        for name in sorted(set(rule.transitions) - transitions):
            errors.append(checks.Error(
                f"Rule {code!r} names the transition {name!r}, which the Dossier model does not declare.",
                hint=f"Known transitions: {', '.join(sorted(transitions))}.", obj=code, id="dossiers.E003"))
        for name in sorted(set(rule.transitions) & set(payloads)):
            missing = sorted(set(rule.needs) - set(payloads[name]().fields))
            if missing:
                errors.append(checks.Error(
                    f"Rule {code!r} needs {', '.join(missing)}, which the payload of {name!r} does not take.",
                    hint="A checklist would wait for that field forever: fix needs=… or the payload.",
                    obj=code, id="dossiers.E007"))
    return errors


def check_payloads(app_configs: Iterable[Any] | None = None, *, payloads: Mapping[str, Any] | None = None,
                   transitions: frozenset[str] | None = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Every payload shape is keyed by a transition that exists, and every transition has one."""
    from . import payloads as payload_module

    payloads = payload_module.PAYLOADS if payloads is None else payloads
    transitions = model_transitions() if transitions is None else transitions
    errors: list[checks.CheckMessage] = [
        checks.Error(
            f"A payload is declared for the transition {name!r}, which the Dossier model does not declare.",
            hint=f"Known transitions: {', '.join(sorted(transitions))}.", obj=name, id="dossiers.E004")
        for name in sorted(set(payloads) - transitions)
    ]
    errors += [
        checks.Error(
            f"The transition {name!r} has no payload in dossiers.payloads.PAYLOADS.",
            hint="The API and the pages validate every transition's data through its payload.",
            obj=name, id="dossiers.E005")
        for name in sorted(transitions - set(payloads))
    ]
    return errors


def check_transition_words(app_configs: Iterable[Any] | None = None, *, transitions: Iterable[Any] | None = None,
                           **kwargs: Any) -> list[checks.CheckMessage]:
    """Every transition carries its words on itself (`custom={"label": …, "button": …}`): the pages, the
    history, the diagram and the admin all read them there."""
    from .models import Dossier

    if transitions is None:
        transitions = Dossier._meta.get_field("state").get_all_transitions(Dossier)
    missing = {(t.name, key) for t in transitions for key in ("label", "button")
               if not str(t.custom.get(key) or "").strip()}
    return [checks.Error(f"The transition {name!r} has no {key}.",
                         hint='Give its @transition custom=_step(_("…label…"), _("…button…")).', obj=name,
                         id="dossiers.E006")
            for name, key in sorted(missing)]
