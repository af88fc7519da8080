"""generate_dossiers: realistic rows that the services' own checks (chain, transitions, rules) accept."""
import re
from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count, F, Q
from django.utils import timezone

from dossiers import rules, services
from dossiers.anchors import anchor
from dossiers.history import broken_dossiers
from dossiers.identifiers import validate_finess, validate_siret
from dossiers.models import (
    Amendment, Blocker, Client, Dispositif, Document, Dossier, HistoryEntry, PvPilote, Solution, State,
)
from dossiers.payloads import TRANSITIONS, validate_payload
from organisations.models import Membership, Organisation

# Most tests generate 300 dossiers: the module is left out of the inner loop (docs/testing.md).
pytestmark = pytest.mark.slow
MONEY = re.compile(r"^\d+\.\d{2}$")
# Dossier fields a transition records: replaying the history through the model must give the stored values.
# The amounts in force (declared_amount, avance_paid_total) also follow amendments: checked separately.
NOT_REPLAYED = {"id", "organisation_id", "client_id", "client_name", "solution_id", "dispositif_id", "reference", "state_changed_at",
                "declared_amount", "avance_paid_total", "solde_draft", "history_seq", "history_hash", "history_anchor", "created_at",
                "updated_at"}
STEP_FIELDS = [f.attname for f in Dossier._meta.concrete_fields if f.attname not in NOT_REPLAYED]


def generate(**options) -> str:
    out = StringIO()
    call_command("generate_dossiers", stdout=out, **{"count": 300, "organisations": 2, "seed": 1, **options})
    return out.getvalue()


@pytest.fixture
def generated(db):
    return generate()


def local_date(moment):
    return timezone.localtime(moment).date()


def test_generates_300_dossiers_over_two_organisations_with_their_members(generated):
    assert Dossier.objects.count() == 300
    per_org = Counter(Dossier.objects.values_list("organisation__name", flat=True))
    assert set(per_org) == {"Éditeur généré 1", "Éditeur généré 2"}
    assert per_org["Éditeur généré 1"] > per_org["Éditeur généré 2"] > 0   # a bigger vendor and a smaller one
    members = set(Membership.objects.values_list("organisation__name", "user__username", "role"))
    assert members == {(f"Éditeur généré {k}", f"org{k}-{role}", role)
                       for k in (1, 2) for role in ("admin", "manager", "viewer")}


def test_every_state_and_every_dispositif_is_present_in_a_plausible_mix(generated):
    states = Counter(Dossier.objects.values_list("state", flat=True))
    assert set(states) == set(State.values)
    assert states["deployed"] > states["cancelled"] and states["solde_paid"] > states["recovery_issued"]
    assert states["va_signed"] > states["avance_to_fix"]
    assert set(Dossier.objects.values_list("dispositif__code", flat=True)) == set(
        Dispositif.objects.values_list("code", flat=True))


def test_every_history_chain_verifies(generated):
    assert list(broken_dossiers()) == []
    heads = dict(Dossier.objects.values_list("pk", "history_hash"))
    seqs = dict(Dossier.objects.values_list("pk", "history_seq"))
    previous: dict[int, HistoryEntry] = {}
    for entry in HistoryEntry.objects.order_by("dossier_id", "seq"):
        before = previous.get(entry.dossier_id)
        assert entry.hash == entry.compute_hash()
        assert entry.seq == (before.seq + 1 if before else 1)
        assert entry.prev_hash == (before.hash if before else "")
        assert timezone.is_aware(entry.at) and (before is None or entry.at > before.at)
        previous[entry.dossier_id] = entry
    assert {pk: (e.seq, e.hash) for pk, e in previous.items()} == {pk: (seqs[pk], heads[pk]) for pk in heads}
    # The COPY path anchors each head with the key, as the service does.
    stored = dict(Dossier.objects.values_list("pk", "history_anchor"))
    assert stored == {pk: anchor(pk, seqs[pk], heads[pk]) for pk in heads}


def test_history_is_a_create_row_then_one_row_per_transition_and_amendment_change(generated):
    for dossier in Dossier.objects.prefetch_related("history", "amendments"):
        rows = list(dossier.history.all())
        assert rows[0].action == "create" and rows[0].to_state == "draft" and rows[0].from_state == ""
        assert rows[0].data == {"client": dossier.client_id, "solution": dossier.solution_id,
                                "scenario": rows[0].data["scenario"], "reference": dossier.reference}
        assert rows[0].at == dossier.created_at and rows[-1].at == dossier.updated_at
        assert all(r.action in TRANSITIONS or r.action in ("file_amendment", "amendment_validated", "amendment_paid")
                   for r in rows[1:])
        changes = [r.action for r in rows if r.action.startswith(("file_amendment", "amendment_"))]
        expected = {"filed": ["file_amendment"], "validated": ["file_amendment", "amendment_validated"],
                    "paid": ["file_amendment", "amendment_validated", "amendment_paid"]}
        assert changes == [a for amendment in dossier.amendments.all() for a in expected[amendment.status]]
        assert rows[-1].to_state == dossier.state


def test_replaying_the_history_through_the_model_transitions_gives_the_stored_dossier(generated):
    for dossier in Dossier.objects.select_related("client", "solution", "dispositif").prefetch_related("history"):
        rows = list(dossier.history.all())
        replay = Dossier(organisation_id=dossier.organisation_id, client=dossier.client, solution=dossier.solution,
                         dispositif=dossier.dispositif, scenario=rows[0].data["scenario"])
        for entry in rows[1:]:
            if entry.action not in TRANSITIONS:
                continue
            data = {k: v for k, v in entry.data.items() if k != "warnings"}
            assert entry.from_state == replay.state
            getattr(replay, entry.action)(validate_payload(entry.action, data, replay))
            assert entry.to_state == replay.state
        assert {f: getattr(replay, f) for f in STEP_FIELDS} == {f: getattr(dossier, f) for f in STEP_FIELDS}, \
            dossier.reference


def test_amounts_have_two_decimals_and_the_amounts_in_force_follow_the_amendments(generated):
    for entry in HistoryEntry.objects.exclude(action="create"):
        for key in ("declared_amount", "amount", "invoice_total", "solde_amount", "invoices_total", "paid_amount"):
            if entry.data.get(key) is not None:
                assert MONEY.match(entry.data[key]), (entry.action, key, entry.data[key])
    for dossier in Dossier.objects.prefetch_related("amendments"):
        amendments = list(dossier.amendments.all())
        assert dossier.declared_amount == (amendments[-1].amount if amendments else dossier.avance_declared_amount)
        paid = sum((a.paid_amount for a in amendments if a.status == Amendment.Status.PAID), Decimal("0.00"))
        assert dossier.avance_paid_total == (dossier.avance_paid_amount or Decimal("0.00")) + paid
        if dossier.solde_amount is not None:
            assert Decimal("0") < dossier.solde_amount <= dossier.declared_amount
            assert dossier.invoice_total >= dossier.solde_amount
        if dossier.declared_amount is not None:
            assert dossier.declared_amount > 0
    assert Amendment.objects.exists()


def test_step_dates_follow_the_state_path_and_the_history_times(generated):
    today = timezone.localdate()
    deployed = Dossier.objects.filter(state="deployed")
    assert not deployed.filter(Q(deployed_on=None) | ~Q(va_signed_on=None) | ~Q(solde_filed_on=None)).exists()
    paid = list(Dossier.objects.filter(state="solde_paid"))
    assert paid
    for d in paid:
        steps = [d.bdc_signed_on, d.avance_filed_on, d.avance_validated_on, d.deployed_on, d.va_signed_on,
                 d.solde_filed_on, d.solde_validated_on, d.solde_paid_on]
        assert None not in steps and steps == sorted(steps) and steps[-1] < today
        assert d.va_signed_on <= d.invoice_date <= d.solde_filed_on
        if d.avance_paid_on:
            assert d.avance_validated_on <= d.avance_paid_on <= d.deployed_on
    assert not Dossier.objects.filter(state="draft").exclude(bdc_signed_on=None).exists()
    assert not Dossier.objects.filter(state="cancelled", cancelled_on=None).exists()
    assert not Dossier.objects.filter(state="recovery_issued", recovery_issued_on=None).exists()
    date_keys = ("signed_on", "filed_on", "on", "paid_on", "deployed_on", "requested_on", "repaid_on")
    for entry in HistoryEntry.objects.exclude(action="create"):
        day = next(entry.data[k] for k in date_keys if k in entry.data)
        assert day == local_date(entry.at).isoformat(), (entry.action, day, entry.at)
        assert entry.at < timezone.now()


def test_avances_are_filed_before_their_dispositif_deadline(generated):
    for dispositif in Dispositif.objects.exclude(avance_deadline=None):
        last_day = local_date(dispositif.avance_deadline)
        assert not Dossier.objects.filter(dispositif=dispositif, avance_filed_on__gte=last_day).exists()


def test_pending_va_ageing_buckets_are_all_populated(generated):
    today = timezone.localdate()
    ages = [(today - d).days for d in Dossier.objects.filter(state="deployed").values_list("deployed_on", flat=True)]
    buckets = Counter("0-30" if a <= 30 else "31-60" if a <= 60 else "61-90" if a <= 90 else "90+" for a in ages)
    assert set(buckets) == {"0-30", "31-60", "61-90", "90+"}


def test_one_dossier_at_most_holds_the_prestation_per_client_and_dispositif(generated):
    holders = Dossier.objects.active().values("client", "dispositif").annotate(n=Count("id"))
    assert not holders.filter(n__gt=1).exists()
    # Clients come back: for another dispositif, after a cancellation, or with a draft whose BDC is then blocked.
    assert Dossier.objects.values("client").annotate(n=Count("id")).filter(n__gt=1).exists()


def test_a_dossier_client_solution_and_dispositif_belong_together(generated):
    assert Dossier.objects.filter(client__organisation=F("organisation"), solution__organisation=F("organisation"),
                                  solution__dispositif=F("dispositif")).count() == 300
    kinds = {"hopital": "es", "biologie": "laboratoire", "imagerie": "imagerie", "medecine_ville": "ps",
             "officine": "officine", "medico_social": "esms"}
    for couloir, kind in Dossier.objects.values_list("dispositif__couloir", "client__kind").distinct():
        assert kinds[couloir] == kind


def test_clients_are_valid_sites_about_one_for_one_and_a_half_dossiers(generated):
    clients = list(Client.objects.all())
    assert 300 / 1.8 < len(clients) < 300 / 1.2
    for client in clients:
        client.full_clean()     # FINESS and SIRET keys, department
        assert client.finess_geo or client.siret
        if client.finess_geo and client.finess_geo[:2] not in ("2A", "2B"):
            assert validate_finess(client.finess_geo) == client.finess_geo
        if client.siret:
            assert validate_siret(client.siret) == client.siret
    assert {c.kind for c in clients} >= {"es", "esms", "ps", "officine", "laboratoire", "imagerie"}


def test_solutions_cover_validated_pv_pilotes_pending_ones_and_unreferenced_versions(generated):
    solutions = Solution.objects.annotate(validated=Count("pv_pilotes", filter=Q(pv_pilotes__status="validated")))
    assert solutions.filter(validated__gt=0).exists()
    assert solutions.filter(validated=0, referenced_on__isnull=False).exists()
    assert solutions.filter(referenced_on=None).exists()
    assert PvPilote.objects.filter(status="pending").exists()
    # Past the BDC a dossier's solution is referenced; past the solde its PV pilote is validated.
    assert not Dossier.objects.exclude(avance_filed_on=None).filter(solution__referenced_on=None).exists()
    filed = Dossier.objects.exclude(solde_filed_on=None)
    assert not filed.exclude(solution__pv_pilotes__status="validated").exists()


def test_documents_match_the_steps_taken(generated):
    kinds = {}
    for dossier_id, kind in Document.objects.values_list("dossier_id", "kind"):
        kinds.setdefault(dossier_id, set()).add(kind)
    for dossier in Dossier.objects.select_related("client"):
        have = kinds.get(dossier.pk, set())
        if dossier.bdc_signed_on:
            assert "bdc" in have
        if dossier.va_signed_on:
            assert "va" in have
        if dossier.solde_filed_on:
            assert "invoice" in have
            assert ("vat_exemption" in have) == (not dossier.client.vat_liable)
            assert (dossier.vat == "HT") == (not dossier.client.vat_liable)
        if dossier.cancellation_requested_on:
            assert "honour_statement" in have
            assert ("client_renunciation" in have) == (dossier.cancellation_reason == "client_agreement")
    assert not Document.objects.exclude(content_type="application/pdf").exists()


def test_blockers_are_what_the_rules_report_for_each_next_step(generated):
    for dossier in Dossier.objects.select_related(*services.SELECT_RELATED):
        stored = set(Blocker.objects.filter(dossier=dossier).values_list("rule", flat=True))
        transition = rules.NEXT_STEP.get(dossier.state)
        payload = services.solde_draft_payload(dossier) if transition == "file_solde" else {}
        assert stored == {f.rule for f in rules.next_step_blockers(dossier, payload)}, dossier.reference
        assert set(Blocker.objects.filter(dossier=dossier).values_list("transition", flat=True)) <= {transition}
    blocking = set(Blocker.objects.values_list("rule", flat=True))
    assert {"solde.pv_pilote", "va.document", "solde.invoice_document"} <= blocking


def test_the_same_seed_gives_the_same_dossiers(db):
    generate()
    first = max(Dossier.objects.values_list("pk", flat=True))
    generate()
    columns = ("organisation__name", "dispositif__code", "state", "declared_amount", "bdc_signed_on", "deployed_on",
               "solde_paid_on", "client__name", "history_seq")
    runs = [list(Dossier.objects.filter(pk__lte=first).order_by("pk").values_list(*columns)),
            list(Dossier.objects.filter(pk__gt=first).order_by("pk").values_list(*columns))]
    assert runs[0] == runs[1]
    assert Counter(r[2] for r in runs[0]) == Counter(r[2] for r in runs[1])
    assert Organisation.objects.count() == 2 and Solution.objects.filter(version="5.0").count() == 2 * 13


def test_another_seed_gives_other_dossiers(db):
    generate(seed=1)
    generate(seed=2)
    rows = list(Dossier.objects.order_by("pk").values_list("dispositif__code", "state", "declared_amount"))
    assert rows[:300] != rows[300:]


def test_batches_give_the_same_mix_as_one_load(db):
    output = generate(count=40, batch=15)
    assert Dossier.objects.count() == 40
    assert "lot 3/3" in output
    assert list(broken_dossiers()) == []


def test_prints_progress_and_a_summary_of_rows_per_table(generated):
    assert "lot 1/1 : 300 dossiers" in generated
    summary = dict(re.findall(r"^  (\w+)\s+([\d,]+)$", generated, re.M))
    assert {k: int(v.replace(",", "")) for k, v in summary.items()} == {
        "clients": Client.objects.count(), "dossiers": 300, "history": HistoryEntry.objects.count(),
        "documents": Document.objects.count(), "amendments": Amendment.objects.count(),
        "blockers": Blocker.objects.count()}
    assert "dossiers/s" in generated and "lignes/s" in generated


def test_more_than_10_000_dossiers_need_postgresql(db, monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(CommandError, match="PostgreSQL est requis au-delà de 10 000 dossiers"):
        call_command("generate_dossiers", count=10_001, organisations=1, stdout=StringIO())
    assert not Dossier.objects.exists()


def test_refuses_to_load_when_its_history_hash_no_longer_matches_the_model(db, monkeypatch):
    monkeypatch.setattr(HistoryEntry, "compute_hash", lambda self: "0" * 64)
    with pytest.raises(ImproperlyConfigured, match="no longer matches HistoryEntry.compute_hash"):
        generate(count=10)
    assert not Dossier.objects.exists()


# serialized_rollback: the flush after a transactional test would otherwise empty the reference data.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_processes_write_the_same_dossiers_as_one_process():
    """On PostgreSQL, outside a transaction, batches are shared among processes (elsewhere: one process)."""
    columns = ("organisation__name", "dispositif__code", "state", "declared_amount", "client__name", "deployed_on",
               "history_seq")
    output = generate(count=90, batch=30, seed=3, workers=2)
    assert f"; {2 if connection.vendor == 'postgresql' else 1} processus" in output
    first = max(Dossier.objects.values_list("pk", flat=True))
    generate(count=90, batch=30, seed=3, workers=1)
    two = Counter(Dossier.objects.filter(pk__lte=first).values_list(*columns))
    one = Counter(Dossier.objects.filter(pk__gt=first).values_list(*columns))
    assert two == one and sum(one.values()) == 90
    assert list(broken_dossiers()) == []
