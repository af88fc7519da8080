"""{{ code|rule_title }}: a rule's French title, for pages that hold only its code (the code stays a detail)."""
from django import template

from ..timeline import rule_warnings

register = template.Library()


@register.filter
def rule_title(code: str) -> str:
    return rule_warnings([code])[0][0] if code else ""
