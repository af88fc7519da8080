"""`{% memo key ... %}…{% endmemo %}`: a template fragment rendered once per key and remembered in the process.

For fragments that are a pure function of their key: every value the fragment reads must be in the key (or be
constant: its translations and constant `{% url %}` links, whose own inputs - the active language, the script
prefix, the URL configuration, the autoescape mode - are always added to the key). Nothing per request or per user
(a CSRF token, a name, a count) may sit inside one. The navigation of the base layout is the use: the same dozen
links, their labels and which one is current, for a given page name, namespace and role. Under DEBUG, or when a key
value is not hashable, the fragment is rendered as if the tag were not there.
"""
from __future__ import annotations

from django import template
from django.conf import settings
from django.urls import get_script_prefix, get_urlconf
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

register = template.Library()


class MemoNode(template.Node):
    def __init__(self, nodelist, keys):
        self.nodelist = nodelist
        self.keys = keys
        self.memo: dict[tuple, str] = {}

    def render(self, context):
        if settings.DEBUG:
            return self.nodelist.render(context)
        key = (get_language(), get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF, context.autoescape,
               *(expression.resolve(context) for expression in self.keys))
        try:
            value = self.memo.get(key)
        except TypeError:  # a value that cannot be a key
            return self.nodelist.render(context)
        if value is None:
            value = self.memo[key] = mark_safe(self.nodelist.render(context))
        return value


@register.tag
def memo(parser, token):
    keys = [parser.compile_filter(bit) for bit in token.split_contents()[1:]]
    if not keys:
        raise template.TemplateSyntaxError("{% memo %} needs the values its fragment depends on")
    nodelist = parser.parse(("endmemo",))
    parser.delete_first_token()
    return MemoNode(nodelist, keys)
