"""The demo seed: every state and dispositif, real history chains, varied clients, idempotent, logins printed.

The portfolio comes through the importer's bulk path (one `import` row per dossier), the showcase through the
services (a paid dossier walked from its creation, corrections, cancellations, amendments)."""
import re
from collections import Counter
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from dossiers.history import broken_dossiers
from demo.seed.data import DEMO_ORGANISATION, MIN_DOSSIERS
from demo.seed.pdf import pdf_document
from dossiers.models import Amendment, Client, Dispositif, Document, Dossier, HistoryEntry, PvPilote, Solution, State
from imports.models import ImportJob
from organisations.models import ApiToken, Membership, Organisation, Role, hash_token

pytestmark = pytest.mark.django_db


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo_output() -> str:
    return seed(dossiers=60)


@pytest.fixture
def demo(demo_output) -> Organisation:
    return Organisation.objects.get(name=DEMO_ORGANISATION)


def test_the_demo_covers_every_state_and_every_dispositif_with_sound_history_chains(demo):
    dossiers = Dossier.objects.filter(organisation=demo)
    assert dossiers.count() == 60 + 1  # the Alsace correction of demo/followups.py
    assert set(dossiers.values_list("state", flat=True)) == set(State.values)
    every_dispositif = set(Dispositif.objects.values_list("code", flat=True))
    assert set(dossiers.values_list("dispositif__code", flat=True)) == every_dispositif
    assert list(broken_dossiers(dossiers)) == []
    # every chain starts with the dossier's creation through the services or its row of the demo's import
    first = Counter(HistoryEntry.objects.filter(dossier__organisation=demo, seq=1).values_list("action", flat=True))
    assert set(first) == {"create", "import"} and sum(first.values()) == 61
    job = ImportJob.objects.get(organisation=demo)
    assert job.saved and job.created_dossiers == first["import"] > 50
    paid = dossiers.get(state=State.SOLDE_PAID, history__action="create")
    actions = list(paid.history.order_by("seq").values_list("action", flat=True))
    for step in ("create", "add_document", "sign_bdc", "file_avance", "validate_avance", "record_avance_payment",
                 "mark_deployed", "sign_va", "file_solde", "validate_solde", "record_solde_payment"):
        assert step in actions
    assert paid.amendments.get().status == Amendment.Status.PAID
    assert Amendment.objects.filter(dossier__organisation=demo, status=Amendment.Status.FILED).exists()
    # each correction request the showcase made has its reason and its due date
    for state, due in ((State.AVANCE_TO_FIX, "avance_fix_due_on"), (State.SOLDE_TO_FIX, "solde_fix_due_on")):
        assert dossiers.filter(state=state, **{f"{due}__isnull": False}).exists()
    assert dossiers.filter(state=State.CANCELLATION_REQUESTED).exclude(cancellation_motive="").exists()
    assert HistoryEntry.objects.filter(dossier__organisation=demo, action="add_document").count() == \
        Document.objects.filter(organisation=demo).count()


def test_the_output_says_only_where_to_go_how_to_log_in_and_which_faq_is_shown(demo_output):
    lines = demo_output.strip().splitlines()
    assert len(lines) == 8, lines
    assert lines[0].startswith("Démo prête") and "61 dossiers" in lines[0]
    assert "Adresse : http://127.0.0.1:8000/" in lines
    assert lines[-2].startswith("FAQ : ") and lines[-1].startswith("Jeton d'API")


def test_the_logins_and_a_working_api_token_are_printed_and_a_second_run_creates_nothing(demo, demo_output):
    for username, role in (("demo-admin", Role.ADMIN), ("demo-manager", Role.MANAGER), ("demo-viewer", Role.VIEWER)):
        assert re.search(rf"{username}\s+segurtrack-demo\s+{Role(role).label}", demo_output)
        membership = Membership.objects.get(organisation=demo, user__username=username)
        assert membership.role == role and membership.user.check_password("segurtrack-demo")
    key = re.search(r"demo-manager.*: ([0-9a-f]{40})", demo_output).group(1)
    token = ApiToken.objects.get(digest=hash_token(key))
    assert token.membership.user.username == "demo-manager"

    models = (Organisation, Dossier, HistoryEntry, Client, Solution, Document, ApiToken, get_user_model())
    before = {model: model.objects.count() for model in models}
    again = seed(dossiers=60)
    assert "existe déjà" in again and "demo-viewer" in again
    assert {model: model.objects.count() for model in models} == before


def test_the_demo_clients_and_solutions_include_every_special_case(demo):
    clients = Client.objects.filter(organisation=demo)
    assert {"971", "973", "974", "976"} <= set(clients.values_list("department", flat=True))
    assert clients.filter(vat_liable=False).exists()
    assert clients.filter(finess_geo="").exclude(siret="").exists()
    esms = clients.filter(kind=Client.Kind.ESMS)
    ready = esms.filter(ans_contract_signed_on__isnull=False).exclude(cpe_cards="").exclude(software_certificates="")
    assert ready.exists() and esms.exclude(pk__in=ready).exists()
    # the ESMS clients without their prerequisites never got past the VA
    assert not Dossier.objects.filter(client__in=esms.exclude(pk__in=ready), va_signed_on__isnull=False).exists()

    solutions = Solution.objects.filter(organisation=demo)
    validated = PvPilote.objects.filter(status=PvPilote.Status.VALIDATED).values("solution")
    assert solutions.filter(referenced_on__isnull=True).exists()
    assert solutions.filter(pk__in=validated).exists()
    assert solutions.exclude(pk__in=validated).filter(referenced_on__isnull=False).exists()
    # a solution without a validated PV pilote never reaches the solde
    assert not Dossier.objects.filter(solution__in=solutions.exclude(pk__in=validated),
                                      solde_filed_on__isnull=False).exists()


def test_the_demo_dates_are_realistic_and_its_documents_are_pdfs(demo):
    today = timezone.localdate()
    dossiers = Dossier.objects.filter(organisation=demo)
    ages = sorted((today - d).days for d in dossiers.filter(state=State.DEPLOYED).values_list("deployed_on", flat=True))
    assert ages[0] >= 10 and ages[-1] <= 120
    assert {age // 30 for age in ages} == {0, 1, 2, 3, 4}   # every 30-day ageing bucket
    for dossier in dossiers.filter(avance_filed_on__isnull=False).select_related("dispositif"):
        assert dossier.bdc_signed_on <= dossier.avance_filed_on <= today
        if dossier.dispositif.avance_deadline:
            assert dossier.avance_filed_on < timezone.localtime(dossier.dispositif.avance_deadline).date()

    document = Document.objects.filter(organisation=demo, kind="bdc").first()
    with document.file.open("rb") as handle:
        content = handle.read()
    assert content.startswith(b"%PDF-1.4") and content.rstrip().endswith(b"%%EOF")
    xref = int(content.rsplit(b"startxref", 1)[1].split()[0])
    assert content[xref:xref + 4] == b"xref"


def test_the_pdf_cross_reference_table_points_at_each_object():
    content = pdf_document("Bon de commande (signé)", ["Client : Centre hospitalier de Lyon"])
    xref = int(content.rsplit(b"startxref", 1)[1].split()[0])
    offsets = [int(line.split()[0]) for line in content[xref:].split(b"\n")[3:8]]
    assert [content[offset:offset + 7] for offset in offsets] == [b"%d 0 obj" % n for n in range(1, 6)]


def test_reset_rebuilds_the_demo_with_the_given_password():
    seed(dossiers=MIN_DOSSIERS + 1)
    demo = Organisation.objects.get(name=DEMO_ORGANISATION)
    old_dossiers = set(Dossier.objects.filter(organisation=demo).values_list("pk", flat=True))
    output = seed(dossiers=MIN_DOSSIERS, reset=True, password="autre-mot-de-passe")
    rebuilt = Organisation.objects.get(name=DEMO_ORGANISATION)
    assert rebuilt.pk != demo.pk and "autre-mot-de-passe" in output
    assert set(Dossier.objects.filter(organisation=rebuilt).values_list("state", flat=True)) == set(State.values)
    assert not Dossier.objects.filter(pk__in=old_dossiers).exists()
    assert get_user_model().objects.get(username="demo-viewer").check_password("autre-mot-de-passe")
    assert ApiToken.objects.filter(membership__organisation=rebuilt).count() == 1


def test_too_few_dossiers_to_cover_every_state_is_refused():
    with pytest.raises(CommandError):
        seed(dossiers=MIN_DOSSIERS - 1)
    assert not Organisation.objects.filter(name=DEMO_ORGANISATION).exists()


def test_the_demo_shows_a_repayment_in_progress_and_a_refused_cancellation(demo):
    dossiers = Dossier.objects.filter(organisation=demo)
    repaying = dossiers.get(state=State.RECOVERY_ISSUED, recovery_repaid__gt=0)
    assert 0 < repaying.recovery_outstanding < repaying.avance_paid_total
    assert repaying.history.filter(action="record_recovery", to_state=State.RECOVERY_ISSUED).exists()
    refused = dossiers.get(cancellation_refused_on__isnull=False)
    assert refused.state == State.AVANCE_PAID
    assert refused.history.filter(action="refuse_cancellation", to_state=State.AVANCE_PAID).exists()
    assert dossiers.filter(maintenance_contract=True).exists()
    assert dossiers.filter(va_signed_on__isnull=False, maintenance_contract=False).exists()
    assert dossiers.exclude(installed_version="").exists()
