"""Django's `i18n` library, with `{% translate "constant" %}` remembered per language instead of translated, escaped
and copied again at every rendering (settings.TEMPLATES maps `{% load i18n %}` here).

A page carries a hundred or more constant translations (the navigation, headings, buttons): Django looks each one up
in the catalogue, escapes it and restores its percent signs on every request, ~15 µs apiece. For a constant message
(no variable, no filter, a constant context if any) the result depends only on the active language, the catalogues
(read once per process) and whether the template autoescapes; each node keeps it per (language, autoescape). Under
DEBUG, where the development server reloads catalogues in place, nothing is remembered. Every other tag and filter of
the library, and `{% translate variable %}`, are Django's own.
"""
from __future__ import annotations

from django import template
from django.conf import settings
from django.template.base import render_value_in_context
from django.templatetags import i18n as django_i18n
from django.utils.safestring import SafeData, mark_safe
from django.utils.translation import get_language

register = template.Library()
register.tags.update(django_i18n.register.tags)
register.filters.update(django_i18n.register.filters)


def _constant(expression) -> bool:
    """A filter expression without filters whose value is written in the template."""
    if expression is None:
        return True
    if expression.filters:
        return False
    var = expression.var
    return isinstance(var, str) or getattr(var, "literal", None) is not None


class RememberedTranslateNode(django_i18n.TranslateNode):
    def __init__(self, filter_expression, noop, asvar=None, message_context=None):
        super().__init__(filter_expression, noop, asvar, message_context)
        self.constant = _constant(self.filter_expression) and _constant(self.message_context)
        self.memo: dict[tuple[str | None, bool], str] = {}

    def translated(self, context) -> str:
        """Django's TranslateNode.render, without the `as` assignment."""
        self.filter_expression.var.translate = not self.noop
        if self.message_context:
            self.filter_expression.var.message_context = self.message_context.resolve(context)
        value = render_value_in_context(self.filter_expression.resolve(context), context)
        is_safe = isinstance(value, SafeData)
        value = value.replace("%%", "%")
        return mark_safe(value) if is_safe else value

    def render(self, context):
        if not self.constant or settings.DEBUG:
            value = self.translated(context)
        else:
            key = (get_language(), context.autoescape)
            value = self.memo.get(key)
            if value is None:
                value = self.memo[key] = self.translated(context)
        if self.asvar:
            context[self.asvar] = value
            return ""
        return value


@register.tag("translate")
@register.tag("trans")
def do_translate(parser, token):
    node = django_i18n.do_translate(parser, token)
    return RememberedTranslateNode(node.filter_expression, node.noop, node.asvar, node.message_context)
