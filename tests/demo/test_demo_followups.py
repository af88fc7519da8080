"""The demo shows the follow-up cases of issue 12: a portability request, a change awaiting its ANS notice, and an
Alsace client whose correction deadline skips 26 December."""
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command

from reports import deadlines as dl
from dossiers.business_days import correction_due_on
from demo.seed.data import DEMO_ORGANISATION, MIN_DOSSIERS
from demo.seed.followups import ALSACE_REFERENCE, correction_year
from dossiers.models import Dossier, PortabilityRequest, SolutionChange, State
from organisations.models import Organisation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.parametrize(("today", "year"), [
    (date(2026, 12, 2), 2025),   # 26/12/2025 is a Friday
    (date(2025, 12, 20), 2025),
    (date(2025, 12, 19), 2024),  # not yet past: the year before (26/12/2024 is a Thursday)
    (date(2021, 6, 1), 2019),    # 26/12/2020 was a Saturday: skipped
])
def test_the_correction_year_has_a_weekday_26_december_already_past(today, year):
    assert correction_year(today) == year


def test_the_demo_shows_each_follow_up_case(settings):
    call_command("seed_demo", dossiers=MIN_DOSSIERS, stdout=StringIO())
    demo = Organisation.objects.get(name=DEMO_ORGANISATION)
    open_request = PortabilityRequest.objects.get(client__organisation=demo, fulfilled_on__isnull=True)
    awaiting = SolutionChange.objects.get(solution__organisation=demo, affects_conformity=True,
                                          ans_notified_on__isnull=True)
    alsace = Dossier.objects.select_related("client").get(organisation=demo, reference=ALSACE_REFERENCE)
    assert (alsace.state, alsace.client.department) == (State.SOLDE_TO_FIX, "67")
    requested = alsace.solde_fix_requested_on
    assert (requested.month, requested.day) == (12, 19)
    # 26 December counts in Paris, not in Strasbourg: the Alsace deadline is one business day later.
    assert alsace.solde_fix_due_on == correction_due_on(requested, department="67")
    assert alsace.solde_fix_due_on > correction_due_on(requested, department="75")
    listed = {(d["kind"], d["object_id"] or d["dossier"]) for d in dl.deadlines_for(demo)}
    assert {(dl.Kind.PORTABILITY, open_request.pk), (dl.Kind.ANS_NOTICE, awaiting.pk),
            (dl.Kind.SOLDE_TO_FIX, alsace.pk)} <= listed
