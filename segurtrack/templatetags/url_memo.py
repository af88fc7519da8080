"""Django's `{% url %}`, each constant one (a view name and arguments written in the template) remembered per URL
configuration, script prefix, language and current application instead of reversed again at every rendering
(a builtin of the template engine: settings.TEMPLATES; it replaces Django's tag of the same name everywhere).

Every page carries fifteen or more constant links (the navigation, the header); Django resolves the view name and
fills its pattern on every request, ~30 µs apiece. For constant arguments the URL depends only on the URL
configuration in force (the request's, else settings.ROOT_URLCONF), the script prefix (the mount point), the active
language (translated patterns) and the current application (namespaced instances), all in the key. A name that does
not reverse raises as Django's tag does and is not remembered; under DEBUG nothing is. `{% url %}` with a variable
is Django's own.
"""
from __future__ import annotations

from django import template
from django.conf import settings
from django.template import defaulttags
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape
from django.utils.translation import get_language

register = template.Library()


def _constant(expression) -> bool:
    if expression.filters:
        return False
    var = expression.var
    return isinstance(var, str) or getattr(var, "literal", None) is not None


class RememberedURLNode(defaulttags.URLNode):
    def __init__(self, view_name, args, kwargs, asvar):
        super().__init__(view_name, args, kwargs, asvar)
        self.constant = all(_constant(e) for e in (view_name, *args, *kwargs.values()))
        self.memo: dict[tuple, str] = {}

    def render(self, context):
        if not self.constant or settings.DEBUG:
            return super().render(context)
        try:
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
        key = (get_urlconf() or settings.ROOT_URLCONF, get_script_prefix(), get_language(), current_app)
        url = self.memo.get(key)
        if url is None:
            try:
                url = reverse(self.view_name.resolve(context), args=[a.resolve(context) for a in self.args],
                              kwargs={k: v.resolve(context) for k, v in self.kwargs.items()}, current_app=current_app)
            except NoReverseMatch:
                return super().render(context)  # Django's answer: it raises, or assigns "" with `as`
            self.memo[key] = url
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token):
    node = defaulttags.url(parser, token)
    return RememberedURLNode(node.view_name, node.args, node.kwargs, node.asvar)
