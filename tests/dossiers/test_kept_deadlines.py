"""Kept deadlines (dossiers.deadlines): each writer that can change a deadline keeps its rows in its transaction, in
one statement, and writes none when what it changed is not read by a deadline; bulk loaders and the rebuild command
leave rows equal to the recomputed ones; `--check` finds wrong ones."""
from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace

import pytest
from django.contrib import admin
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dossiers import deadlines, followups, services
from dossiers.deadlines import Kind
from dossiers.models import Client, Dispositif, OpenDeadline, State

from ..factories import ClientFactory, EsmsClientFactory, SolutionFactory, attach, valid_payload, walk_to

pytestmark = pytest.mark.django_db
TABLE = OpenDeadline._meta.db_table


def kept_statements(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if TABLE in q["sql"]]


def rows_of(organisation, **filters) -> list[OpenDeadline]:
    return list(OpenDeadline.objects.filter(organisation=organisation, **filters).order_by("pk"))


def assert_kept_equal_recomputed(*organisations) -> None:
    for organisation in organisations:
        assert deadlines.kept(organisation) == deadlines.recompute(organisation)


def avance_dispositif(deadline: datetime) -> Dispositif:
    return Dispositif.objects.create(code="TEST-KEPT", label="Test", couloir_id="hopital", vague=2,
                                     avance_deadline=deadline)


# --- the dossier's writers ---------------------------------------------------------------------------------------

def test_a_transition_replaces_the_dossier_s_deadlines_in_one_statement(manager_membership):
    dossier = walk_to(State.DEPLOYED, membership=manager_membership)
    pending, = rows_of(dossier.organisation)
    assert (pending.kind, pending.due_on, pending.dossier_id) == (Kind.PENDING_VA, date(2024, 7, 1), dossier.pk)
    assert (pending.reference, pending.client_name) == (dossier.reference, dossier.client.name)
    services.update_dossier(dossier.pk, by=manager_membership.user, changes={"maintenance_contract": True})
    attach(dossier, "va", manager_membership.user)
    with CaptureQueriesContext(connection) as queries:
        services.run_transition(dossier.pk, "sign_va", by=manager_membership.user,
                                data=valid_payload("sign_va", dossier))
    if connection.vendor == "postgresql":
        assert len(kept_statements(queries)) == 1
    maintenance, = rows_of(dossier.organisation)  # the pending VA closed, the maintenance coverage opened
    assert (maintenance.kind, maintenance.due_on) == (Kind.MAINTENANCE_END, date(2030, 6, 20))
    assert_kept_equal_recomputed(dossier.organisation)


def test_a_refused_transition_leaves_the_kept_deadlines_as_they_were(manager_membership):
    dossier = walk_to(State.DEPLOYED, membership=manager_membership)
    before = deadlines.kept(dossier.organisation)
    with pytest.raises(services.RulesFailed):  # no VA document attached
        services.run_transition(dossier.pk, "sign_va", by=manager_membership.user,
                                data=valid_payload("sign_va", dossier))
    assert deadlines.kept(dossier.organisation) == before != []


def test_a_new_dossier_on_a_dispositif_with_an_avance_deadline_gets_its_deadline(manager_membership):
    deadline = timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=9), time(12)))
    solution = SolutionFactory(organisation=manager_membership.organisation, dispositif=avance_dispositif(deadline))
    dossier = walk_to(State.DRAFT, membership=manager_membership, solution=solution)
    avance, = rows_of(dossier.organisation)
    assert (avance.kind, avance.due_at, avance.due_on, avance.dossier_id) == (
        Kind.AVANCE_FILING, deadline, deadline.date(), dossier.pk)
    walk_to(State.AVANCE_FILED, membership=manager_membership, dossier=dossier)
    assert rows_of(dossier.organisation) == []  # filed: no longer due


def test_the_dossier_s_settings_keep_its_rows_only_when_they_show_in_them(manager_membership):
    dossier = walk_to(State.VA_SIGNED, membership=manager_membership)
    assert rows_of(dossier.organisation) == []
    services.update_dossier(dossier.pk, by=manager_membership.user, changes={"maintenance_contract": True})
    services.update_dossier(dossier.pk, by=manager_membership.user, changes={"reference": "MAINT-1"})
    row, = rows_of(dossier.organisation)
    assert (row.kind, row.reference) == (Kind.MAINTENANCE_END, "MAINT-1")
    with CaptureQueriesContext(connection) as queries:
        services.update_dossier(dossier.pk, by=manager_membership.user, changes={"installed_version": "2.1"})
    assert kept_statements(queries) == []  # not read by any deadline: nothing rewritten
    services.update_dossier(dossier.pk, by=manager_membership.user, changes={"maintenance_contract": False})
    assert rows_of(dossier.organisation) == []


def test_a_recovery_keeps_what_is_still_owed(manager_membership):
    dossier = walk_to(State.RECOVERY_ISSUED, membership=manager_membership)
    row, = rows_of(dossier.organisation)
    assert (row.kind, row.amount) == (Kind.RECOVERY, dossier.avance_paid_total - dossier.recovery_repaid)
    services.run_transition(dossier.pk, "record_recovery", by=manager_membership.user,
                            data=valid_payload("record_recovery", amount="1000.00"))
    row, = rows_of(dossier.organisation)
    assert row.amount == dossier.avance_paid_total - dossier.recovery_repaid - 1000


# --- clients, solutions and their follow-up ----------------------------------------------------------------------

def test_a_client_s_prerequisites_and_name_reach_its_dossiers_rows(manager_membership):
    client = EsmsClientFactory(organisation=manager_membership.organisation, ans_contract_signed_on=None)
    dossier = walk_to(State.BDC_SIGNED, membership=manager_membership, client=client)
    row, = rows_of(dossier.organisation)
    assert (row.kind, row.client_name) == (Kind.ESMS_PREREQUISITES, client.name)
    client.name = "Ehpad des Tilleuls"
    services.save_client(client, by=manager_membership.user)
    assert [r.client_name for r in rows_of(dossier.organisation)] == ["Ehpad des Tilleuls"]
    client.department = "69"
    with CaptureQueriesContext(connection) as queries:
        services.save_client(client, by=manager_membership.user)
    assert kept_statements(queries) == []  # the department is no deadline's
    client.ans_contract_signed_on = date(2024, 3, 1)
    services.save_client(client, by=manager_membership.user)
    assert rows_of(dossier.organisation) == []  # prerequisites complete


def test_a_solution_s_new_version_reaches_its_rows_and_its_referencing_dates_do_not(manager_membership):
    dossier = walk_to(State.DEPLOYED, membership=manager_membership)
    solution = dossier.solution
    solution.version = "9.9"
    services.save_solution(solution, by=manager_membership.user)
    row, = rows_of(dossier.organisation)
    assert row.solution_label == f"{solution.name} 9.9"
    solution.referenced_on = date(2024, 1, 15)
    with CaptureQueriesContext(connection) as queries:
        services.save_solution(solution, by=manager_membership.user)
    assert kept_statements(queries) == []


def test_portability_requests_open_and_close_their_deadline(manager_membership):
    client = ClientFactory(organisation=manager_membership.organisation)
    user = manager_membership.user
    request = followups.save_portability_request(client, by=user, changes={"requested_on": date(2024, 5, 2)})
    row, = rows_of(client.organisation)
    assert (row.kind, row.due_on, row.object_id, row.client_id, row.dossier_id) == (
        Kind.PORTABILITY, date(2024, 5, 17), request.pk, client.pk, None)
    followups.save_portability_request(client, by=user, request=request, changes={"fulfilled_on": date(2024, 5, 10)})
    assert rows_of(client.organisation) == []


def test_a_solution_change_opens_the_ans_notice_then_the_rereferencing(manager_membership):
    solution = SolutionFactory(organisation=manager_membership.organisation)
    walk_to(State.DEPLOYED, membership=manager_membership, solution=solution)  # its dossier's row stays as it is
    user = manager_membership.user
    change = followups.save_solution_change(solution, by=user, changes={
        "changed_on": date(2024, 1, 2), "description": "Refonte", "affects_conformity": True})
    assert [(r.kind, r.due_on) for r in rows_of(solution.organisation, dossier__isnull=True)] == [
        (Kind.ANS_NOTICE, date(2024, 1, 17))]
    with CaptureQueriesContext(connection) as queries:
        followups.save_solution_change(solution, by=user, change=change, changes={
            "ans_notified_on": date(2024, 1, 10), "rereferencing_requested_on": date(2024, 1, 31)})
    if connection.vendor == "postgresql":
        assert len(kept_statements(queries)) == 1
    assert [(r.kind, r.due_on, r.object_id) for r in rows_of(solution.organisation, dossier__isnull=True)] == [
        (Kind.REREFERENCING, date(2024, 2, 29), change.pk)]
    assert len(rows_of(solution.organisation, dossier__isnull=False)) == 1
    assert_kept_equal_recomputed(solution.organisation)


# --- settings the organisation's rows depend on -------------------------------------------------------------------

def test_the_organisation_s_pending_va_delay_moves_its_rows_and_its_name_does_not(manager_membership):
    dossier = walk_to(State.DEPLOYED, membership=manager_membership)
    organisation = dossier.organisation
    organisation.pending_va_days = 45
    organisation.save()
    row, = rows_of(organisation)
    assert row.due_on == dossier.deployed_on + timedelta(days=45)
    organisation.name = "Éditeur renommé"
    with CaptureQueriesContext(connection) as queries:
        organisation.save()
    assert kept_statements(queries) == []


def test_a_dispositif_s_avance_deadline_changed_in_the_admin_moves_every_organisation_s_rows(
        manager_membership, outsider_membership, rf, admin_user):
    first = timezone.make_aware(datetime(2026, 3, 1, 12))
    dispositif = avance_dispositif(first)
    made = [walk_to(State.DRAFT, membership=m, solution=SolutionFactory(organisation=m.organisation,
                                                                         dispositif=dispositif))
            for m in (manager_membership, outsider_membership)]
    later = timezone.make_aware(datetime(2026, 4, 1, 12))
    dispositif.avance_deadline = later
    request = rf.post("/")
    request.user = admin_user
    admin.site._registry[Dispositif].save_model(request, dispositif, SimpleNamespace(changed_data=["avance_deadline"]),
                                               change=True)
    for dossier in made:
        row, = rows_of(dossier.organisation)
        assert (row.due_at, row.due_on) == (later, date(2026, 4, 1))
    assert_kept_equal_recomputed(*(d.organisation for d in made))


# --- bulk loaders and the command ----------------------------------------------------------------------------------

def test_an_import_keeps_its_dossiers_deadlines_and_a_dry_run_keeps_nothing(tmp_path, manager_membership):
    from .test_counters import _sheet

    organisation = manager_membership.organisation
    path = _sheet(tmp_path, 40)
    call_command("import_dossiers", path, "--organisation", str(organisation.pk), stdout=io.StringIO())
    assert not OpenDeadline.objects.exists()
    call_command("import_dossiers", path, "--commit", "--organisation", str(organisation.pk), stdout=io.StringIO())
    assert OpenDeadline.objects.filter(organisation=organisation).exists()
    assert_kept_equal_recomputed(organisation)


def test_generated_dossiers_get_their_deadlines(db):
    from organisations.models import Organisation

    call_command("generate_dossiers", count=120, organisations=2, seed=3, stdout=io.StringIO())
    organisations = list(Organisation.objects.filter(dossiers__isnull=False).distinct())
    assert OpenDeadline.objects.filter(kind=Kind.PENDING_VA).exists()
    assert_kept_equal_recomputed(*organisations)


@pytest.fixture
def tampered(manager_membership, outsider_membership):
    """Deadlines in both organisations, then each organisation's rows damaged: one removed, one moved, one added."""
    organisations = []
    for member in (manager_membership, outsider_membership):
        walk_to(State.DEPLOYED, membership=member)
        walk_to(State.SOLDE_TO_FIX, membership=member)
        organisation = member.organisation
        OpenDeadline.objects.filter(organisation=organisation, kind=Kind.SOLDE_TO_FIX).delete()
        OpenDeadline.objects.filter(organisation=organisation).update(due_on=date(2020, 1, 1))
        OpenDeadline.objects.create(organisation=organisation, kind=Kind.RECOVERY, due_on=date(2020, 1, 1))
        organisations.append(organisation)
    return organisations


def test_the_check_reports_wrong_deadlines_and_the_command_rebuilds_them(tampered):
    first, second = tampered
    out = io.StringIO()
    with pytest.raises(CommandError, match="0 aux compteurs faux, 2 aux échéances fausses"):
        call_command("rebuild_counters", "--check", stdout=out)
    assert f"Organisation {first.pk} : échéances fausses" in out.getvalue()
    assert deadlines.kept(first) != deadlines.recompute(first)  # a check writes nothing
    out = io.StringIO()
    call_command("rebuild_counters", "--organisation", str(first.pk), stdout=out)
    assert "2 échéance(s) ouverte(s)" in out.getvalue()
    assert_kept_equal_recomputed(first)
    assert deadlines.kept(second) != deadlines.recompute(second)  # only the organisation named
    call_command("rebuild_counters", stdout=io.StringIO())
    assert_kept_equal_recomputed(first, second)
    out = io.StringIO()
    call_command("rebuild_counters", "--check", stdout=out)
    assert "2 organisation(s) vérifiée(s), 0 aux compteurs faux, 0 aux échéances fausses" in out.getvalue()


def test_deleting_a_client_deletes_its_rows(manager_membership):
    client = ClientFactory(organisation=manager_membership.organisation)
    followups.save_portability_request(client, by=manager_membership.user, changes={"requested_on": date(2024, 5, 2)})
    assert rows_of(client.organisation)
    Client.objects.filter(pk=client.pk).delete()
    assert rows_of(client.organisation) == []
