"""Kept deadlines (dossiers.deadlines): after any sequence of writes through the writers (transitions, amendments,
dossier settings, clients, solutions, portability requests, solution changes, the organisation's pending-VA delay)
they equal the deadlines recomputed from the data, in every organisation."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, Phase, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from dossiers import deadlines, followups, services
from dossiers.models import Client, Dispositif, Dossier, PortabilityRequest, SolutionChange
from segurtrack.errors import InvalidInput

from ..factories import DOCUMENTS_BEFORE, ClientFactory, EsmsClientFactory, SolutionFactory, attach, valid_payload

pytestmark = pytest.mark.django_db
AMOUNTS = ["1000.00", "3000.00", "10000.00"]
AMOUNT_FIELDS = {"file_avance": "declared_amount", "refile_avance": "declared_amount",
                 "record_avance_payment": "amount", "record_solde_payment": "amount", "record_recovery": "amount"}
DAYS = [date(2024, 5, 2), date(2024, 6, 30), date(2025, 1, 31)]


@pytest.fixture
def members(manager_membership, outsider_membership):
    return [manager_membership, outsider_membership]


WRITERS = {"create", "amend", "settings", "client", "rename_solution", "portability", "solution_change",
           "pending_va_days"}


def assert_kept_equal_recomputed(organisations) -> set[str]:
    """Kept == recomputed in each organisation; the kinds of the deadlines kept."""
    kinds = set()
    for organisation in organisations:
        kept = deadlines.kept(organisation)
        assert kept == deadlines.recompute(organisation)
        kinds |= {row[0] for row in kept}
    return kinds


def run_sequences(members, *, examples: int, steps: int) -> tuple[list[str], set[str]]:
    """Random sequences of writes in two organisations, the invariant checked after each step; the names of the
    writes that went through, and the kinds of deadlines kept on the way."""
    organisations = [m.organisation for m in members]
    late = Dispositif.objects.get(code="HOP-PFI-VA2")  # with an avance deadline
    done: list[str] = []
    seen: set[str] = set()

    class Writes(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.dossiers: list[int] = []
            # Each sequence its own solutions: what one renamed or changed never decides another's outcomes.
            self.solutions = [[SolutionFactory(organisation=m.organisation),
                               SolutionFactory(organisation=m.organisation, dispositif=late)] for m in members]

        def member_of(self, organisation_id: int):
            return next(m for m in members if m.organisation_id == organisation_id)

        def pick(self, data) -> Dossier:
            return Dossier.objects.select_related("client", "dispositif", "solution").get(
                pk=data.draw(st.sampled_from(self.dossiers)))

        @rule(side=st.integers(0, 1), which=st.integers(0, 1), esms=st.booleans())
        def create(self, side, which, esms):
            member = members[side]
            client = (EsmsClientFactory(organisation=member.organisation, ans_contract_signed_on=None) if esms
                      else ClientFactory(organisation=member.organisation))
            dossier = services.create_dossier(organisation=member.organisation, by=member.user, client=client,
                                              solution=self.solutions[side][which])
            self.dossiers.append(dossier.pk)
            done.append("create")

        @precondition(lambda self: self.dossiers)
        @rule(data=st.data(), steps=st.integers(1, 5))
        def transitions(self, data, steps):
            dossier = self.pick(data)
            member = self.member_of(dossier.organisation_id)
            for _step in range(steps):
                available = sorted(t.name for t in dossier.get_available_state_transitions())
                if not available:
                    return
                name = data.draw(st.sampled_from(available))
                for kind in DOCUMENTS_BEFORE.get(name, []):
                    attach(dossier, kind, member.user)
                if name == "file_solde" and not dossier.client.vat_liable:
                    attach(dossier, "vat_exemption", member.user)
                payload = valid_payload(name, dossier)
                if name in AMOUNT_FIELDS:
                    payload[AMOUNT_FIELDS[name]] = data.draw(st.sampled_from(AMOUNTS))
                try:
                    dossier = services.run_transition(dossier.pk, name, by=member.user, data=payload).dossier
                    done.append(name)
                except (services.RulesFailed, InvalidInput):
                    pass  # refused: nothing saved, kept deadlines included
                assert_kept_equal_recomputed(organisations)

        @precondition(lambda self: self.dossiers)
        @rule(data=st.data(), amount=st.sampled_from(AMOUNTS))
        def amend(self, data, amount):
            dossier = self.pick(data)
            try:
                services.add_amendment(dossier.pk, by=self.member_of(dossier.organisation_id).user,
                                       filed_on=date(2024, 6, 25), amount=Decimal(amount))
                done.append("amend")
            except (services.RulesFailed, InvalidInput):
                pass

        @precondition(lambda self: self.dossiers)
        @rule(data=st.data(), maintenance=st.booleans(), rename=st.booleans())
        def settings(self, data, maintenance, rename):
            dossier = self.pick(data)
            changes = {"maintenance_contract": maintenance}
            if rename:
                changes["reference"] = f"REF-{dossier.pk}-{len(done)}"
            services.update_dossier(dossier.pk, by=self.member_of(dossier.organisation_id).user, changes=changes)
            done.append("settings")

        @precondition(lambda self: self.dossiers)
        @rule(data=st.data(), complete=st.booleans(), rename=st.booleans())
        def client(self, data, complete, rename):
            client = self.pick(data).client
            if complete:
                client.ans_contract_signed_on = date(2024, 3, 1)
                client.cpe_cards = client.software_certificates = Client.Prerequisite.NOT_NEEDED
            else:
                client.ans_contract_signed_on = None
            if rename:
                client.name = f"{client.name} bis"
            services.save_client(client, by=self.member_of(client.organisation_id).user)
            done.append("client")

        @rule(side=st.integers(0, 1), which=st.integers(0, 1))
        def rename_solution(self, side, which):
            solution = self.solutions[side][which]
            solution.refresh_from_db()
            solution.version = f"{solution.version}.1"
            services.save_solution(solution, by=members[side].user)
            done.append("rename_solution")

        @precondition(lambda self: self.dossiers)
        @rule(data=st.data(), on=st.sampled_from(DAYS), fulfil=st.booleans())
        def portability(self, data, on, fulfil):
            client = self.pick(data).client
            user = self.member_of(client.organisation_id).user
            request = PortabilityRequest.objects.filter(client=client, fulfilled_on__isnull=True).first()
            if request is not None and fulfil:
                followups.save_portability_request(client, by=user, request=request,
                                                   changes={"fulfilled_on": max(on, request.requested_on)})
            else:
                followups.save_portability_request(client, by=user, changes={"requested_on": on})
            done.append("portability")

        @rule(side=st.integers(0, 1), which=st.integers(0, 1), on=st.sampled_from(DAYS), step=st.integers(0, 2))
        def solution_change(self, side, which, on, step):
            solution, user = self.solutions[side][which], members[side].user
            change = SolutionChange.objects.filter(solution=solution).order_by("-pk").first()
            if change is None or step == 0:
                followups.save_solution_change(solution, by=user, changes={
                    "changed_on": on, "description": "Nouveau module", "affects_conformity": True})
            elif step == 1:
                followups.save_solution_change(solution, by=user, change=change, changes={
                    "ans_notified_on": max(on, change.changed_on),
                    "rereferencing_requested_on": max(on, change.changed_on)})
            elif change.rereferencing_requested_on is not None:
                followups.save_solution_change(solution, by=user, change=change, changes={
                    "rereferencing_filed_on": max(on, change.rereferencing_requested_on)})
            done.append("solution_change")

        @rule(side=st.integers(0, 1), days=st.sampled_from([15, 30, 45]))
        def pending_va_days(self, side, days):
            organisation = organisations[side]
            organisation.pending_va_days = days
            organisation.save()
            done.append("pending_va_days")

        @invariant()
        def kept_equal_recomputed(self):
            seen.update(assert_kept_equal_recomputed(organisations))

    # No shrinking: the database is not reset between examples, so a replay would not find the state it shrinks.
    run_state_machine_as_test(Writes, settings=settings(
        max_examples=examples, stateful_step_count=steps, deadline=None, derandomize=True, database=None,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
    return done, seen


def test_kept_deadlines_equal_the_recomputed_ones_after_a_few_sequences(members):
    done, seen = run_sequences(members, examples=3, steps=15)
    # The sequences went somewhere: several writers ran, and rows of several kinds were kept on the way.
    assert len(set(done) & WRITERS) >= 4 and len(seen) >= 2


@pytest.mark.slow
def test_kept_deadlines_equal_the_recomputed_ones_after_every_step_of_any_sequence(members):
    done, seen = run_sequences(members, examples=15, steps=30)
    transitions = [name for name in done if name not in WRITERS]
    # Every writer but maybe the amendment (it needs an open avance) ran, and many transitions of several kinds.
    assert len(set(done) & WRITERS) >= len(WRITERS) - 1 and len(transitions) >= 10 and len(set(transitions)) >= 4
    assert len(seen) >= 5
