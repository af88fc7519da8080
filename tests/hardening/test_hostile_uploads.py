"""Hostile uploads, through the API and through `services.add_document`: refused with the contract's 400 and
nothing stored (no row, no history row, no file under the storage), or stored under a generated name with a
sanitised display name. Downloads: another organisation's document is a 404; a download is an attachment the
browser will not sniff."""
from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import InMemoryUploadedFile, SimpleUploadedFile, TemporaryUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from segurtrack import errors
from dossiers import services
from dossiers.services import documents, parties
from dossiers.models import SIGNED_KINDS, Document, DocumentKind, Dossier, HistoryEntry, PvPilote, State

from ..factories import PDF, SolutionFactory, attach, walk_to
from .conftest import multipart, stored_files, url

pytestmark = pytest.mark.django_db

NOT_A_PDF = b"MZ\x90\x00\x03\x00\x00\x00This program cannot be run in DOS mode.\r\n" + b"\x00" * 200
PDF_AFTER_1KB = b"\n" * 1024 + PDF
HOSTILE_NAMES = [
    "../../etc/passwd",
    "..\\..\\boot.ini",
    "/etc/passwd",
    "/tmp/../../root/.ssh/authorized_keys.pdf",
    "C:\\Windows\\System32\\drivers\\etc\\hosts",
    "\\\\server\\share\\facture.pdf",
    "facture\x00.pdf.exe",
    "fact\x01\x07\x08\x0b\x0c\x1b[31mure\x7f.pdf",
    "facture\tjuin.pdf",
    "a" * 1000 + ".pdf",
    "b" * 1000,
    "c" * 300 + ".pdf",
    "d" * 250 + ".exe.pdf",
    "facture\u202efdp.exe",
    "\u202e\u200b\u2066\ufeff.pdf",
    "..",
    ".",
    "...pdf",
    "",
    " ",
    "<script>alert(1)</script>.pdf",
    'quote"and;semicolon.pdf',
    "ｆａｃｔｕｒｅ／..／..／x.pdf",
    "e\u0301te\u0301.pdf",
]
BIDI_AND_INVISIBLE = {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",
                      "\u200b", "\u200e", "\u200f", "\ufeff"}


# --- helpers -----------------------------------------------------------------------------------------------------

@pytest.fixture
def dossier(manager_membership) -> Dossier:
    return walk_to(State.DRAFT, membership=manager_membership)


class Footprint:
    """Rows and files before an upload, to prove a refused one stored nothing."""

    def __init__(self, dossier: Dossier):
        self.dossier = dossier
        self.documents = Document.objects.count()
        self.history = HistoryEntry.objects.filter(dossier=dossier).count()
        self.files = stored_files()

    def unchanged(self) -> None:
        assert Document.objects.count() == self.documents
        assert HistoryEntry.objects.filter(dossier=self.dossier).count() == self.history
        assert stored_files() == self.files


def assert_contract_400(response, field: str | None = None) -> dict[str, list[str]]:
    assert response.status_code == 400, (response.status_code, response.content[:500])
    body = response.json()
    assert set(body) == {"errors"} and isinstance(body["errors"], dict) and body["errors"]
    assert all(isinstance(messages, list) and messages and all(isinstance(m, str) and m for m in messages)
               for messages in body["errors"].values())
    if field is not None:
        assert field in body["errors"], body
    return body["errors"]


def post_raw(api: APIClient, dossier: Dossier, fields: list[tuple[str, str]],
             files: list[tuple[str, str | bytes, bytes]]):
    body, content_type = multipart(fields, files)
    return api.generic("POST", url("document-list", dossier.pk), body, content_type=content_type)


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    file = SimpleUploadedFile("placeholder.pdf", content, content_type="application/pdf")
    # Straight onto the attribute: UploadedFile's setter would take the basename first, and the service must not
    # rely on whichever upload handler built the object having done so.
    file._name = name
    return file


def assert_safely_stored(document: Document, content: bytes) -> None:
    """Stored under a generated name inside the dossier's folder; the display name carries nothing hostile."""
    assert re.fullmatch(rf"org{document.organisation_id}/dossier{document.dossier_id}/[0-9a-f]{{32}}(\.pdf)?",
                        document.file.name), document.file.name
    root = Path(django_settings.STORAGES["default"]["OPTIONS"]["location"]).resolve()
    path = Path(document.file.path).resolve()
    assert path.is_relative_to(root) and path.read_bytes() == content
    assert document.sha256 == hashlib.sha256(content).hexdigest() and document.size == len(content)
    name = document.filename
    assert name and len(name) <= Document._meta.get_field("filename").max_length
    assert "/" not in name and "\\" not in name and name not in {".", ".."} and not name.startswith(".")
    assert all(c.isprintable() and unicodedata.category(c)[0] != "C" for c in name), repr(name)
    assert not set(name) & BIDI_AND_INVISIBLE
    assert not name.lower().endswith(".exe") or document.kind not in SIGNED_KINDS


# --- content -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(SIGNED_KINDS))
def test_a_non_pdf_named_pdf_is_refused_for_every_signed_kind_through_the_api(api, dossier, kind):
    footprint = Footprint(dossier)
    response = api.post(url("document-list", dossier.pk), {"kind": kind, "file": SimpleUploadedFile(
        "facture.pdf", NOT_A_PDF, content_type="application/pdf")}, format="multipart")
    assert_contract_400(response, "file")
    footprint.unchanged()


@pytest.mark.parametrize("kind", sorted(SIGNED_KINDS))
def test_a_non_pdf_named_pdf_is_refused_for_every_signed_kind_by_the_service(manager, dossier, kind):
    footprint = Footprint(dossier)
    with pytest.raises(errors.InvalidInput) as refused:
        services.add_document(dossier.pk, by=manager, kind=kind, upload=upload("facture.pdf", NOT_A_PDF))
    assert list(refused.value.errors) == ["file"]
    footprint.unchanged()


def test_a_pdf_whose_magic_bytes_come_only_after_the_first_kilobyte_is_refused(api, manager, dossier):
    footprint = Footprint(dossier)
    response = api.post(url("document-list", dossier.pk), {"kind": "invoice", "file": SimpleUploadedFile(
        "facture.pdf", PDF_AFTER_1KB)}, format="multipart")
    assert_contract_400(response, "file")
    with pytest.raises(errors.InvalidInput):
        services.add_document(dossier.pk, by=manager, kind="invoice", upload=upload("facture.pdf", PDF_AFTER_1KB))
    footprint.unchanged()


def test_a_non_pdf_pv_pilote_is_refused_and_nothing_is_stored(api, manager_membership):
    solution = SolutionFactory(organisation=manager_membership.organisation)
    files = stored_files()
    response = api.post(url("pv-pilote-list", solution.pk), {
        "file": SimpleUploadedFile("pv.pdf", NOT_A_PDF), "signed_on": "2024-06-01", "status": "validated"},
        format="multipart")
    assert_contract_400(response, "file")
    assert not PvPilote.objects.filter(solution=solution).exists() and stored_files() == files


# --- size ----------------------------------------------------------------------------------------------------------

@pytest.fixture
def small_limits(settings, tmp_path):
    settings.DOCUMENT_MAX_BYTES = 4096
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "upload-tmp")
    (tmp_path / "upload-tmp").mkdir()
    return tmp_path / "upload-tmp"


@pytest.fixture
def upload_types(monkeypatch) -> list[type]:
    """The class of each upload the service is given: in memory, or a temporary file on disk."""
    seen: list[type] = []
    check_upload = services.check_upload

    def spy(upload, kind):
        seen.append(type(upload))
        return check_upload(upload, kind)

    # Read where the documents service calls it (the PV pilote service reads it from the same module).
    monkeypatch.setattr(documents, "check_upload", spy)
    monkeypatch.setattr(parties, "check_upload", spy)
    return seen


def padded_pdf(size: int) -> bytes:
    return PDF + b"%" + b"x" * (size - len(PDF) - 2) + b"\n"


@pytest.mark.parametrize("size", [4097, 64 * 1024], ids=["just-over", "sixteen-times-over"])
@pytest.mark.parametrize("memory_limit, handled_as", [
    (5 * 1024 * 1024, InMemoryUploadedFile), (1024, TemporaryUploadedFile)], ids=["in-memory", "temporary-file"])
def test_an_oversized_file_is_refused_through_the_api_in_memory_or_through_a_temporary_file(
        api, dossier, settings, small_limits, upload_types, size, memory_limit, handled_as):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = memory_limit
    footprint = Footprint(dossier)
    response = api.post(url("document-list", dossier.pk), {"kind": "invoice", "file": SimpleUploadedFile(
        "facture.pdf", padded_pdf(size))}, format="multipart")
    assert_contract_400(response, "file")
    assert upload_types == [handled_as]
    footprint.unchanged()
    assert list(small_limits.iterdir()) == []  # no temporary upload file left behind


def test_an_oversized_temporary_upload_is_refused_by_the_service(manager, dossier, small_limits):
    footprint = Footprint(dossier)
    temporary = TemporaryUploadedFile("facture.pdf", "application/pdf", 8192, None)
    temporary.write(padded_pdf(8192))
    temporary.seek(0)
    with pytest.raises(errors.InvalidInput) as refused:
        services.add_document(dossier.pk, by=manager, kind="invoice", upload=temporary)
    assert list(refused.value.errors) == ["file"]
    temporary.close()
    footprint.unchanged()


def test_a_file_at_the_limit_through_a_temporary_file_is_stored_whole(api, dossier, settings, small_limits,
                                                                     upload_types):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    content = padded_pdf(4096)
    response = api.post(url("document-list", dossier.pk), {"kind": "invoice", "file": SimpleUploadedFile(
        "facture.pdf", content)}, format="multipart")
    assert response.status_code == 201, response.json()
    assert upload_types == [TemporaryUploadedFile]
    assert_safely_stored(Document.objects.get(pk=response.json()["id"]), content)
    assert list(small_limits.iterdir()) == []


def test_an_empty_file_is_refused_through_the_api_and_by_the_service(api, manager, dossier):
    footprint = Footprint(dossier)
    response = post_raw(api, dossier, [("kind", "other")], [("file", "vide.pdf", b"")])
    assert_contract_400(response, "file")
    with pytest.raises(errors.InvalidInput) as refused:
        services.add_document(dossier.pk, by=manager, kind="other", upload=upload("vide.pdf", b""))
    assert list(refused.value.errors) == ["file"]
    footprint.unchanged()


# --- names ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=lambda n: repr(n)[1:40])
@pytest.mark.parametrize("kind", ["invoice", "other"])
def test_a_hostile_file_name_through_the_api_is_refused_or_stored_under_a_generated_name(api, dossier, name, kind):
    footprint = Footprint(dossier)
    response = post_raw(api, dossier, [("kind", kind)], [("file", name, PDF)])
    if response.status_code == 400:
        # Refused: by the field checks, or by Django's multipart parser (a 1000-character name exceeds its
        # 1 KB limit on a part's headers), answered in the contract's shape all the same.
        assert_contract_400(response)
        footprint.unchanged()
        return
    assert response.status_code == 201, (response.status_code, response.content[:300])
    document = Document.objects.get(pk=response.json()["id"])
    assert response.json()["filename"] == document.filename
    assert_safely_stored(document, PDF)
    assert stored_files() == sorted([*footprint.files, Path(document.file.path)])


@pytest.mark.parametrize("name", [*HOSTILE_NAMES, "line\r\nbreak.pdf", "x" * 300 + "\n.pdf"],
                         ids=lambda n: repr(n)[1:40])
@pytest.mark.parametrize("kind", ["invoice", "other"])
def test_a_hostile_file_name_given_to_the_service_is_stored_under_a_generated_name(manager, dossier, name, kind):
    footprint = Footprint(dossier)
    document = services.add_document(dossier.pk, by=manager, kind=kind, upload=upload(name, PDF))
    assert_safely_stored(document, PDF)
    assert stored_files() == sorted([*footprint.files, Path(document.file.path)])
    if kind in SIGNED_KINDS:
        assert document.filename.endswith(".pdf") and document.content_type == "application/pdf"


def test_a_right_to_left_override_cannot_disguise_an_executable_as_a_pdf(manager, dossier):
    document = services.add_document(dossier.pk, by=manager, kind="other",
                                     upload=upload("facture\u202efdp.exe", b"MZ not a pdf"))
    assert document.filename == "facturefdp.exe"
    assert document.content_type == "application/octet-stream" and not document.file.name.endswith(".pdf")


# --- malformed multipart -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fields, files, field", [
    ([("kind", "other")], [("file", "a.pdf", PDF), ("file", "b.pdf", PDF)], "file"),
    ([("kind", "other")], [("file", "a.pdf", PDF), ("file2", "b.pdf", PDF)], "file2"),
    ([("kind", "other")], [], "file"),
    ([("kind", "other"), ("file", "not a file")], [], "file"),
    ([("kind", "passport")], [("file", "a.pdf", PDF)], "kind"),
    ([("kind", "")], [("file", "a.pdf", PDF)], "kind"),
    ([], [("file", "a.pdf", PDF)], "kind"),
    ([("kind", "other"), ("kind", "bdc")], [("file", "a.pdf", PDF)], "kind"),
], ids=["two-files-one-field", "two-files-two-fields", "no-file", "file-as-text", "unknown-kind", "blank-kind",
        "no-kind", "two-kinds"])
def test_a_malformed_multipart_upload_is_refused_with_the_contracts_400_and_stores_nothing(
        api, dossier, fields, files, field):
    footprint = Footprint(dossier)
    assert_contract_400(post_raw(api, dossier, fields, files), field)
    footprint.unchanged()


def test_an_unknown_kind_is_refused_by_the_service(manager, dossier):
    footprint = Footprint(dossier)
    with pytest.raises(errors.InvalidInput) as refused:
        services.add_document(dossier.pk, by=manager, kind="../../etc", upload=upload("a.pdf", PDF))
    assert list(refused.value.errors) == ["kind"] and "../../etc" not in DocumentKind.values
    footprint.unchanged()


def test_a_json_body_instead_of_multipart_is_refused(api, dossier):
    footprint = Footprint(dossier)
    response = api.post(url("document-list", dossier.pk), {"kind": "other", "file": "JVBERi0xLjQK"}, format="json")
    assert 400 <= response.status_code < 500 and response.status_code in {400, 415}
    footprint.unchanged()


# --- downloads -----------------------------------------------------------------------------------------------------

@pytest.fixture
def stored_document(manager, dossier) -> Document:
    return attach(dossier, "invoice", manager, name='facture "juin";\r\nX-Evil: 1.pdf')


def test_another_organisations_document_is_a_404_however_it_is_asked_for(outsider_api, outsider_membership,
                                                                         stored_document, client):
    theirs = walk_to(State.DRAFT, membership=outsider_membership)
    for address in (url("document-download", stored_document.dossier_id, stored_document.pk),
                    url("document-download", theirs.pk, stored_document.pk)):
        response = outsider_api.get(address)
        assert response.status_code == 404 and set(response.json()) == {"detail"}
        assert "Content-Disposition" not in response
    client.force_login(outsider_membership.user)
    assert client.get(reverse("document-download", args=[stored_document.pk])).status_code == 404


def test_a_download_is_an_attachment_that_the_browser_will_not_sniff(api, manager, stored_document, client):
    client.force_login(manager)
    for response in (api.get(url("document-download", stored_document.dossier_id, stored_document.pk)),
                     client.get(reverse("document-download", args=[stored_document.pk]))):
        assert response.status_code == 200
        disposition = response["Content-Disposition"]
        assert disposition.startswith("attachment;")
        assert "\r" not in disposition and "\n" not in disposition and '"juin"' not in disposition
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Type"] == "application/pdf"
        assert b"".join(response.streaming_content) == PDF
