"""`{% load i18n %}` is Django's library with each constant `{% translate %}` remembered per language and
autoescaping (segurtrack/templatetags/translate_memo.py): the same output as Django's, in the active language."""
import pytest
from django.template import Context, Engine, engines
from django.utils import translation

from segurtrack.templatetags.translate_memo import RememberedTranslateNode

SOURCE = ('{% load i18n %}{% translate "Yes" %}|{% translate "No" as no %}{{ no }}|{% translate word %}|'
          '{% translate "May" context "month name" %}|{% translate "50%% of <b>" %}|'
          '{% translate "Yes" noop %}|{% blocktranslate %}Yes{% endblocktranslate %}')


def render(engine_template, **context):
    return engine_template.render(context)


@pytest.fixture
def ours():
    return engines["django"].from_string(SOURCE)


@pytest.fixture
def django_s():
    engine = Engine(libraries={"i18n": "django.templatetags.i18n"})
    return lambda **context: engine.from_string(SOURCE).render(Context(context))


def test_the_page_engine_uses_it():
    template = engines["django"].from_string('{% load i18n %}{% translate "Yes" %}')
    assert any(isinstance(node, RememberedTranslateNode) for node in template.template.nodelist)


def test_the_same_output_as_django_in_each_language_and_again(ours, django_s):
    for language in ("fr", "en", "fr"):
        with translation.override(language):
            expected = django_s(word="Yes")
            assert render(ours, word="Yes") == expected
            assert render(ours, word="Yes") == expected  # from the memo
    with translation.override("fr"):
        first = render(ours, word="Yes")
    with translation.override("en"):
        second = render(ours, word="Yes")
    assert first.startswith("Oui|Non|Oui|") and second.startswith("Yes|No|Yes|")


def test_a_variable_message_is_translated_at_each_rendering(ours):
    with translation.override("fr"):
        assert render(ours, word="Yes").split("|")[2] == "Oui"
        assert render(ours, word="No").split("|")[2] == "Non"
        assert render(ours, word="<i>").split("|")[2] == "&lt;i&gt;"


def test_escaping_follows_the_template_s_autoescape():
    """As Django: a literal is safe as written; a translated variable is escaped unless autoescape is off."""
    source = ('{% load i18n %}{% translate "a <b>" %}|{% translate word %}'
              '{% autoescape off %}|{% translate "a <b>" %}|{% translate word %}{% endautoescape %}')
    template = engines["django"].from_string(source)
    expected = Engine(libraries={"i18n": "django.templatetags.i18n"}).from_string(source).render(
        Context({"word": "<i>"}))
    with translation.override("fr"):
        assert expected == "a <b>|&lt;i&gt;|a <b>|<i>"
        assert template.render({"word": "<i>"}) == expected
        assert template.render({"word": "<i>"}) == expected


def test_nothing_is_remembered_under_debug(settings):
    settings.DEBUG = True
    template = engines["django"].from_string('{% load i18n %}{% translate "Yes" %}')
    [node] = [n for n in template.template.nodelist if isinstance(n, RememberedTranslateNode)]
    with translation.override("fr"):
        assert template.render({}) == "Oui"
    assert node.memo == {}


def test_the_i18n_mapping_passes_the_template_checks_and_any_other_duplicate_still_warns():
    from segurtrack.template_backend import DjangoTemplates

    assert engines["django"].check() == []
    other = DjangoTemplates({"NAME": "other", "DIRS": [], "APP_DIRS": True, "OPTIONS": {
        "libraries": {"i18n": "segurtrack.templatetags.translate_memo", "static": "segurtrack.templatetags.french"}}})
    assert [(w.id, "'static'" in w.msg) for w in other.check()] == [("templates.W003", True)]
