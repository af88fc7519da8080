"""Malformed input answers 400 `{"errors": {field: [messages]}}` in French, and saves nothing."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dossiers.models import Amendment, Client, Document, Dossier, HistoryEntry, Solution, State

from ..factories import ClientFactory, SolutionFactory, attach, pdf_upload, valid_payload, walk_to
from .conftest import post_transition, url

pytestmark = pytest.mark.django_db


def assert_bad_input(response, *fields: str) -> dict[str, list[str]]:
    assert response.status_code == 400, response.content
    body = response.json()
    assert list(body) == ["errors"]
    assert set(body["errors"]) == set(fields), body
    for messages in body["errors"].values():
        assert messages and all(isinstance(m, str) and m for m in messages)
    return body["errors"]


def counts() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in (Client, Solution, Dossier, Document, Amendment, HistoryEntry))


def stored_files(tmp_path) -> list:
    """Files in the test's document storage (see the autouse fixture of tests/conftest.py)."""
    return [path for path in (tmp_path / "documents").rglob("*") if path.is_file()]


CLIENT = {"name": "Clinique du Parc", "kind": "es", "finess_geo": "010003820", "department": "01", "vat_liable": True}


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"finess_geo": "010003821"}, "finess_geo", "clé de contrôle"),
    ({"finess_geo": "01000382"}, "finess_geo", "9 caractères"),
    ({"finess_legal": "ZZ0003820"}, "finess_legal", "FINESS"),
    ({"siret": "73282932000075"}, "siret", "SIRET"),
    ({"siret": "7328293200007"}, "siret", "14 chiffres"),
    ({"department": "99"}, "department", "département"),
    ({"kind": "hospital"}, "kind", "choix valide"),
    ({"cpe_cards": "maybe"}, "cpe_cards", "choix valide"),
    ({"vat_liable": "perhaps"}, "vat_liable", "booléen"),
    ({"name": ""}, "name", "vide"),
])
@pytest.mark.slow
def test_a_client_with_a_bad_field_is_refused_with_its_reason(changes, field, words, api):
    before = counts()
    errors = assert_bad_input(api.post(url("client-list"), {**CLIENT, **changes}, format="json"), field)
    assert words in " ".join(errors[field])
    assert counts() == before


@pytest.mark.parametrize(("address", "data", "field"), [
    ("solution-list", {"name": "Logiciel", "version": 5, "dispositif": "MDV-LGC-VA1"}, "version"),
    ("client-list", {**CLIENT, "vat_liable": "true"}, "vat_liable"),
    ("client-list", {**CLIENT, "name": ["Clinique"]}, "name"),
    ("dossier-list", {"client": "1", "solution": True}, "client"),
])
def test_a_json_value_of_the_wrong_type_is_refused_not_coerced(address, data, field, api):
    before = counts()
    errors = api.post(url(address), data, format="json").json()["errors"]
    assert errors[field][0].startswith("Type incorrect")
    assert counts() == before


def test_an_amount_may_be_a_json_number_but_never_with_three_decimals_or_as_a_boolean(api, manager_membership):
    dossier = walk_to(State.AVANCE_FILED, membership=manager_membership)
    for refused in (100.125, True, "cent"):
        assert_bad_input(api.post(url("amendment-list", dossier.pk), {"filed_on": "2024-06-25", "amount": refused},
                                  format="json"), "amount")
    accepted = api.post(url("amendment-list", dossier.pk), {"filed_on": "2024-06-25", "amount": 100.1}, format="json")
    assert accepted.status_code == 201
    assert accepted.json()["amount"] == "100.10"


@pytest.mark.parametrize("query", [{"page_size": "0"}, {"page_size": "dix"}, {"page": "0"}, {"page": "-1"}])
def test_a_malformed_page_or_page_size_is_a_400(query, api):
    assert_bad_input(api.get(url("client-list"), query), *query)


def test_a_page_past_the_last_is_a_json_404_and_last_works(api, organisation):
    ClientFactory(organisation=organisation)
    assert api.get(url("client-list"), {"page": "2"}).status_code == 404
    assert api.get(url("client-list"), {"page": "last"}).json()["count"] == 1


def test_a_client_without_its_required_fields_names_each_of_them(api):
    errors = assert_bad_input(api.post(url("client-list"), {}, format="json"), "name", "kind", "department")
    assert errors["name"] == ["Ce champ est obligatoire."]
    assert Client.objects.count() == 0


def test_identifiers_are_normalised_on_the_way_in(api):
    response = api.post(url("client-list"), {**CLIENT, "finess_geo": "01 000 382 0", "department": "01",
                                             "siret": "732 829 320 00074"}, format="json")
    assert response.status_code == 201, response.json()
    assert (response.json()["finess_geo"], response.json()["siret"]) == ("010003820", "73282932000074")


def test_a_client_patch_with_an_invalid_finess_changes_nothing(api, organisation):
    client = ClientFactory(organisation=organisation)
    errors = assert_bad_input(api.patch(url("client-detail", client.pk), {"finess_geo": "123"}, format="json"),
                              "finess_geo")
    assert "9 caractères" in errors["finess_geo"][0]
    assert Client.objects.get(pk=client.pk).finess_geo == client.finess_geo


def test_an_unknown_dispositif_code_is_refused(api):
    assert_bad_input(api.post(url("solution-list"), {"name": "Logiciel", "version": "1", "dispositif": "NOPE"},
                              format="json"), "dispositif")
    assert Solution.objects.count() == 0


def test_a_read_only_or_unknown_field_is_refused_not_ignored(api, manager_membership):
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    errors = assert_bad_input(api.patch(url("dossier-detail", dossier.pk),
                                        {"state": "solde_paid", "scenario": "Scénario 2", "colour": "red"},
                                        format="json"), "state", "colour")
    assert errors["state"] == ["Champ inconnu ou en lecture seule."]
    dossier.refresh_from_db()
    assert (dossier.state, dossier.scenario) == (State.DRAFT, "Scénario 1")


@pytest.mark.parametrize("state", [State.VA_SIGNED, State.SOLDE_FILED])
def test_the_scenario_cannot_change_once_the_va_is_signed(state, api, manager_membership):
    dossier = walk_to(state, membership=manager_membership)
    before = counts()
    errors = assert_bad_input(api.patch(url("dossier-detail", dossier.pk), {"scenario": "Autre"}, format="json"),
                              "scenario")
    assert "VA" in errors["scenario"][0]
    assert counts() == before


def test_a_solde_draft_of_the_wrong_shape_is_refused_field_by_field(api, manager_membership):
    dossier = walk_to(State.VA_SIGNED, membership=manager_membership)
    assert_bad_input(api.patch(url("dossier-detail", dossier.pk), {"solde_draft": {"invoice_total": "1.005"}},
                               format="json"), "solde_draft.invoice_total")
    assert_bad_input(api.patch(url("dossier-detail", dossier.pk), {"solde_draft": ["not", "an", "object"]},
                               format="json"), "solde_draft")


def test_a_dossier_cannot_be_created_on_another_organisations_client_or_solution(api, other_organisation,
                                                                                 organisation):
    foreign_client = ClientFactory(organisation=other_organisation)
    foreign_solution = SolutionFactory(organisation=other_organisation)
    mine = ClientFactory(organisation=organisation), SolutionFactory(organisation=organisation)
    before = counts()
    assert_bad_input(api.post(url("dossier-list"), {"client": foreign_client.pk, "solution": mine[1].pk},
                              format="json"), "client")
    assert_bad_input(api.post(url("dossier-list"), {"client": mine[0].pk, "solution": foreign_solution.pk},
                              format="json"), "solution")
    assert_bad_input(api.post(url("dossier-list"), {"client": "x"}, format="json"), "client", "solution")
    assert counts() == before


@pytest.mark.parametrize(("name", "changes", "field"), [
    ("file_avance", {"declared_amount": "-5.00"}, "declared_amount"),
    ("file_avance", {"declared_amount": "10.005"}, "declared_amount"),
    ("file_avance", {"declared_amount": "beaucoup"}, "declared_amount"),
    ("file_avance", {"filed_on": "10/04/2024"}, "filed_on"),
    ("file_avance", {"filed_on": None}, "filed_on"),
    ("file_avance", {"colour": "red"}, "colour"),
])
def test_a_transition_payload_of_the_wrong_shape_is_refused(name, changes, field, api, manager_membership):
    dossier = walk_to(State.BDC_SIGNED, membership=manager_membership)
    before = counts()
    assert_bad_input(post_transition(api, dossier, name, valid_payload(name, dossier, **changes)), field)
    dossier.refresh_from_db()
    assert dossier.state == State.BDC_SIGNED and counts() == before


def test_a_transition_payload_missing_a_field_names_it(api, manager_membership):
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    attach(dossier, "bdc", manager_membership.user)
    payload = valid_payload("sign_bdc")
    del payload["signer_name"]
    errors = assert_bad_input(post_transition(api, dossier, "sign_bdc", payload), "signer_name")
    assert errors["signer_name"] == ["Ce champ est obligatoire."]


@pytest.mark.parametrize("address", ["dossier-list", "client-list", "solution-list"])
def test_malformed_json_is_a_400_in_the_same_shape(address, api):
    before = counts()
    response = api.generic("POST", url(address), '{"name": "Clinique', content_type="application/json")
    errors = assert_bad_input(response, "non_field_errors")
    assert errors["non_field_errors"][0].startswith("Requête illisible : JSON")
    assert counts() == before


def test_malformed_json_on_a_transition_is_a_400(api, manager_membership):
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    response = api.generic("POST", url("dossier-transition", dossier.pk, "sign_bdc"), "{not json",
                           content_type="application/json")
    assert_bad_input(response, "non_field_errors")
    dossier.refresh_from_db()
    assert dossier.state == State.DRAFT


def test_a_json_array_instead_of_an_object_is_a_400(api, manager_membership):
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    assert_bad_input(post_transition(api, dossier, "sign_bdc", ["signed_on"]), "non_field_errors")


def test_a_signed_kind_that_is_not_a_pdf_is_refused_and_not_stored(api, manager_membership, tmp_path):
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    before = counts()
    fake = SimpleUploadedFile("bdc.pdf", b"GIF89a not a pdf at all", content_type="application/pdf")
    errors = assert_bad_input(api.post(url("document-list", dossier.pk), {"kind": "bdc", "file": fake},
                                       format="multipart"), "file")
    assert "PDF" in errors["file"][0]
    assert counts() == before and stored_files(tmp_path) == []


def test_an_oversized_upload_is_refused_before_anything_is_stored(api, manager_membership, settings, tmp_path):
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    settings.DOCUMENT_MAX_BYTES = 16
    before = counts()
    errors = assert_bad_input(api.post(url("document-list", dossier.pk), {"kind": "bdc", "file": pdf_upload()},
                                       format="multipart"), "file")
    assert "volumineux" in errors["file"][0]
    assert counts() == before and stored_files(tmp_path) == []


@pytest.mark.parametrize(("data", "field"), [
    ({"kind": "selfie"}, "kind"),
    ({"kind": "bdc"}, "file"),
    ({"kind": "bdc", "note": "x"}, "note"),
])
def test_an_upload_with_an_unknown_kind_or_without_a_file_is_refused(data, field, api, manager_membership):
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    payload = {"file": pdf_upload(), **data} if field != "file" else data
    assert_bad_input(api.post(url("document-list", dossier.pk), payload, format="multipart"), field)
    assert dossier.documents.count() == 0


@pytest.mark.parametrize(("data", "field"), [
    ({"filed_on": "2024-06-25", "amount": "100.001"}, "amount"),
    ({"filed_on": "2024-06-25", "amount": "-100.00"}, "amount"),
    ({"amount": "100.00"}, "filed_on"),
])
def test_an_amendment_of_the_wrong_shape_is_refused(data, field, api, manager_membership):
    dossier = walk_to(State.AVANCE_FILED, membership=manager_membership)
    before = counts()
    assert_bad_input(api.post(url("amendment-list", dossier.pk), data, format="json"), field)
    assert counts() == before


def test_an_unknown_filter_value_is_a_400(api):
    assert_bad_input(api.get(url("dossier-list"), {"state": "flying"}), "state")


def test_an_unknown_transition_is_a_404(api, manager_membership):
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    response = post_transition(api, dossier, "teleport", {})
    assert response.status_code == 404
    assert "teleport" in response.json()["detail"]
