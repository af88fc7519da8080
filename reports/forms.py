"""The report pages' filter forms: choices scoped to what the user may see. Their values are checked again by the
API's parameter definitions (`reports.api.params`), so the page and the API refuse the same input."""
from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _, gettext_lazy

from dossiers.models import Couloir, Dispositif, Solution
from organisations.models import Organisation
from segurtrack.quick_forms import QuickRendering

from . import deadlines as dl


class ReportFilterForm(QuickRendering, forms.Form):
    """The report filters with choices scoped to what the user may see (one query per select)."""

    couloir = forms.ChoiceField(label=gettext_lazy("Couloir"), required=False)
    dispositif = forms.ChoiceField(label=gettext_lazy("Dispositif"), required=False)
    solution = forms.ChoiceField(label=gettext_lazy("Solution"), required=False)
    organisation = forms.ChoiceField(label=gettext_lazy("Organisation"), required=False)

    def __init__(self, *args: Any, organisation_id: int | None, staff: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.staff = staff
        self.fields["couloir"].choices = [("", _("Tous"))] + [(c.code, c.label) for c in Couloir.objects.all()]
        self.fields["dispositif"].choices = [("", _("Tous"))] + [
            (code, code) for code in Dispositif.objects.order_by("code").values_list("code", flat=True)]
        solutions = Solution.objects.order_by("name", "version", "id")
        if staff:
            solutions = solutions.select_related("organisation").order_by("organisation__name", "name", "version", "id")
            self.fields["solution"].choices = [("", _("Toutes"))] + [
                (str(s.pk), f"{s.name} {s.version} ({s.organisation.name})") for s in solutions]
            self.fields["organisation"].choices = [("", _("Toutes"))] + [
                (str(pk), name) for pk, name in Organisation.objects.order_by("name").values_list("pk", "name")]
        else:
            self.fields["solution"].choices = [("", _("Toutes"))] + [
                (str(s.pk), f"{s.name} {s.version}") for s in solutions.filter(organisation_id=organisation_id)]
            del self.fields["organisation"]

    def filters(self) -> dict[str, Any]:
        """The validated filters, as `queries` takes them (empty values left out)."""
        values = {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}
        for name in ("solution", "organisation"):
            if name in values:
                values[name] = int(values[name])
        return values


class DeadlineFilterForm(QuickRendering, forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Type d'échéance"), required=False)
    due_before = forms.DateField(
        label=gettext_lazy("Jusqu'au"), required=False, input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy("Saisissez une date valide, au format JJ/MM/AAAA ou AAAA-MM-JJ.")},
        help_text=gettext_lazy("Retards compris."))

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("Tous"))] + [(kind, dl.LABELS[kind]) for kind in dl.KINDS]
