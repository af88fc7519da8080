"""The form renderer remembers each widget and label rendering by its whole input (segurtrack/form_renderer.py):
the same input gives the same HTML as Django's own renderer, any change of input renders anew, and a context that
is not plain values is never remembered."""
from pathlib import Path

import django
import pytest
from django import forms
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from dossiers.models import State
from segurtrack import form_renderer
from segurtrack.form_renderer import MemoDjangoTemplates, Unkeyable, freeze


class Sample(forms.Form):
    name = forms.CharField(label=gettext_lazy("Nom"), max_length=20, help_text="aide")
    kind = forms.ChoiceField(label="Type", choices=[("a", "Alpha"), ("b", "Bêta & co")])
    on = forms.DateField(label="Le", required=False)
    upload = forms.FileField(label="Fichier", required=False)


def html(form) -> list[str]:
    return [str(field.label_tag()) + str(field) for field in form]


def test_it_is_the_renderer_of_every_form():
    assert isinstance(get_default_renderer(), MemoDjangoTemplates)


def test_the_same_input_gives_django_s_html_from_the_memo():
    memo = MemoDjangoTemplates()
    plain = DjangoTemplates()
    initial = {"name": "x < y", "kind": "b", "on": "2026-01-31"}
    expected = html(Sample(initial=initial, renderer=plain))
    assert html(Sample(initial=initial, renderer=memo)) == expected
    size = len(memo.memo)
    assert size > 0
    assert html(Sample(initial=initial, renderer=memo)) == expected
    assert len(memo.memo) == size  # all from the memo
    # Bound, with errors: still Django's HTML.
    bound = {"name": "", "kind": "z"}
    assert html(Sample(bound, renderer=memo)) == html(Sample(bound, renderer=plain))


def test_a_changed_value_renders_anew():
    memo = MemoDjangoTemplates()
    first = html(Sample(initial={"name": "avant"}, renderer=memo))
    second = html(Sample(initial={"name": "après"}, renderer=memo))
    assert 'value="avant"' in first[0] and 'value="après"' in second[0]
    assert 'value="après"' not in first[0]


def test_safety_type_and_order_are_part_of_the_key():
    assert freeze("<b>") != freeze(mark_safe("<b>"))
    assert freeze(1) != freeze(True) != freeze(1.0)
    assert freeze({"a": 1, "b": 2}) != freeze({"b": 2, "a": 1})
    assert freeze(["a"]) != freeze(("a",))
    assert freeze(gettext_lazy("Nom")) == freeze("Nom")
    memo = MemoDjangoTemplates()
    context = {"widget": {"name": "n", "is_hidden": False, "required": False, "attrs": {}, "type": "text",
                          "template_name": "django/forms/widgets/text.html"}}
    unsafe = memo.render("django/forms/widgets/text.html", {**context, "widget": {**context["widget"], "value": "<b>"}})
    safe = memo.render("django/forms/widgets/text.html",
                       {**context, "widget": {**context["widget"], "value": mark_safe("<b>")}})
    assert 'value="&lt;b&gt;"' in unsafe and 'value="<b>"' in safe


def test_a_context_with_an_object_is_never_remembered():
    with pytest.raises(Unkeyable):
        freeze(object())
    memo = MemoDjangoTemplates()
    form = Sample(renderer=memo)
    str(form)  # the form's own template reads the form: rendered without the memo
    assert all("django/forms/div.html" != key[0] for key in memo.memo)


def test_not_remembered_under_debug_or_with_a_request(settings, rf):
    memo = MemoDjangoTemplates()
    settings.DEBUG = True
    html(Sample(renderer=memo))
    assert memo.memo == {}
    settings.DEBUG = False
    memo.render("django/forms/widgets/text.html", {"widget": {"name": "n", "value": None, "attrs": {},
                                                             "type": "text"}}, request=rf.get("/"))
    assert memo.memo == {}


def test_the_memo_is_bounded(monkeypatch):
    monkeypatch.setattr(form_renderer, "MAX_ENTRIES", 3)
    memo = MemoDjangoTemplates()
    for i in range(10):
        html(Sample(initial={"name": f"n{i}"}, renderer=memo))
        assert len(memo.memo) <= 3


def test_the_label_template_does_not_read_the_field_left_out_of_its_key():
    source = (Path(django.__file__).parent / "forms/templates/django/forms/label.html").read_text()
    assert "field" not in source
    assert form_renderer.UNREAD == {"django/forms/label.html": frozenset({"field"})}


def test_the_dossier_page_shows_a_changed_setting_on_the_next_request(dossier_at, as_manager, manager_membership):
    from dossiers import services

    dossier = dossier_at(State.DEPLOYED)
    url = f"/dossiers/{dossier.pk}/"
    assert 'name="installed_version" value="4.2.1"' not in as_manager.get(url).content.decode()
    services.update_dossier(dossier.pk, by=manager_membership.user, changes={"installed_version": "4.2.1"})
    assert 'name="installed_version" value="4.2.1"' in as_manager.get(url).content.decode()
    services.update_dossier(dossier.pk, by=manager_membership.user, changes={"installed_version": "4.3"})
    page = as_manager.get(url).content.decode()
    assert 'name="installed_version" value="4.3"' in page and 'value="4.2.1"' not in page


def test_a_long_value_renders_without_the_memo():
    memo = MemoDjangoTemplates()
    long = "x" * (form_renderer.MAX_STRING + 1)
    with pytest.raises(Unkeyable):
        freeze(long)
    rendered = html(Sample({"name": long, "kind": "a"}, renderer=memo))
    assert long in rendered[0]
    assert not any(long in repr(key) for key in memo.memo)
