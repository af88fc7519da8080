"""A member's report filter menus are read in one statement (reports/forms.py `_member_menus`): the same choices,
in the same order, as the three ORM queries they replace; another organisation's solutions are never offered, and a
new solution shows on the next form (nothing is kept between requests)."""
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dossiers.models import Couloir, Dispositif, Solution
from reports.forms import ReportFilterForm
from tests.factories import SolutionFactory


def orm_choices(organisation_id):
    """What the form built before, one ORM query per menu."""
    return (
        [(c.code, c.label) for c in Couloir.objects.all()],
        [(code, code) for code in Dispositif.objects.order_by("code").values_list("code", flat=True)],
        [(str(s.pk), f"{s.name} {s.version}")
         for s in Solution.objects.order_by("name", "version", "id").filter(organisation_id=organisation_id)],
    )


def menus(form):
    return tuple(list(form.fields[name].choices)[1:] for name in ("couloir", "dispositif", "solution"))


def test_a_members_menus_are_the_orm_choices_in_one_query(organisation, other_organisation):
    dispositif, second = Dispositif.objects.order_by("code")[:2]
    # The same name and version twice (two dispositifs): ordered by id, as the ORM ordered them.
    for name, version, on in [("Zeta", "1", dispositif), ("Alpha", "2", second), ("Alpha", "10", dispositif),
                              ("Alpha", "2", dispositif)]:
        SolutionFactory(organisation=organisation, dispositif=on, name=name, version=version)
    theirs = SolutionFactory(organisation=other_organisation, dispositif=dispositif, name="Autre", version="1")
    with CaptureQueriesContext(connection) as captured:
        form = ReportFilterForm({}, organisation_id=organisation.pk, staff=False)
    assert len(captured) == 1
    assert menus(form) == orm_choices(organisation.pk)
    assert menus(form)[0] and menus(form)[1] and len(menus(form)[2]) == 4
    assert str(theirs.pk) not in dict(menus(form)[2]) and "organisation" not in form.fields
    # A solution added since shows on the next form.
    added = SolutionFactory(organisation=organisation, dispositif=dispositif, name="Beta", version="1")
    assert dict(menus(ReportFilterForm({}, organisation_id=organisation.pk, staff=False))[2])[str(added.pk)] == "Beta 1"


def test_staff_menus_name_each_solutions_organisation(organisation, other_organisation):
    dispositif = Dispositif.objects.order_by("code").first()
    ours = SolutionFactory(organisation=organisation, dispositif=dispositif, name="Logi", version="1")
    form = ReportFilterForm({}, organisation_id=None, staff=True)
    assert dict(form.fields["solution"].choices)[str(ours.pk)] == f"Logi 1 ({organisation.name})"
    assert str(other_organisation.pk) in dict(form.fields["organisation"].choices)
    assert menus(form)[:2] == orm_choices(None)[:2]
