"""The dossier page says what matters first (issue 16 point 4): the step forward before the side steps, a notice when
a deadline has passed or a document the next step needs is missing, and the solde payment measured against the
balance expected."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from dossiers import notices, queries
from dossiers.models import Dispositif, Dossier, HistoryEntry, State
from dossiers.views.dossier_pages import step_order

from ..factories import EsmsClientFactory, SolutionFactory, attach, days_ago, walk_to

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return unescape(response.content.decode()).replace("\xa0", " ").replace("\u202f", " ")


def page(browser, dossier) -> str:
    response = browser.get(reverse("dossier-detail", args=[dossier.pk]))
    assert response.status_code == 200
    return text(response)


def notice_of(html: str) -> str:
    """The notice at the top of the page ("" when there is none)."""
    if 'id="dossier-notices"' not in html:
        return ""
    start = html.index('id="dossier-notices"')
    return html[start:html.index("</div>", start)]


# --- the order of the steps -----------------------------------------------------------------------------------

@pytest.mark.parametrize("state, expected", [
    (State.BDC_SIGNED, ["file_avance", "request_cancellation"]),
    (State.AVANCE_FILED, ["validate_avance", "request_avance_fix", "request_cancellation"]),
    (State.AVANCE_VALIDATED, ["record_avance_payment", "mark_deployed", "request_cancellation"]),
    (State.CANCELLATION_REQUESTED, ["confirm_cancellation", "refuse_cancellation"]),
])
def test_the_step_forward_comes_before_the_side_steps_and_the_cancellation(dossier_at, as_manager, state, expected):
    html = page(as_manager, dossier_at(state))
    positions = [html.index(f'id="action-{name}"') for name in expected]
    assert positions == sorted(positions)


def test_the_side_steps_sort_after_every_forward_step():
    forward = ["sign_bdc", "file_avance", "validate_avance", "record_solde_payment", "confirm_cancellation"]
    side = ["request_avance_fix", "request_solde_fix", "refuse_cancellation", "request_cancellation"]
    assert sorted(side + forward, key=step_order) == forward + side


# --- notices: a document the next step needs --------------------------------------------------------------------

def test_a_draft_without_its_order_form_says_so_at_the_top(dossier_at, as_viewer):
    html = page(as_viewer, dossier_at(State.DRAFT))
    notice = notice_of(html)
    assert "Pièce manquante pour « Signature du BDC »" in notice and "Bon de commande signé" in notice
    assert html.index('id="dossier-notices"') < html.index('id="actions"')
    assert "ajouter le document" not in notice       # a viewer cannot add one


def test_the_notice_goes_once_the_document_is_attached(dossier_at, manager_membership, as_manager):
    dossier = dossier_at(State.DRAFT)
    assert "ajouter le document" in notice_of(page(as_manager, dossier))
    attach(dossier, "bdc", manager_membership.user)
    assert notice_of(page(as_manager, dossier)) == ""


def test_a_deployed_dossier_lacks_its_signed_va(dossier_at, manager_membership, as_manager):
    dossier = dossier_at(State.DEPLOYED)
    Dossier.objects.filter(pk=dossier.pk).update(deployed_on=timezone.localdate())  # not overdue
    assert "VA signée" in notice_of(page(as_manager, dossier))
    attach(dossier, "va", manager_membership.user)
    assert notice_of(page(as_manager, dossier)) == ""


def test_a_rule_failing_on_something_else_than_a_document_is_no_missing_document(organisation, manager_membership):
    client = EsmsClientFactory(organisation=organisation, ans_contract_signed_on=None)
    dossier = walk_to(State.DEPLOYED, membership=manager_membership, client=client)
    attach(dossier, "va", manager_membership.user)
    loaded = queries.dossier_detail(organisation.pk, dossier.pk)
    assert [b.rule for b in loaded.blocker_rows] == ["va.esms_prerequisites"]
    assert notices.missing_documents(loaded) == []


def test_the_notices_are_read_without_a_query(dossier_at, organisation, django_assert_num_queries):
    dossier = queries.dossier_detail(organisation.pk, dossier_at(State.DRAFT).pk)
    with django_assert_num_queries(0):
        missing = notices.missing_documents(dossier)
        passed = notices.passed_deadlines(dossier, pending_va_days=30)
    assert (missing, passed) == ([("bdc", "Bon de commande signé")], [])


# --- notices: a deadline passed ---------------------------------------------------------------------------------

def test_a_passed_avance_filing_deadline_is_announced_and_a_future_one_is_not(organisation, manager_membership,
                                                                             as_manager):
    dispositif = Dispositif.objects.get(code="HOP-PFI-VA2")
    dossier = walk_to(State.BDC_SIGNED, membership=manager_membership,
                      solution=SolutionFactory(organisation=organisation, dispositif=dispositif))
    dispositif.avance_deadline = timezone.now() - timedelta(days=2)
    dispositif.save()
    notice = notice_of(page(as_manager, dossier))
    assert "Échéance dépassée" in notice and "En retard" in notice
    assert "Date limite de dépôt de l'avance" in notice
    dispositif.avance_deadline = timezone.now() + timedelta(days=2)
    dispositif.save()
    assert "Date limite de dépôt de l'avance" not in notice_of(page(as_manager, dossier))


def test_a_va_awaited_beyond_the_organisations_delay_is_announced(dossier_at, manager_membership, as_manager):
    dossier = dossier_at(State.DEPLOYED)
    attach(dossier, "va", manager_membership.user)
    Dossier.objects.filter(pk=dossier.pk).update(deployed_on=days_ago(31))
    assert "VA attendue après déploiement" in notice_of(page(as_manager, dossier))
    Dossier.objects.filter(pk=dossier.pk).update(deployed_on=days_ago(30))
    assert notice_of(page(as_manager, dossier)) == ""


def test_the_passed_deadlines_are_those_the_deadlines_report_lists_overdue(organisation, manager_membership):
    """The dossier page reads the dossier's own due dates; `reports.deadlines` computes the organisation's in SQL:
    for every kind about one dossier, passed and not, they agree."""
    from reports import deadlines as dl

    passed = Dispositif.objects.get(code="HOP-PFI-VA2")
    passed.avance_deadline = timezone.now() - timedelta(hours=1)
    passed.save()
    on_passed = SolutionFactory(organisation=organisation, dispositif=passed)
    esms = EsmsClientFactory(organisation=organisation, cpe_cards="")
    made = [
        walk_to(State.DRAFT, membership=manager_membership, solution=on_passed),
        walk_to(State.BDC_SIGNED, membership=manager_membership, client=esms),
        walk_to(State.AVANCE_TO_FIX, membership=manager_membership),
        walk_to(State.SOLDE_TO_FIX, membership=manager_membership),
        walk_to(State.DEPLOYED, membership=manager_membership),
        walk_to(State.RECOVERY_ISSUED, membership=manager_membership),
        walk_to(State.AVANCE_PAID, membership=manager_membership),
    ]
    recent = walk_to(State.DEPLOYED, membership=manager_membership)
    Dossier.objects.filter(pk=recent.pk).update(deployed_on=days_ago(3))
    fresh = walk_to(State.SOLDE_TO_FIX, membership=manager_membership)
    Dossier.objects.filter(pk=fresh.pk).update(solde_fix_due_on=days_ago(-2))
    made += [recent, fresh]
    from dossiers import deadlines as kept

    kept.rebuild(organisation)  # the dispositif's deadline and the dates above were written past the writers
    listed = dl.deadlines_for(organisation)
    for dossier in made:
        loaded = queries.dossier_detail(organisation.pk, dossier.pk)
        mine = {(p.label, p.due)
                for p in notices.passed_deadlines(loaded, pending_va_days=organisation.pending_va_days)}
        theirs = {(d["label"], dl.due_date(d)) for d in listed if d["dossier"] == dossier.pk and d["overdue"]}
        assert mine == theirs, dossier.state
    found = [bool(notices.passed_deadlines(queries.dossier_detail(organisation.pk, d.pk), pending_va_days=30))
             for d in made]
    assert found == [True] * 6 + [False] * 3


def test_a_finished_dossier_has_no_notice(dossier_at, as_manager):
    assert notice_of(page(as_manager, dossier_at(State.SOLDE_PAID))) == ""


# --- the solde payment ------------------------------------------------------------------------------------------

def pay_solde(browser, dossier, amount: str):
    return browser.post(reverse("dossier-transition", args=[dossier.pk, "record_solde_payment"]), {
        "record_solde_payment-paid_on": "2024-07-20", "record_solde_payment-amount": amount}, follow=True)


def test_the_solde_payment_starts_from_the_balance_expected(dossier_at, as_manager):
    dossier = dossier_at(State.SOLDE_VALIDATED)   # « Prestation Ségur » 10 000 €, avance paid 3 000 €
    assert (dossier.solde_amount, dossier.avance_paid_total) == (Decimal("10000.00"), Decimal("3000.00"))
    html = page(as_manager, dossier)
    form = html[html.index('id="action-record_solde_payment"'):]
    assert 'name="record_solde_payment-amount"' in form
    assert 'value="7000.00"' in form[:form.index("</details>")]
    assert "10000.00" not in form[:form.index("</details>")]
    steps = html[html.index('id="steps"'):html.index('id="documents"')]
    assert "<dt>Solde attendu (avance versée déduite)</dt><dd>7 000,00 €</dd>" in steps


def test_paying_the_balance_expected_records_it_without_a_warning(dossier_at, as_manager):
    dossier = dossier_at(State.SOLDE_VALIDATED)
    html = text(pay_solde(as_manager, dossier, "7000.00"))
    assert "diffère du solde attendu" not in html
    entry = HistoryEntry.objects.filter(dossier=dossier, action="record_solde_payment").get()
    assert (entry.data["amount"], entry.data["expected_amount"]) == ("7000.00", "7000.00")


def test_paying_another_amount_goes_through_with_a_warning_and_the_history_keeps_both(dossier_at, as_manager):
    dossier = dossier_at(State.SOLDE_VALIDATED)
    response = pay_solde(as_manager, dossier, "6500.00")
    assert response.redirect_chain[-1][1] == 302
    html = text(response)
    assert "Le montant payé (6 500,00 €) diffère du solde attendu (7 000,00 €" in html
    dossier.refresh_from_db()
    assert (dossier.state, dossier.solde_paid_amount) == (State.SOLDE_PAID, Decimal("6500.00"))
    entry = HistoryEntry.objects.filter(dossier=dossier, action="record_solde_payment").get()
    assert (entry.data["amount"], entry.data["expected_amount"]) == ("6500.00", "7000.00")
    assert "Montant attendu" in html and "7 000,00 €" in html   # the timeline labels the recorded expectation


def test_a_bad_payment_is_a_french_400_and_nothing_is_saved(dossier_at, as_manager):
    dossier = dossier_at(State.SOLDE_VALIDATED)
    response = as_manager.post(reverse("dossier-transition", args=[dossier.pk, "record_solde_payment"]), {
        "record_solde_payment-paid_on": "2024-07-20", "record_solde_payment-amount": "beaucoup"})
    assert response.status_code == 400
    assert "Un nombre valide est requis." in text(response)
    dossier.refresh_from_db()
    assert dossier.state == State.SOLDE_VALIDATED and dossier.solde_paid_amount is None


def test_a_viewer_cannot_record_the_payment(dossier_at, as_viewer):
    dossier = dossier_at(State.SOLDE_VALIDATED)
    response = as_viewer.post(reverse("dossier-transition", args=[dossier.pk, "record_solde_payment"]), {
        "record_solde_payment-paid_on": "2024-07-20", "record_solde_payment-amount": "7000.00"})
    assert response.status_code == 403
    dossier.refresh_from_db()
    assert dossier.state == State.SOLDE_VALIDATED


def test_another_organisations_dossier_is_404(dossier_at, as_outsider):
    dossier = dossier_at(State.SOLDE_VALIDATED)
    assert as_outsider.get(reverse("dossier-detail", args=[dossier.pk])).status_code == 404
    response = as_outsider.post(reverse("dossier-transition", args=[dossier.pk, "record_solde_payment"]), {
        "record_solde_payment-paid_on": "2024-07-20", "record_solde_payment-amount": "7000.00"})
    assert response.status_code == 404
    dossier.refresh_from_db()
    assert dossier.state == State.SOLDE_VALIDATED


@pytest.mark.parametrize("solde_amount, paid_total, expected", [
    (Decimal("10000.00"), Decimal("4500.00"), Decimal("5500.00")),   # avance 3 000 + a paid amendment 1 500
    (Decimal("2000.00"), Decimal("3000.00"), Decimal("0.00")),       # never a negative balance
    (None, Decimal("3000.00"), None),                                # no solde filed yet
])
def test_the_balance_expected_is_the_solde_amount_less_the_avance_paid(solde_amount, paid_total, expected):
    assert Dossier(solde_amount=solde_amount, avance_paid_total=paid_total).solde_expected_payment == expected


def test_the_pages_read_each_kind_of_row_once_and_each_row_knows_its_dossier(
        organisation, manager_membership, outsider_membership, django_assert_num_queries):
    """The dossier page's five reads and the checklist's two, each row of the dossier pointing back to it without a
    query (as `prefetch_related` did); another organisation's dossier is a 404."""
    from django.http import Http404

    dossier = walk_to(State.DEPLOYED, membership=manager_membership)
    attach(dossier, "va", manager_membership.user)
    with django_assert_num_queries(5):
        loaded = queries.dossier_detail(organisation.pk, dossier.pk)
    with django_assert_num_queries(0):
        rows = [*loaded.document_rows, *loaded.amendment_rows, *loaded.history_rows, *loaded.blocker_rows]
        assert rows and all(row.dossier is loaded for row in rows)
        documents = [(d.uploaded_at, d.pk) for d in loaded.document_rows]
        assert documents == sorted(documents) and "va" in {d.kind for d in loaded.document_rows}
        assert [h.seq for h in loaded.history_rows] == sorted(h.seq for h in loaded.history_rows)
    with django_assert_num_queries(2):
        for_solde = queries.dossier_for_solde(organisation.pk, dossier.pk)
    with django_assert_num_queries(0):
        assert [d.pk for d in for_solde.document_rows] == [d.pk for d in loaded.document_rows]
        assert all(d.dossier is for_solde for d in for_solde.document_rows)
    for read in (queries.dossier_detail, queries.dossier_for_solde):
        with pytest.raises(Http404):
            read(outsider_membership.organisation_id, dossier.pk)


def test_an_edited_faq_answer_shows_its_new_excerpt_on_the_next_request(db):
    """The excerpts are remembered per (text, language): an answer edited is a new text, shown at once; the same
    text is truncated once."""
    from django.utils import translation

    from faqref.models import Entry, RuleLink

    entry = Entry(slug="va-0000", derived_title="La VA", fingerprint="1" * 64,
                  text="Première réponse : " + " ".join(f"mot{n}" for n in range(40)))
    entry.save()
    RuleLink.objects.create(rule="va.document", entry=entry, origin=RuleLink.Origin.PINNED)
    with translation.override("fr"):
        first = queries.guidance(["va.document"])["va.document"][0]["excerpt"]
        assert first.startswith("Première réponse : mot0") and "mot39" not in first and first.endswith("…")
        hits = queries.excerpt.cache_info().hits
        assert queries.guidance(["va.document"])["va.document"][0]["excerpt"] == first
        assert queries.excerpt.cache_info().hits == hits + 1
        Entry.objects.filter(pk=entry.pk).update(text="Réponse corrigée, courte.")
        assert queries.guidance(["va.document"])["va.document"][0]["excerpt"] == "Réponse corrigée, courte."
