"""Kept counters (dossiers.counters): after any sequence of writes they equal the figures recomputed from the
dossiers; the rebuild command repairs them; the readers answer what the home page and the pipeline count."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from dossiers import blockers, counters, rules, services
from reports import queries as report_queries
from dossiers.models import Amendment, Blocker, BlockerCount, Dispositif, Dossier, PvPilote, State, StateCount
from segurtrack.errors import InvalidInput

from ..factories import DOCUMENTS_BEFORE, ClientFactory, PvPiloteFactory, SolutionFactory, attach, valid_payload, walk_to

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")
AMOUNTS = ["1000.00", "2500.50", "3000.00", "10000.00"]
AMOUNT_FIELDS = {"file_avance": "declared_amount", "refile_avance": "declared_amount",
                 "record_avance_payment": "amount", "record_solde_payment": "amount", "record_recovery": "amount"}
KINDS = ["bdc", "va", "invoice", "honour_statement", "vat_exemption"]


@pytest.fixture
def members(manager_membership, outsider_membership):
    return [manager_membership, outsider_membership]


@pytest.fixture
def solutions(members):
    """Two solutions per organisation, on two dispositifs (one with an avance deadline)."""
    late = Dispositif.objects.get(code="HOP-PFI-VA2")
    return [[SolutionFactory(organisation=m.organisation), SolutionFactory(organisation=m.organisation, dispositif=late)]
            for m in members]


def assert_kept_equal_recomputed(*organisations) -> None:
    for organisation in organisations:
        assert counters.kept(organisation) == counters.recompute(organisation)
        # The blocker rows carry what the home page reads them by: their dossier's organisation and next step (the
        # step tells the dossiers waiting for the client apart, so it must follow every change of state).
        for row in Blocker.objects.filter(dossier__organisation=organisation).select_related("dossier"):
            assert (row.organisation_id, row.transition) == (
                row.dossier.organisation_id, rules.NEXT_STEP.get(row.dossier.state)), row.dossier.state


# --- any sequence of writes --------------------------------------------------------------------------------------

@pytest.mark.slow
def test_kept_counters_equal_the_recomputed_ones_after_every_step_of_any_sequence(members, solutions):
    organisations = [m.organisation for m in members]
    pvs = [PvPiloteFactory(solution=s[0], status=PvPilote.Status.PENDING) for s in solutions]
    for s in solutions:
        PvPiloteFactory(solution=s[1])

    class Writes(RuleBasedStateMachine):
        done: list[str] = []  # the transitions that went through, over every sequence
        pending_seen = False  # whether a deployed dossier (a pending-VA cell) was ever counted

        def __init__(self):
            super().__init__()
            self.dossiers: list[int] = []

        def pick(self, data) -> tuple[Dossier, object]:
            dossier = Dossier.objects.select_related("client", "dispositif").get(
                pk=data.draw(st.sampled_from(self.dossiers)))
            return dossier, members[organisations.index(dossier.organisation)]

        @rule(side=st.integers(0, 1), which=st.integers(0, 1), reuse=st.booleans())
        def create(self, side, which, reuse):
            member = members[side]
            client = (Dossier.objects.filter(organisation=member.organisation).order_by("pk").first() if reuse
                      else None)
            dossier = services.create_dossier(
                organisation=member.organisation, by=member.user, solution=solutions[side][which],
                client=client.client if client else ClientFactory(organisation=member.organisation))
            self.dossiers.append(dossier.pk)

        @rule(side=st.integers(0, 1), which=st.integers(0, 1))
        def deploy(self, side, which):
            # A dossier walked to deployed through the services: its VA awaited, counted in a pending-VA cell.
            self.dossiers.append(walk_to(State.DEPLOYED, membership=members[side], solution=solutions[side][which]).pk)

        @precondition(lambda self: self.dossiers)
        @rule(data=st.data(), steps=st.integers(1, 4))
        def transitions(self, data, steps):
            dossier, member = self.pick(data)
            for _step in range(steps):
                available = sorted(t.name for t in dossier.get_available_state_transitions())
                if not available:
                    return
                name = data.draw(st.sampled_from(available))
                # Usually with the documents it needs, sometimes without (then refused, unless attached before).
                if data.draw(st.sampled_from([True, True, True, False])):
                    for kind in DOCUMENTS_BEFORE.get(name, []):
                        attach(dossier, kind, member.user)
                payload = valid_payload(name, dossier)
                if name in AMOUNT_FIELDS:
                    payload[AMOUNT_FIELDS[name]] = data.draw(st.sampled_from(AMOUNTS))
                try:
                    dossier = services.run_transition(dossier.pk, name, by=member.user, data=payload).dossier
                    self.done.append(name)
                except (services.RulesFailed, InvalidInput):
                    pass  # refused: nothing saved, counters included
                assert_kept_equal_recomputed(*organisations)

        @precondition(lambda self: self.dossiers)
        @rule(data=st.data(), amount=st.sampled_from(AMOUNTS))
        def amend(self, data, amount):
            dossier, member = self.pick(data)
            try:
                services.add_amendment(dossier.pk, by=member.user, filed_on=date(2024, 6, 25), amount=Decimal(amount))
            except (services.RulesFailed, InvalidInput):
                pass

        # This sequence's amendments only: the database keeps earlier sequences' rows, and a choice among them would
        # differ when Hypothesis replays a sequence (FlakyStrategyDefinition).
        @precondition(lambda self: Amendment.objects.filter(dossier_id__in=self.dossiers)
                      .exclude(status=Amendment.Status.PAID).exists())
        @rule(data=st.data(), paid=st.sampled_from(AMOUNTS))
        def move_amendment(self, data, paid):
            amendment = data.draw(st.sampled_from(list(
                Amendment.objects.filter(dossier_id__in=self.dossiers).exclude(status=Amendment.Status.PAID)
                .select_related("dossier").order_by("pk"))))
            member = members[organisations.index(amendment.dossier.organisation)]
            status = services.AMENDMENT_NEXT[amendment.status]
            try:
                services.update_amendment(amendment.pk, by=member.user, status=status, on=date(2024, 6, 26),
                                          paid_amount=Decimal(paid))
            except (services.RulesFailed, InvalidInput):
                pass

        @precondition(lambda self: Dossier.objects.filter(pk__in=self.dossiers, state=State.DEPLOYED).exists())
        @rule(data=st.data(), days=st.sampled_from([0, 1, 31, 95]))
        def correct_deployment(self, data, days):
            # A deployment date corrected moves the dossier's pending-VA cell (its day) while it awaits its VA.
            dossier = data.draw(st.sampled_from(list(
                Dossier.objects.filter(pk__in=self.dossiers, state=State.DEPLOYED).order_by("pk"))))
            member = members[organisations.index(dossier.organisation)]
            try:
                services.correct_step(dossier.pk, by=member.user, step="mark_deployed",
                                      changes={"deployed_on": (date(2024, 6, 1) - timedelta(days=days)).isoformat()})
            except (services.RulesFailed, InvalidInput, services.CorrectionRefused):
                pass

        @precondition(lambda self: self.dossiers)
        @rule(data=st.data(), kind=st.sampled_from(KINDS))
        def add_document(self, data, kind):
            dossier, member = self.pick(data)
            attach(dossier, kind, member.user)

        @rule(side=st.integers(0, 1), validated=st.booleans())
        def pv_pilote(self, side, validated):
            # A PV pilote validated or not changes the blockers of the solution's dossiers (the background refresh).
            pv = pvs[side]
            status = PvPilote.Status.VALIDATED if validated else PvPilote.Status.PENDING
            services.set_pv_pilote_status(pv, by=members[side].user, status=status)
            blockers.refresh("solution", pv.solution_id)

        @invariant()
        def kept_equal_recomputed(self):
            assert_kept_equal_recomputed(*organisations)
            Writes.pending_seen = Writes.pending_seen or any(counters.kept(o)["pending_va"] for o in organisations)

    run_state_machine_as_test(Writes, settings=settings(
        max_examples=12, stateful_step_count=25, deadline=None, derandomize=True, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
    # The sequences went somewhere: transitions made, dossiers in several states, blocked ones, amounts summed.
    assert len(Writes.done) >= 10 and len(set(Writes.done)) >= 3
    kept = [counters.kept(o) for o in organisations]
    assert len({state for k in kept for (_d, _s, state) in k["states"]}) >= 3
    assert any(n for k in kept for (_step, rule), n in k["blockers"].items() if rule == counters.ANY_RULE)
    assert any(sums[1] > 0 for k in kept for sums in k["states"].values())
    assert Writes.pending_seen  # deployed dossiers were counted per day at some point


def test_a_refused_transition_leaves_the_counters_as_they_were(manager_membership):
    dossier = walk_to(State.DRAFT, membership=manager_membership)  # no BDC attached: sign_bdc is refused
    before = counters.kept(manager_membership.organisation)
    with pytest.raises(services.RulesFailed):
        services.run_transition(dossier.pk, "sign_bdc", by=manager_membership.user, data=valid_payload("sign_bdc"))
    assert counters.kept(manager_membership.organisation) == before
    assert before["states"] == {(dossier.dispositif_id, dossier.solution_id, State.DRAFT): (1, 0, 0, 0)}


def test_a_transition_moves_the_dossier_and_its_amounts_between_cells(manager_membership):
    dossier = walk_to(State.AVANCE_VALIDATED, membership=manager_membership)
    services.run_transition(dossier.pk, "record_avance_payment", by=manager_membership.user,
                            data=valid_payload("record_avance_payment", amount="2500.50"))
    key = (dossier.dispositif_id, dossier.solution_id)
    assert counters.kept(manager_membership.organisation)["states"] == {
        (*key, State.AVANCE_PAID): (1, Decimal("10000.00"), Decimal("2500.50"), Decimal("0.00"))}


# --- bulk writers ------------------------------------------------------------------------------------------------

def _sheet(tmp_path, count: int) -> str:
    from imports import samples

    from ..imports.conftest import rows

    path = tmp_path / "book.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        samples.write_csv(iter(rows(count)), handle)
    return str(path)


def test_an_import_counts_its_dossiers_and_a_dry_run_counts_nothing(tmp_path, manager_membership):
    organisation = manager_membership.organisation
    path = _sheet(tmp_path, 620)  # two batches
    call_command("import_dossiers", path, "--organisation", str(organisation.pk), stdout=io.StringIO())
    assert Dossier.objects.count() == 0 and not StateCount.objects.exists() and not BlockerCount.objects.exists()
    call_command("import_dossiers", path, "--commit", "--organisation", str(organisation.pk), stdout=io.StringIO())
    kept = counters.kept(organisation)
    assert sum(sums[0] for sums in kept["states"].values()) == 620
    assert kept["blockers"]  # an imported book has blocked dossiers too
    assert_kept_equal_recomputed(organisation)


def test_generated_dossiers_are_counted(db):
    from organisations.models import Organisation

    call_command("generate_dossiers", count=120, organisations=2, seed=3, stdout=io.StringIO())
    organisations = list(Organisation.objects.filter(dossiers__isnull=False).distinct())
    assert len(organisations) == 2
    assert sum(sums[0] for o in organisations for sums in counters.kept(o)["states"].values()) == 120
    assert_kept_equal_recomputed(*organisations)


# --- rebuild -----------------------------------------------------------------------------------------------------

@pytest.fixture
def tampered(members, solutions):
    """Dossiers in both organisations, then each organisation's counters damaged three ways."""
    for member, (solution, _late) in zip(members, solutions):
        walk_to(State.BDC_SIGNED, membership=member, solution=solution)
        walk_to(State.DRAFT, membership=member, solution=solution)
        organisation = member.organisation
        StateCount.objects.filter(organisation=organisation, state=State.DRAFT).update(count=99)
        BlockerCount.objects.filter(organisation=organisation, rule=counters.ANY_RULE).delete()
        BlockerCount.objects.create(organisation=organisation, rule="no.such_rule", count=3)
    return [m.organisation for m in members]


def test_the_command_rebuilds_tampered_counters(tampered):
    assert all(counters.kept(o) != counters.recompute(o) for o in tampered)
    out = io.StringIO()
    call_command("rebuild_counters", stdout=out)
    assert "2 organisation(s)" in out.getvalue()
    assert_kept_equal_recomputed(*tampered)


def test_the_command_rebuilds_only_the_organisation_named(tampered):
    first, second = tampered
    call_command("rebuild_counters", "--organisation", str(first.pk), stdout=io.StringIO())
    assert counters.kept(first) == counters.recompute(first)
    assert counters.kept(second) != counters.recompute(second)


def test_the_check_reports_wrong_counters_and_passes_right_ones(tampered):
    first, second = tampered
    out = io.StringIO()
    with pytest.raises(CommandError, match="2 aux compteurs faux"):
        call_command("rebuild_counters", "--check", stdout=out)
    assert f"Organisation {first.pk} : compteurs faux" in out.getvalue()
    assert counters.kept(first) != counters.recompute(first)  # a check writes nothing
    counters.rebuild(first)
    out = io.StringIO()
    call_command("rebuild_counters", "--check", "--organisation", str(first.pk), stdout=out)
    assert "1 organisation(s) vérifiée(s), 0 aux compteurs faux" in out.getvalue()


def test_the_command_refuses_an_unknown_organisation(tampered):
    with pytest.raises(CommandError, match="introuvable"):
        call_command("rebuild_counters", "--organisation", "987654", stdout=io.StringIO())
    assert all(counters.kept(o) != counters.recompute(o) for o in tampered)  # nothing rebuilt


# --- readers -----------------------------------------------------------------------------------------------------

@pytest.fixture
def book(members, solutions):
    """Dossiers of both organisations in several states, on both dispositifs, some blocked."""
    made = []
    for member, (solution, late) in zip(members, solutions):
        for state, on in ((State.DRAFT, solution), (State.DRAFT, late), (State.BDC_SIGNED, late),
                          (State.AVANCE_PAID, solution), (State.DEPLOYED, solution), (State.DEPLOYED, late)):
            made.append(walk_to(state, membership=member, solution=on))
    return made


def test_counts_for_answers_the_home_page_figures_in_one_query(book, manager_membership, django_assert_num_queries):
    organisation = manager_membership.organisation
    # Ten days before HOP-PFI-VA2's avance deadline (2025-09-17 12:00 Paris): its draft and signed dossiers are due.
    now = datetime(2025, 9, 7, 12, tzinfo=PARIS)
    home = report_queries.home(organisation, now=now)
    with django_assert_num_queries(1):
        kept = counters.counts_for(organisation, now=now, avance_days=report_queries.AVANCE_DEADLINE_DAYS)
    assert [(value, kept["by_state"][value]) for value, _label, _n in home.state_counts] == [
        (value, n) for value, _label, n in home.state_counts]
    assert (kept["total"], kept["va_awaited"], kept["avance_due"]) == (
        home.total, home.waiting_count, home.avance_due_count) == (6, 2, 2)
    # "Bloqués par une règle" leaves out the two deployed dossiers, waiting for the client's VA: the kept counts are
    # per step blocked, and sign_va (a deployed dossier's) is the client's.
    assert (kept["blocked_total"], home.blocked_total) == (2, 2)
    assert "va.document" not in dict(kept["blocked_rules"])
    assert kept["blocked_rules"] == [(group.rule, group.count) for group in home.blocked_rules]
    blocked = counters.kept(organisation)["blockers"]
    assert blocked[("sign_va", counters.ANY_RULE)] == 2 and blocked[("sign_va", "va.document")] == 2


def test_counts_for_an_organisation_without_dossiers_is_all_zero(organisation, django_assert_num_queries):
    with django_assert_num_queries(1):
        kept = counters.counts_for(organisation)
    assert kept["total"] == kept["blocked_total"] == kept["avance_due"] == 0
    assert kept["blocked_rules"] == [] and set(kept["by_state"]) == set(State.values)


@pytest.mark.parametrize("filters", [
    {}, {"dispositif": "HOP-PFI-VA2"}, {"couloir": "hopital"}, {"solution": "first"}, {"dispositif": "NONE"},
])
def test_the_kept_pipeline_is_the_recomputed_one_in_one_query(book, solutions, manager_membership, filters,
                                                              django_assert_num_queries):
    if filters.get("solution") == "first":
        filters = {"solution": solutions[0][0].pk}
    if filters.get("couloir"):
        filters = {"couloir": Dispositif.objects.get(code="HOP-PFI-VA2").couloir_id}
    for scope in (manager_membership.organisation, manager_membership.organisation_id, None):
        with django_assert_num_queries(1):
            kept = counters.pipeline(scope, **filters)
        assert kept == report_queries.pipeline_live(scope, **filters)
    both = counters.pipeline(None, **filters)
    if not filters:
        assert sum(row["count"] for row in both) == 12
        assert sum(row["avance_paid"] for row in both) == Decimal("18000.00")  # three paid avances of 3000 in each
    # Platform staff narrowing to one organisation get that organisation's rows.
    assert counters.pipeline(None, organisation=manager_membership.organisation_id, **filters) == report_queries.pipeline_live(
        None, organisation=manager_membership.organisation_id, **filters)
