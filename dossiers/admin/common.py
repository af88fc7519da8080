"""What the dossiers app's admin forms share: a save the service would refuse is a form error first."""
from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from segurtrack import errors

from .. import services
from ..models import State


def state_label(code: str) -> str:
    return str(State(code).label) if code in State.values else code


class OrganisationScopedForm(forms.ModelForm):
    """Refuses, as a form error, a save the service would refuse: the user needs a role in the organisation."""

    request: HttpRequest   # set by the admin's get_form, on the per-request form class

    def clean(self):
        cleaned = super().clean()
        organisation = cleaned.get("organisation") or getattr(self.instance, "organisation", None)
        if organisation is not None:
            try:
                services.require_role(self.request.user, organisation.pk)
            except errors.NotPermitted as refused:
                raise ValidationError(str(refused))
        return cleaned


class ScopedFormAdmin(admin.ModelAdmin):
    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request = request   # modelform_factory made a fresh class for this call
        return form
