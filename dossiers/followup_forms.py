"""Page forms for a client's portability requests and a solution's changes; the service validates the rest."""
from __future__ import annotations

from django import forms

from .followups import CHANGE_FIELDS, PORTABILITY_FIELDS
from .forms import ServiceErrorsMixin, _date_widget
from .models import PortabilityRequest, SolutionChange


class PortabilityRequestForm(ServiceErrorsMixin, forms.ModelForm):
    class Meta:
        model = PortabilityRequest
        fields = list(PORTABILITY_FIELDS)
        widgets = {"requested_on": _date_widget(), "fulfilled_on": _date_widget(),
                   "notes": forms.Textarea(attrs={"rows": 2})}


class SolutionChangeForm(ServiceErrorsMixin, forms.ModelForm):
    class Meta:
        model = SolutionChange
        fields = list(CHANGE_FIELDS)
        widgets = {name: _date_widget() for name in CHANGE_FIELDS if name.endswith("_on")} | {
            "description": forms.Textarea(attrs={"rows": 2})}


def edit_forms(form_class: type[forms.ModelForm], objects: list, bound: forms.ModelForm | None = None) -> list:
    """One prefilled form per row (its own prefix), the bound one in place of its row's after a refusal."""
    return [(obj, bound if bound is not None and bound.instance.pk == obj.pk
             else form_class(instance=obj, prefix=f"row{obj.pk}")) for obj in objects]
