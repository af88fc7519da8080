"""Django's template backend, knowing that `{% load i18n %}` is mapped on purpose to our superset of Django's `i18n`
library (segurtrack/templatetags/translate_memo.py, named in settings.TEMPLATES): Django warns of any library name
served by two modules (templates.W003), and this one pair is deliberate. Every other duplicate still warns."""
from __future__ import annotations

from django.template.backends import django as django_backend

DELIBERATE = ("'i18n' is used for multiple template tag modules: 'django.templatetags.i18n', "
              "'segurtrack.templatetags.translate_memo'")


class DjangoTemplates(django_backend.DjangoTemplates):
    def _check_for_template_tags_with_the_same_name(self):
        return [warning for warning in super()._check_for_template_tags_with_the_same_name()
                if warning.msg != DELIBERATE]
