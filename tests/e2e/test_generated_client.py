"""A client generated from the served OpenAPI schema by openapi-python-client (a tool nobody here wrote) drives a
dossier from draft to solde_paid and creates and downloads exports, against a live server."""
import csv
import importlib
import io
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import Client
from openpyxl import load_workbook

from dossiers.models import State
from organisations.models import Role

from ..factories import PDF, ClientFactory, MembershipFactory, PvPiloteFactory, SolutionFactory, token_for, valid_payload

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

GENERATOR = Path(sys.executable).parent / "openapi-python-client"
PACKAGE = "segurtrack_generated_client"
# (transition, the body component its own operation declares, the state it reaches)
JOURNEY = [
    ("sign_bdc", "SignBdcRequest", State.BDC_SIGNED),
    ("file_avance", "FileAvanceRequest", State.AVANCE_FILED),
    ("validate_avance", "OnRequest", State.AVANCE_VALIDATED),
    ("record_avance_payment", "PaymentRequest", State.AVANCE_PAID),
    ("mark_deployed", "MarkDeployedRequest", State.DEPLOYED),
    ("sign_va", "SignVaRequest", State.VA_SIGNED),
    ("file_solde", "FileSoldeRequest", State.SOLDE_FILED),
    ("validate_solde", "OnRequest", State.SOLDE_VALIDATED),
    ("record_solde_payment", "PaymentRequest", State.SOLDE_PAID),
]
DOCUMENTS_BEFORE = {"sign_bdc": "bdc", "sign_va": "va", "file_solde": "invoice"}


@pytest.fixture
def generated(tmp_path):
    """The client package, generated offline from the schema the server serves, then imported."""
    schema = Client().get("/api/v1/schema/", {"format": "json"})
    assert schema.status_code == 200
    (tmp_path / "schema.json").write_bytes(schema.content)
    (tmp_path / "config.yml").write_text("post_hooks: []\n")  # no formatter: ruff is not a dependency
    run = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(tmp_path / "schema.json"), "--meta", "none",
         "--output-path", str(tmp_path / PACKAGE), "--config", str(tmp_path / "config.yml")],
        capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Warning" not in run.stdout + run.stderr, run.stdout + run.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def api_module(package, tag: str, operation_id: str):
    return importlib.import_module(f"{package.__name__}.api.{tag}.{operation_id}")


def test_a_generated_client_walks_a_dossier_to_solde_paid_and_downloads_exports(generated, live_server):
    models, types = (importlib.import_module(f"{PACKAGE}.{name}") for name in ("models", "types"))
    membership = MembershipFactory(role=Role.MANAGER)
    solution = SolutionFactory(organisation=membership.organisation)
    PvPiloteFactory(solution=solution)
    client_row = ClientFactory(organisation=membership.organisation)
    api = generated.AuthenticatedClient(base_url=live_server.url, token=token_for(membership), prefix="Token")

    created = api_module(generated, "dossiers", "dossiers_create").sync_detailed(
        client=api, body=models.DossierCreateRequest(client=client_row.pk, solution=solution.pk))
    assert created.status_code == 201, created.content
    dossier = created.parsed
    assert isinstance(dossier, models.Dossier) and dossier.state == models.DossierStateEnum.DRAFT

    for name, body_component, reached in JOURNEY:
        if name in DOCUMENTS_BEFORE:
            upload = models.DocumentUploadRequest(
                kind=models.DocumentKindEnum(DOCUMENTS_BEFORE[name]),
                file=types.File(payload=io.BytesIO(PDF), file_name=f"{name}.pdf", mime_type="application/pdf"))
            attached = api_module(generated, "dossiers", "dossiers_documents_create").sync_detailed(
                dossier.id, client=api, body=upload)
            assert attached.status_code == 201, attached.content
        body = getattr(models, body_component).from_dict(valid_payload(name))
        answer = api_module(generated, "dossiers", f"dossiers_transitions_{name}").sync_detailed(
            dossier.id, client=api, body=body)
        assert answer.status_code == 200, (name, answer.content)
        assert isinstance(answer.parsed, models.TransitionResult) and answer.parsed.state == reached

    final = api_module(generated, "dossiers", "dossiers_retrieve").sync(dossier.id, client=api)
    assert final.state == models.DossierStateEnum.SOLDE_PAID

    for export_format in ("csv", "xlsx"):
        job = api_module(generated, "exports", "exports_create").sync_detailed(client=api, body=models.ExportJobCreateRequest(
            kind=models.ExportKindEnum.DOSSIERS, format_=models.ExportFormatEnum(export_format)))
        assert job.status_code == 202, job.content
        status = job.parsed
        deadline = time.monotonic() + 30
        while status.status != models.ExportStatusEnum.DONE and time.monotonic() < deadline:
            time.sleep(0.2)
            status = api_module(generated, "exports", "exports_retrieve").sync(job.parsed.id, client=api)
        assert status.status == models.ExportStatusEnum.DONE
        download = api_module(generated, "exports", "exports_download_retrieve").sync_detailed(
            job.parsed.id, client=api)
        assert download.status_code == 200
        if export_format == "csv":
            assert download.headers["content-type"].startswith("text/csv")
            rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig")), delimiter=";"))
            assert [row[0] for row in rows[1:]] == [final.reference]
        else:
            assert download.headers["content-type"].startswith(
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            sheet = load_workbook(io.BytesIO(download.content)).active
            assert final.reference in [cell.value for cell in sheet["A"]]


def test_a_generated_client_registers_a_webhook_rotates_its_secret_and_reads_its_deliveries(
        generated, live_server, settings):
    settings.WEBHOOK_EAGER_THREADS = False  # the delivery row is what this test reads, not an attempt
    models = importlib.import_module(f"{PACKAGE}.models")
    admin = MembershipFactory(role=Role.ADMIN)
    api = generated.AuthenticatedClient(base_url=live_server.url, token=token_for(admin), prefix="Token")

    created = api_module(generated, "webhooks", "webhooks_create").sync_detailed(
        client=api, body=models.EndpointInputRequest(url="https://crm.example.org/segur", events=["*"]))
    assert created.status_code == 201, created.content
    endpoint = created.parsed
    assert isinstance(endpoint, models.EndpointWithSecret) and endpoint.secret.startswith("whsec_")

    listed = api_module(generated, "webhooks", "webhooks_list").sync(client=api)
    assert [item.id for item in listed.results] == [endpoint.id]
    rotated = api_module(generated, "webhooks", "webhooks_rotate_secret_create").sync_detailed(endpoint.id, client=api)
    assert rotated.status_code == 200, rotated.content
    assert rotated.parsed.secret.startswith("whsec_") and rotated.parsed.secret != endpoint.secret

    solution = SolutionFactory(organisation=admin.organisation)
    client_row = ClientFactory(organisation=admin.organisation)
    dossier = api_module(generated, "dossiers", "dossiers_create").sync_detailed(
        client=api, body=models.DossierCreateRequest(client=client_row.pk, solution=solution.pk))
    assert dossier.status_code == 201, dossier.content
    deliveries = api_module(generated, "webhooks", "webhooks_deliveries_list").sync(endpoint.id, client=api)
    assert [(item.event, item.status) for item in deliveries] == [("dossier.created", "pending")]
