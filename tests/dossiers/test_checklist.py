"""The pre-solde checklist, read once by `checklist_for`: its verdicts, the data it judges, and what it costs."""
import pytest

from dossiers import services, solde_json
from dossiers.checklist import checklist_for
from dossiers.models import Dossier, State
from dossiers.rules import STATE_RULE

from ..factories import PvPiloteFactory, attach, valid_payload, walk_to

pytestmark = pytest.mark.django_db


def read(dossier: Dossier) -> Dossier:
    return Dossier.objects.select_related(*services.SELECT_RELATED).get(pk=dossier.pk)


@pytest.fixture
def ready_draft(manager_membership):
    """A VA-signed dossier with its PV pilote, its invoice and a complete solde draft: ready to file."""
    dossier = walk_to(State.VA_SIGNED, membership=manager_membership)
    PvPiloteFactory(solution=dossier.solution)
    attach(dossier, "invoice", manager_membership.user)
    draft = {k: v for k, v in valid_payload("file_solde", dossier).items() if k != "filed_on"}
    return read(services.update_dossier(dossier.pk, by=manager_membership.user, changes={"solde_draft": draft}))


def test_a_complete_draft_is_ready_and_every_item_passes(ready_draft):
    checklist = checklist_for(ready_draft)
    assert checklist.ready and checklist.filing and not checklist.filed
    assert checklist.failures == [] and checklist.blocking_open == []
    assert checklist.data["invoice_number"] == ready_draft.solde_draft["invoice_number"]
    assert checklist.counts == {"ok": len(checklist.items), "failed": 0, "pending": 0}


def test_untyped_invoice_data_is_pending_and_not_ready(manager_membership):
    dossier = read(walk_to(State.VA_SIGNED, membership=manager_membership))
    checklist = checklist_for(dossier)
    assert checklist.data == {} and not checklist.ready
    assert checklist.counts["pending"] > 0
    assert {f.rule for f in checklist.failures} == {item.rule.code for item in checklist.blocking_open}


def test_a_state_without_a_solde_request_is_the_one_failure(manager_membership):
    checklist = checklist_for(read(walk_to(State.DEPLOYED, membership=manager_membership)))
    assert not checklist.filing and not checklist.ready
    assert [f.rule for f in checklist.failures] == [STATE_RULE] and checklist.state_failure is not None


def test_a_filed_solde_judges_what_was_filed_not_the_draft(ready_draft, manager_membership):
    services.run_transition(ready_draft.pk, "file_solde", by=manager_membership.user,
                            data={**ready_draft.solde_draft, "filed_on": ready_draft.va_signed_on.isoformat()})
    # A draft changed after filing does not change the record of what was filed.
    Dossier.objects.filter(pk=ready_draft.pk).update(solde_draft={})
    checklist = checklist_for(read(ready_draft))
    assert checklist.filed and checklist.ready and checklist.state_failure is None
    assert checklist.data["invoice_number"] == ready_draft.solde_draft["invoice_number"]
    assert solde_json.build(checklist.dossier, checklist)["facture"]["numero"] == checklist.data["invoice_number"]


def test_the_checklist_costs_a_fixed_number_of_queries_and_the_filed_json_reads_no_rule(
        ready_draft, manager_membership, django_assert_num_queries):
    dossier = read(ready_draft)
    with django_assert_num_queries(3):  # the rules' own reads (documents, PV pilotes, other dossiers)
        assert checklist_for(dossier).ready
    services.run_transition(ready_draft.pk, "file_solde", by=manager_membership.user,
                            data={**ready_draft.solde_draft, "filed_on": ready_draft.va_signed_on.isoformat()})
    filed = read(ready_draft)
    with django_assert_num_queries(0):  # the JSON of a filed solde needs no item
        solde_json.build(filed)
