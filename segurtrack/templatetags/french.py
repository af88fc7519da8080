"""Template filters for French display, available in every template (a builtin, see TEMPLATES in settings).

    {{ amount|euros }}          12 345,67 €
    {{ day|date_fr }}           3 décembre 2026 (a datetime: 3 décembre 2026, 14:05)
    {{ moment|day_fr }}         3 décembre 2026 (the day only)
"""
from django import template

from segurtrack import formats

register = template.Library()

register.filter("euros", formats.euros, is_safe=True)
register.filter("date_fr", formats.french_date, is_safe=True)
register.filter("day_fr", formats.french_day, is_safe=True)
