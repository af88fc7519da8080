"""The report pages' filter forms: choices scoped to what the user may see. Their values are checked again by the
API's parameter definitions (`reports.api.params`), so the page and the API refuse the same input."""
from __future__ import annotations

from typing import Any

from django import forms
from django.db import connection
from django.utils.translation import gettext as _, gettext_lazy

from dossiers.models import Couloir, Dispositif, Solution
from organisations.models import Organisation
from segurtrack.quick_forms import QuickRendering

from . import deadlines as dl


class ReportFilterForm(QuickRendering, forms.Form):
    """The report filters with choices scoped to what the user may see (a member's three menus in one query,
    staff's one query per select)."""

    couloir = forms.ChoiceField(label=gettext_lazy("Couloir"), required=False)
    dispositif = forms.ChoiceField(label=gettext_lazy("Dispositif"), required=False)
    solution = forms.ChoiceField(label=gettext_lazy("Solution"), required=False)
    organisation = forms.ChoiceField(label=gettext_lazy("Organisation"), required=False)

    def __init__(self, *args: Any, organisation_id: int | None, staff: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.staff = staff
        if not staff:
            couloirs, dispositifs, solutions = _member_menus(organisation_id)
            self.fields["couloir"].choices = [("", _("Tous"))] + couloirs
            self.fields["dispositif"].choices = [("", _("Tous"))] + dispositifs
            self.fields["solution"].choices = [("", _("Toutes"))] + solutions
            del self.fields["organisation"]
            return
        self.fields["couloir"].choices = [("", _("Tous"))] + [(c.code, c.label) for c in Couloir.objects.all()]
        self.fields["dispositif"].choices = [("", _("Tous"))] + [
            (code, code) for code in Dispositif.objects.order_by("code").values_list("code", flat=True)]
        solutions = Solution.objects.select_related("organisation").order_by(
            "organisation__name", "name", "version", "id")
        self.fields["solution"].choices = [("", _("Toutes"))] + [
            (str(s.pk), f"{s.name} {s.version} ({s.organisation.name})") for s in solutions]
        self.fields["organisation"].choices = [("", _("Toutes"))] + [
            (str(pk), name) for pk, name in Organisation.objects.order_by("name").values_list("pk", "name")]

    def filters(self) -> dict[str, Any]:
        """The validated filters, as `queries` takes them (empty values left out)."""
        values = {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}
        for name in ("solution", "organisation"):
            if name in values:
                values[name] = int(values[name])
        return values


def _member_menus(organisation_id: int | None) -> tuple[list[tuple[str, str]], ...]:
    """A member's three menus in one statement: the couloirs (code, label) by label, the dispositifs' codes, the
    organisation's solutions ("name version") by name, version and id; three queries before, each compiled by the
    ORM on every request of the report pages."""
    tables = {model: connection.ops.quote_name(model._meta.db_table) for model in (Couloir, Dispositif, Solution)}
    sql = (f"SELECT 0, label, code, 0 FROM {tables[Couloir]} "
           f"UNION ALL SELECT 1, code, '', 0 FROM {tables[Dispositif]} "
           f"UNION ALL SELECT 2, name, version, id FROM {tables[Solution]} WHERE organisation_id = %s "
           "ORDER BY 1, 2, 3, 4")
    couloirs: list[tuple[str, str]] = []
    dispositifs: list[tuple[str, str]] = []
    solutions: list[tuple[str, str]] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, [organisation_id])
        for part, first, second, pk in cursor.fetchall():
            if part == 0:
                couloirs.append((second, first))
            elif part == 1:
                dispositifs.append((first, first))
            else:
                solutions.append((str(pk), f"{first} {second}"))
    return couloirs, dispositifs, solutions


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
