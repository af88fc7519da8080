"""The dossier change page's panels: next steps, the pre-solde checklist and the history, from templates.

Each function gathers what its panel shows; `templates/admin/dossiers/dossier/` lays it out, with the pages'
FAQ guidance partial beside each rule.
"""
from __future__ import annotations

import json
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString

from faqref.links import guidance_for

from .. import rules
from ..checklist import checklist_for
from ..history import verify_chain
from ..models import ACTION_LABELS, SOLDE_FILING_STATES, TRANSITION_LABELS, Dossier
from .common import state_label

TEMPLATES = "admin/dossiers/dossier/"
STATUS_MARKS = {"ok": "✓", "failed": "✗", "pending": "…"}


def probe_payload(dossier: Dossier, transition: str) -> dict[str, Any]:
    """What the panels evaluate a transition with: today's date where a rule reads it, the solde draft."""
    today = timezone.localdate()
    if transition == "file_solde":
        return checklist_for(dossier).data
    if transition in ("file_avance", "refile_avance"):
        return {"filed_on": today}
    if transition == "sign_bdc":
        return {"signed_on": today}
    return {}


def next_steps(dossier: Dossier) -> SafeString:
    """Each transition open from the dossier's state: the rules that block it or warn, what is left to type."""
    names = [t.name for t in dossier.get_available_state_transitions()]
    evaluated = [(name, rules.checklist(rules.Context(dossier, name, probe_payload(dossier, name)))) for name in names]
    guidance = guidance_for([item.rule.code for _name, items in evaluated for item in items if item.status == "failed"])
    steps = []
    for name, items in evaluated:
        failed = [item for item in items if item.status == "failed"]
        steps.append({
            "name": name, "label": TRANSITION_LABELS.get(name, name),
            "blocking": [(item, guidance.get(item.rule.code, [])) for item in failed
                         if item.rule.severity is rules.Severity.BLOCK],
            "warnings": [(item, guidance.get(item.rule.code, [])) for item in failed
                         if item.rule.severity is rules.Severity.WARN],
            "pending": [str(item.rule.title) for item in items if item.status == "pending"],
        })
    return render_to_string(TEMPLATES + "next_steps.html", {"steps": steps})


def pre_solde_checklist(dossier: Dossier) -> SafeString:
    """The file_solde rules against the invoice data typed (or filed), each with its FAQ guidance."""
    items = checklist_for(dossier).items
    guidance = guidance_for([item.rule.code for item in items])
    return render_to_string(TEMPLATES + "pre_solde_checklist.html", {
        "filing": dossier.state in SOLDE_FILING_STATES, "filed_on": dossier.solde_filed_on,
        "state": state_label(dossier.state),
        "blocking": sum(1 for i in items if i.status == "failed" and i.rule.severity is rules.Severity.BLOCK),
        "rows": [{"mark": STATUS_MARKS[item.status], "item": item, "guidance": guidance.get(item.rule.code, []),
                  "blocks": item.rule.severity is rules.Severity.BLOCK} for item in items],
    })


def history(dossier: Dossier) -> SafeString:
    """The hash chain's verdict, then every history row, oldest first."""
    entries = dossier.history.order_by("seq").only("seq", "at", "username", "action", "from_state", "to_state", "data")
    return render_to_string(TEMPLATES + "history.html", {"problems": verify_chain(dossier.pk), "rows": [{
        "entry": entry, "action": ACTION_LABELS.get(entry.action, entry.action),
        "states": (f"{state_label(entry.from_state)} → {state_label(entry.to_state)}"
                   if entry.from_state != entry.to_state else state_label(entry.to_state)),
        "data": json.dumps(entry.data, ensure_ascii=False, sort_keys=True)[:300],
    } for entry in entries]})
