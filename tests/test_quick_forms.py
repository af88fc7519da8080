"""The quick form renderer writes the same HTML as Django's form templates: every filter form using it is rendered
both ways (unbound, bound with a choice made, bound with errors) and compared, plus the corners of the writers."""
from __future__ import annotations

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.http import QueryDict
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from dossiers.forms import DossierFilterForm
from dossiers.team_forms import OwnerFilterForm
from dossiers.queries import members_of
from reports.forms import DeadlineFilterForm, ReportFilterForm
from segurtrack.quick_forms import QUICK_RENDERER, QuickRendering, escaped

from .factories import SolutionFactory

TEMPLATES = DjangoTemplates()


def both_ways(make) -> tuple[str, str]:
    """Each field's label and widget, and the error summary, by the quick renderer and by Django's templates."""
    outputs = []
    for renderer in (QUICK_RENDERER, TEMPLATES):
        form = make(renderer)
        outputs.append("\n".join(f"{field.label_tag()}|{field}|{field.errors}" for field in form))
    return outputs[0], outputs[1]


def assert_same(make) -> str:
    quick, django = both_ways(make)
    assert quick == django
    return quick


@pytest.mark.django_db
def test_the_list_filters_render_as_django_renders_them(organisation, manager_membership):
    SolutionFactory(organisation=organisation, name="Logiciel <Santé> & Co")
    org = organisation.pk
    unbound = assert_same(lambda r: DossierFilterForm(None, organisation_id=org, renderer=r))
    assert 'name="state"' in unbound and "Logiciel &lt;Santé&gt; &amp; Co" in unbound
    chosen = assert_same(lambda r: DossierFilterForm(
        QueryDict("state=va_signed&q=l%27%C3%A9cole+%22A%22&sort=client"), organisation_id=org, renderer=r))
    assert '<option value="va_signed" selected>' in chosen and 'value="l&#x27;école &quot;A&quot;"' in chosen
    invalid = assert_same(lambda r: DossierFilterForm(QueryDict("state=nope&solution=x"), organisation_id=org,
                                                      renderer=r))
    assert 'aria-invalid="true"' in invalid


@pytest.mark.django_db
def test_the_owner_filter_renders_as_django_renders_it(organisation, manager_membership):
    members = members_of(organisation.pk, assignable=True)
    assert_same(lambda r: OwnerFilterForm(initial={"owner": "me"}, members=members, renderer=r))
    out = assert_same(lambda r: OwnerFilterForm(QueryDict(f"owner={manager_membership.pk}"), members=members,
                                                renderer=r))
    assert f'<option value="{manager_membership.pk}" selected>' in out


@pytest.mark.django_db
def test_the_report_filters_render_as_django_renders_them(organisation, manager_membership):
    SolutionFactory(organisation=organisation)
    assert_same(lambda r: ReportFilterForm(QueryDict(), organisation_id=organisation.pk, staff=False, renderer=r))
    assert_same(lambda r: ReportFilterForm(QueryDict("organisation=1&couloir=zz"), organisation_id=None, staff=True,
                                           renderer=r))
    assert_same(lambda r: DeadlineFilterForm(None, renderer=r))
    out = assert_same(lambda r: DeadlineFilterForm(QueryDict("due_before=31/02/2026&kind=x"), renderer=r))
    assert 'name="due_before"' in out and 'aria-invalid="true"' in out


class Corners(QuickRendering, forms.Form):
    grouped = forms.ChoiceField(choices=[("Fruits", [("a", "Pomme"), ("b", "Poire")]), ("c", "Autre")],
                                required=True)
    many = forms.MultipleChoiceField(choices=[("1", "Un"), ("2", "Deux")], required=False)
    number = forms.IntegerField(label=mark_safe("<b>Nombre</b>"), required=False)
    hidden = forms.CharField(widget=forms.HiddenInput, required=False)
    radio = forms.ChoiceField(widget=forms.RadioSelect, choices=[("x", "X")], required=False)
    flag = forms.BooleanField(required=False, label="Déjà fait ?")
    note = forms.CharField(widget=forms.Textarea, required=False)


def test_corners_grouped_options_several_choices_safe_labels_and_other_widgets_render_as_django():
    out = assert_same(lambda r: Corners(initial={"grouped": "b", "many": ["1", "2"], "number": 1234}, renderer=r))
    assert '<optgroup label="Fruits">' in out and "<b>Nombre</b>" in out
    assert_same(lambda r: Corners(QueryDict("grouped=zz&number=abc&many=1&many=3"), renderer=r))
    assert_same(lambda r: Corners(auto_id=False, renderer=r))


@pytest.mark.parametrize("value", ["<a href='x'>&\"</a>", mark_safe("<b>sûr</b>"), gettext_lazy("Tous <>"), 12345, None])
def test_escaped_is_conditional_escape(value):
    """The same text (not marked safe: the writers mark the whole row once)."""
    assert escaped(value) == conditional_escape(value)
