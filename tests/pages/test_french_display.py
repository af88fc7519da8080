"""French everywhere the user looks (issue 16 pt 3): labels rather than keys, French dates and amounts, rule codes as a
secondary detail, searches that ignore accents and case."""
import datetime as dt
import re
from decimal import Decimal
from html import unescape

import pytest
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dossiers import services
from dossiers.models import State
from dossiers.timeline import display_value, field_label, rule_warnings
from segurtrack import formats

from ..factories import ClientFactory, walk_to

NNBSP = "\u202f"


def text(response) -> str:
    return unescape(response.content.decode()).replace("\xa0", " ")


def history_of(page: str) -> str:
    start = page.index('id="history"')
    return page[start:page.index("</section>", start)]


# --- the formats -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "shown"), [
    (Decimal("12345.67"), f"12{NNBSP}345,67{NNBSP}€"),
    ("1000000", f"1{NNBSP}000{NNBSP}000,00{NNBSP}€"),
    (0, f"0,00{NNBSP}€"),
    (Decimal("-12.5"), f"-12,50{NNBSP}€"),
    (None, "—"),
    ("", "—"),
    ("n/a", "n/a"),           # not an amount: shown as typed, never a crash
])
def test_amounts_read_the_french_way(value, shown):
    assert formats.euros(value) == shown


@pytest.mark.parametrize(("value", "shown"), [
    (dt.date(2026, 12, 3), "3 décembre 2026"),
    ("2024-08-06", "6 août 2024"),
    ("2024-02-30", "2024-02-30"),  # not a date: shown as recorded
    ("bonjour", "bonjour"),
    (None, "—"),
])
def test_dates_read_the_french_way(value, shown):
    assert formats.french_date(value) == shown


def test_a_moment_is_shown_in_paris_time():
    moment = dt.datetime(2026, 7, 14, 20, 30, tzinfo=dt.UTC)
    assert formats.french_date(moment) == "14 juillet 2026, 22:30"
    assert formats.french_day(moment) == "14 juillet 2026"
    assert formats.french_day(dt.datetime(2026, 7, 14, 23, 30, tzinfo=dt.UTC)) == "15 juillet 2026"


def test_the_filters_are_available_in_every_template_without_a_load():
    rendered = Template("{{ amount|euros }} · {{ day|date_fr }} · {{ none|euros }}").render(
        Context({"amount": Decimal("12345.67"), "day": dt.date(2026, 12, 3), "none": None}))
    assert rendered == f"12{NNBSP}345,67{NNBSP}€ · 3 décembre 2026 · —"


def test_the_filters_escape_what_they_are_given():
    assert Template("{{ value|euros }}").render(Context({"value": "<b>"})) == "&lt;b&gt;"


# --- the history's labels and values -----------------------------------------------------------------------------

@pytest.mark.parametrize(("action", "key", "label"), [
    ("change_solde_draft", "invoice_addressee", "Destinataire de la facture"),
    ("file_avance", "declared_amount", "Montant déclaré"),
    ("add_document", "kind", "Type de document"),
    ("add_document", "filename", "Fichier"),
    ("file_amendment", "amount", "Nouveau montant déclaré"),
    ("change_scenario", "from", "Avant"),
    ("change_scenario", "to", "Après"),
    ("validate_avance", "on", "Date"),
    ("someone_elses_action", "some_new_key", "Some new key"),  # never a raw key, even unknown
])
def test_each_recorded_key_has_a_label(action, key, label):
    assert field_label(action, key) == label


@pytest.mark.parametrize(("action", "key", "value", "shown"), [
    ("file_avance", "declared_amount", "10000.00", f"10{NNBSP}000,00{NNBSP}€"),
    ("file_avance", "filed_on", "2024-04-10", "10 avril 2024"),
    ("add_document", "kind", "bdc", "Bon de commande signé"),
    ("request_cancellation", "reason", "vendor_error", None),
    ("change_maintenance_contract", "to", True, "oui"),
    ("change_declared_finess", "from", "geo", None),
    ("change_solde_draft", "vat", "20", "20"),            # a rate, not an amount
    ("change_solde_draft", "invoice_total", "12000", f"12{NNBSP}000,00{NNBSP}€"),
    ("someone_elses_action", "when", "2024-04-10", "10 avril 2024"),
    ("file_avance", "scenario", "", "—"),
])
def test_each_recorded_value_reads_in_french(action, key, value, shown):
    result = display_value(action, key, value)
    if shown is None:  # a choice: its label, not its code
        assert result != value and result
    else:
        assert result == shown


def test_warned_rules_are_named_and_an_unknown_code_is_kept():
    (title, code), (unknown_title, unknown) = rule_warnings(["va.document", "gone.rule"])
    assert code == "va.document" and title != code and title
    assert unknown_title == unknown == "gone.rule"


def test_the_history_shows_labels_french_dates_and_amounts(dossier_at, as_manager, manager_membership):
    dossier = dossier_at(State.AVANCE_PAID)
    services.update_dossier(dossier.pk, by=manager_membership.user, changes={"solde_draft": {
        "invoice_addressee": "Mme Jeanne MARTIN", "invoice_total": "12345.67", "invoice_date": "2024-06-28"}})

    history = history_of(text(as_manager.get(reverse("dossier-detail", args=[dossier.pk]))))

    assert "Destinataire de la facture" in history and "Mme Jeanne MARTIN" in history
    assert f"12{NNBSP}345,67{NNBSP}€" in history and f"10{NNBSP}000,00{NNBSP}€" in history
    assert "28 juin 2024" in history and "10 avril 2024" in history
    assert "Type de document" in history and "Bon de commande signé" in history and "bdc.pdf" in history
    for raw in ("invoice_addressee", "declared_amount", "filed_on", "2024-04-10", "12345.67", ">kind<", "sha256"):
        assert raw not in history, raw


def test_the_dossier_page_has_french_dates_and_no_numeric_ones(dossier_at, as_manager):
    dossier = dossier_at(State.AVANCE_PAID)
    page = text(as_manager.get(reverse("dossier-detail", args=[dossier.pk])))
    assert "1 avril 2024" in page and "2 mai 2024" in page
    assert not re.search(r"\b\d\d/\d\d/\d{4}\b", page)


def test_a_date_field_is_labelled_date_not_le(dossier_at, as_manager):
    dossier = dossier_at(State.AVANCE_FILED)
    page = text(as_manager.get(reverse("dossier-detail", args=[dossier.pk])))
    assert 'for="id_validate_avance-on">Date :' in page
    assert ">Le :<" not in page


# --- rule codes: a secondary detail ------------------------------------------------------------------------------

def test_the_list_names_each_blocking_rule_and_keeps_its_code_small(dossier_at, as_manager):
    dossier_at(State.DEPLOYED)
    page = text(as_manager.get(reverse("dossier-list")))
    title = rule_warnings(["va.document"])[0][0]
    assert f'{title} <code class="rule-code">va.document</code>' in page


def test_a_refusal_names_the_rule_first(dossier_at, as_manager):
    dossier = dossier_at(State.DRAFT)
    page = text(as_manager.post(reverse("dossier-transition", args=[dossier.pk, "sign_bdc"]), {
        "sign_bdc-signed_on": "2024-04-01", "sign_bdc-signer_name": "P", "sign_bdc-signature_type": "fax"}))
    title = rule_warnings(["bdc.document"])[0][0]
    assert re.search(re.escape(title) + r"</strong> <code class=\"rule-code\">bdc\.document</code>", page)


# --- searches that ignore accents and case -----------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["hopital", "HOPITAL", "hôpital", "Hôpital", "HÔPITAL", "hÖpItAl"])
def test_the_dossier_search_ignores_accents_and_case(manager_membership, as_manager, typed):
    organisation = manager_membership.organisation
    found = walk_to(State.DRAFT, membership=manager_membership,
                    client=ClientFactory(organisation=organisation, name="Hôpital Saint-Éloi"))
    walk_to(State.DRAFT, membership=manager_membership, client=ClientFactory(organisation=organisation,
                                                                              name="Clinique des Lilas"))
    page = as_manager.get(reverse("dossier-list"), {"q": typed})
    assert [d.pk for d in page.context["page"].object_list] == [found.pk]


def test_the_dossier_search_still_finds_nothing_for_a_name_absent(manager_membership, as_manager):
    walk_to(State.DRAFT, membership=manager_membership,
            client=ClientFactory(organisation=manager_membership.organisation, name="Hôpital Saint-Éloi"))
    page = as_manager.get(reverse("dossier-list"), {"q": "hopitaux"})
    assert list(page.context["page"].object_list) == []


def test_the_dossier_search_never_reaches_another_organisation(manager_membership, outsider_membership, as_manager):
    walk_to(State.DRAFT, membership=outsider_membership,
            client=ClientFactory(organisation=outsider_membership.organisation, name="Hôpital du Nord"))
    page = as_manager.get(reverse("dossier-list"), {"q": "hopital"})
    assert list(page.context["page"].object_list) == []


@pytest.mark.parametrize("typed", ["eloi", "SAINT-ELOI", "Éloi"])
def test_the_client_search_ignores_accents_and_case(organisation, as_manager, typed):
    ClientFactory(organisation=organisation, name="Hôpital Saint-Éloi")
    ClientFactory(organisation=organisation, name="Cabinet Sud")
    page = text(as_manager.get(reverse("client-list"), {"q": typed}))
    assert "Hôpital Saint-Éloi" in page and "Cabinet Sud" not in page


def test_the_client_search_excludes_what_does_not_match(organisation, as_manager):
    ClientFactory(organisation=organisation, name="Hôpital Saint-Éloi")
    page = text(as_manager.get(reverse("client-list"), {"q": "elodie"}))
    assert "Hôpital Saint-Éloi" not in page


def test_the_accent_free_search_adds_no_query(manager_membership, as_manager, django_assert_num_queries):
    walk_to(State.DRAFT, membership=manager_membership,
            client=ClientFactory(organisation=manager_membership.organisation, name="Hôpital Saint-Éloi"))
    as_manager.get(reverse("dossier-list"), {"q": "Saint"})
    with CaptureQueriesContext(connection) as plain:
        page = as_manager.get(reverse("dossier-list"), {"q": "Saint"})
    with django_assert_num_queries(len(plain.captured_queries)):
        folded = as_manager.get(reverse("dossier-list"), {"q": "hopital"})
    assert list(page.context["page"].object_list) == list(folded.context["page"].object_list) != []
