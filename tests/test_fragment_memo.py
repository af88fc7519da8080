"""`{% memo %}` (segurtrack/templatetags/fragment_memo.py): a fragment rendered once per key; a change of a key
value, of the language or of the script prefix shows at the next rendering; the navigation is the same with it."""
import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.test import Client
from django.urls import set_script_prefix
from django.utils import translation

from organisations.models import Membership, Role


def test_a_fragment_is_rendered_once_per_key():
    template = Template("{% memo flag %}{{ flag }}-{{ other }}{% endmemo %}")
    assert template.render(Context({"flag": 1, "other": "a"})) == "1-a"
    # `other` is not in the key: the remembered fragment is served (the reason every input must be in the key).
    assert template.render(Context({"flag": 1, "other": "b"})) == "1-a"
    assert template.render(Context({"flag": 2, "other": "b"})) == "2-b"


def test_language_script_prefix_and_escaping_are_part_of_the_key():
    template = Template("{% load i18n %}{% memo 1 %}{% url 'home' %}{% translate 'Accueil' %}{{ v }}{% endmemo %}")
    assert template.render(Context({"v": "<b>"})) == "/Accueil&lt;b&gt;"
    try:
        set_script_prefix("/segur/")
        assert template.render(Context({"v": "<b>"})).startswith("/segur/")
    finally:
        set_script_prefix("/")
    with translation.override("en"):
        assert template.render(Context({"v": "x"})).startswith("/")
    assert template.render(Context({"v": "<b>"}, autoescape=False)) == "/Accueil<b>"


def test_an_unhashable_key_renders_without_memo_and_a_bare_tag_is_refused():
    template = Template("{% memo items %}{{ items|length }}{% endmemo %}")
    assert template.render(Context({"items": [1]})) == "1"
    assert template.render(Context({"items": [1, 2]})) == "2"
    with pytest.raises(TemplateSyntaxError):
        Template("{% memo %}x{% endmemo %}")


def test_under_debug_nothing_is_remembered(settings):
    settings.DEBUG = True
    template = Template("{% memo 1 %}{{ v }}{% endmemo %}")
    assert template.render(Context({"v": "a"})) == "a"
    assert template.render(Context({"v": "b"})) == "b"


@pytest.mark.django_db
def test_the_navigation_follows_the_page_and_the_role(manager_membership):
    client = Client()
    client.force_login(manager_membership.user)
    page = client.get("/notifications/").content.decode()
    assert 'href="/notifications/" aria-current="page"' in page
    assert "/organisation/members/" not in page  # a manager has no members page
    other = client.get("/organisation/").content.decode()
    assert 'href="/notifications/" aria-current="page"' not in other
    Membership.objects.filter(pk=manager_membership.pk).update(role=Role.ADMIN)
    page = client.get("/notifications/").content.decode()
    assert "/organisation/members/" in page  # the new role shows at the next request
    Membership.objects.filter(pk=manager_membership.pk).update(role=Role.VIEWER)
    assert "Importer des dossiers" not in client.get("/notifications/").content.decode()
