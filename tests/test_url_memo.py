"""`{% url %}` with constant arguments is remembered per URL configuration, script prefix, language and current
application (segurtrack/templatetags/url_memo.py): the same URLs as Django's tag, and a change of any of those is
seen at the next rendering."""
import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.urls import NoReverseMatch, reverse, set_script_prefix
from django.template.loader import get_template


def _render(source: str, **context) -> str:
    return Template(source).render(Context(context))


def test_constant_urls_are_django_s_and_survive_a_second_rendering():
    template = Template("{% url 'home' %}|{% url 'notifications' %}|{% url 'faqref:index' %}")
    expected = f"{reverse('home')}|{reverse('notifications')}|{reverse('faqref:index')}"
    assert template.render(Context()) == expected
    assert template.render(Context()) == expected
    assert template.nodelist[0].memo  # remembered


def test_a_new_script_prefix_shows_at_the_next_rendering():
    template = Template("{% url 'home' %}")
    try:
        assert template.render(Context()) == "/"
        set_script_prefix("/segur/")
        assert template.render(Context()) == "/segur/"
    finally:
        set_script_prefix("/")
    assert template.render(Context()) == "/"


def test_variable_arguments_are_reversed_each_time():
    template = Template("{% url 'dossier-detail' pk=pk %}")
    assert template.render(Context({"pk": 1})) == reverse("dossier-detail", kwargs={"pk": 1})
    assert template.render(Context({"pk": 2})) == reverse("dossier-detail", kwargs={"pk": 2})
    assert not template.nodelist[0].constant


def test_constant_arguments_and_as_assignment():
    assert _render("{% url 'dossier-detail' pk=7 %}") == reverse("dossier-detail", kwargs={"pk": 7})
    assert _render("{% url 'home' as home %}[{{ home }}]") == f"[{reverse('home')}]"
    assert _render("{% url 'home' as home %}{% url 'home' as home %}[{{ home }}]") == f"[{reverse('home')}]"


def test_an_unknown_name_raises_as_django_s_tag_and_as_assigns_nothing():
    template = Template("{% url 'no-such-page' %}")
    with pytest.raises(NoReverseMatch):
        template.render(Context())
    with pytest.raises(NoReverseMatch):
        template.render(Context())  # not remembered
    assert _render("{% url 'no-such-page' as x %}[{{ x }}]") == "[]"
    with pytest.raises(TemplateSyntaxError):
        Template("{% url %}")


def test_escaping_follows_the_template():
    assert _render("{% url 'dossier-list' %}") == reverse("dossier-list")
    assert _render("{% autoescape off %}{% url 'dossier-list' %}{% endautoescape %}") == reverse("dossier-list")


def test_the_base_layout_uses_the_remembered_tag():
    from segurtrack.templatetags.url_memo import RememberedURLNode

    nodes = get_template("base.html").template.nodelist.get_nodes_by_type(RememberedURLNode)
    assert nodes and all(node.constant for node in nodes)
