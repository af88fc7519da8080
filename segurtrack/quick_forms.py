"""A form renderer that writes a label, an input and a select (with its options) in Python, to the same HTML as
Django's templates: a filter menu of a hundred options costs a template include per option there, which a list
page's filters pay on every request. Any other template falls back to Django's form templates."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from html import escape

from django.forms.renderers import DjangoTemplates
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import ngettext


def shown(value: Any) -> str:
    """`{{ value }}` in a template: localised unless already text, escaped unless marked safe (the form renderer's,
    and the rows the pages write in Python)."""
    if type(value) is str:
        return escape(value)  # Django's `escape` is this, behind a wrapper that looks for lazy arguments
    return conditional_escape(value if isinstance(value, str) else localize(value))


def counted(singular: str, plural: str, n: int) -> str:
    """`{% blocktranslate count counter=n %}`: the number localised and escaped as the template does."""
    return ngettext(singular, plural, n) % {"counter": shown(n)}


def escaped(value: Any) -> str:
    """`conditional_escape(value)`, without the wrapper that looks for lazy arguments on every call when `value` is
    plain text (what a page writing hundreds of values in Python mostly escapes)."""
    return escape(value) if type(value) is str else conditional_escape(value)


def _value(value: Any) -> str:
    """`{{ value|stringformat:'s' }}` in a template."""
    return escape(value) if type(value) is str else conditional_escape(str(value))


def _attrs(attrs: Mapping[str, Any] | None) -> str:
    """django/forms/attrs.html: ` name="value"`, a bare ` name` for True, nothing for False; in the dict's order."""
    if not attrs:
        return ""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        out.append(f" {shown(name)}" if value is True else f' {shown(name)}="{_value(value)}"')
    return "".join(out)


def _label(context: Mapping[str, Any]) -> str:
    """django/forms/label.html."""
    if not context["use_tag"]:
        return shown(context["label"])
    tag = shown(context["tag"])
    return f"<{tag}{_attrs(context['attrs'])}>{shown(context['label'])}</{tag}>"


def _input(context: Mapping[str, Any]) -> str:
    """django/forms/widgets/input.html (text, search, date, number... all include it)."""
    widget = context["widget"]
    value = "" if widget["value"] is None else f' value="{_value(widget["value"])}"'
    return f'<input type="{shown(widget["type"])}" name="{shown(widget["name"])}"{value}{_attrs(widget["attrs"])}>'


def _select(context: Mapping[str, Any]) -> str:
    """django/forms/widgets/select.html and its select_option.html, whitespace included."""
    widget = context["widget"]
    out = [f'<select name="{shown(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            out.append(f'\n  <optgroup label="{shown(group_name)}">')
        for option in options:
            if option["template_name"] != "django/forms/widgets/select_option.html":
                raise _Fallback
            out.append(f'\n  <option value="{_value(option["value"])}"{_attrs(option["attrs"])}>'
                       f'{shown(option["label"])}</option>\n')  # the include keeps the file's last newline
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>")
    return "".join(out)


class _Fallback(Exception):
    """A widget customised past what the writer knows: render with the template."""


INPUT_TYPES = ("text", "search", "date", "number", "email", "url", "tel", "password", "hidden", "time", "datetime",
               "color")
WRITERS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "django/forms/label.html": _label,
    "django/forms/widgets/select.html": _select,
    **{f"django/forms/widgets/{name}.html": _input for name in INPUT_TYPES},
}


class QuickRenderer(DjangoTemplates):
    """Django's template form renderer, except for the templates in WRITERS, written in Python to the same HTML
    (tests/test_quick_forms.py renders every form using it both ways and compares)."""

    def render(self, template_name: str, context: Mapping[str, Any], request=None) -> SafeString:
        writer = WRITERS.get(template_name)
        if writer is not None:
            try:
                return mark_safe(writer(context))
            except _Fallback:
                pass
        return super().render(template_name, context, request)


QUICK_RENDERER = QuickRenderer()


class QuickRendering:
    """A form mixin: render its labels and widgets with QUICK_RENDERER (unless a renderer is given)."""

    default_renderer = QUICK_RENDERER
