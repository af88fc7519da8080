"""Dossier list filters: state, dispositif and couloir codes, solution id, and a free search `q`.

django-filter checks the parameters and documents them; the filtering itself is `dossiers.queries.filter_dossiers`,
the one the page list and the exports use."""
from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from ..models import Dossier, State
from ..queries import filter_dossiers


class DossierFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=State.choices, label=_("État"))
    dispositif = django_filters.CharFilter(field_name="dispositif__code", label=_("Code du dispositif"))
    couloir = django_filters.CharFilter(field_name="dispositif__couloir_id", label=_("Code du couloir"))
    # Bounded to 64-bit ids: a larger number is bad input (400), not an overflow in SQLite's driver (500).
    solution = django_filters.NumberFilter(field_name="solution_id", label=_("Id de la solution"),
                                           min_value=-(2**63), max_value=2**63 - 1)
    q = django_filters.CharFilter(label=_("Nom du client, FINESS, SIRET ou référence"))

    class Meta:
        model = Dossier
        fields = ["state", "dispositif", "couloir", "solution", "q"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Filters other apps registered (dossiers.extensions): an unknown value is a 400 like any other.
        for name, extra in registered_filters().items():
            self.filters.setdefault(name, extra)

    def filter_queryset(self, queryset: QuerySet[Dossier]) -> QuerySet[Dossier]:
        return filter_dossiers(queryset, self.form.cleaned_data)


def registered_filters() -> dict[str, django_filters.Filter]:
    """The list filters other apps registered in dossiers.extensions, as django-filter filters."""
    from ..extensions import LIST_FILTERS

    return {name: django_filters.ChoiceFilter(choices=extra.choices, label=extra.label)
            for name, extra in LIST_FILTERS.items()}


# Imported with the URLs, once every app is ready: the schema (built from base_filters) documents them too.
for _name, _filter in registered_filters().items():
    DossierFilter.base_filters.setdefault(_name, _filter)
