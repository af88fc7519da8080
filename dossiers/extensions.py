"""Extension points: apps built on dossiers register here from their AppConfig.ready(); dossiers never imports them.

- a panel on the dossier page (a template and the context it needs, or None to hide it);
- a filter of the dossier list, on the page and in the API (a name, a label, choices and the queryset it applies);
- figures added to the pending-VA report, on the page and in the API (top-level fields, and a partial to show them).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest


@dataclass(frozen=True)
class DossierPanel:
    template: str
    context: Callable[[HttpRequest, Any], dict[str, Any] | None]


@dataclass(frozen=True)
class ListFilter:
    name: str
    label: Any
    choices: list[tuple[str, Any]]
    apply: Callable[[QuerySet, str], QuerySet]


@dataclass(frozen=True)
class ReportFigures:
    """`compute(scope, filters, pending, total=...)`: scope is an organisation id or None (platform staff), filters
    the report's, pending the pending-VA queryset, total its count when the report has it (None: count it); it
    returns JSON-ready top-level fields in a fixed number of queries."""

    template: str
    compute: Callable[..., dict[str, Any]]


DOSSIER_PANELS: list[DossierPanel] = []
LIST_FILTERS: dict[str, ListFilter] = {}
PENDING_VA_FIGURES: list[ReportFigures] = []


def register_dossier_panel(panel: DossierPanel) -> None:
    if panel not in DOSSIER_PANELS:
        DOSSIER_PANELS.append(panel)


def register_list_filter(list_filter: ListFilter) -> None:
    LIST_FILTERS[list_filter.name] = list_filter


def register_pending_va_figures(figures: ReportFigures) -> None:
    if figures not in PENDING_VA_FIGURES:
        PENDING_VA_FIGURES.append(figures)


def dossier_panels(request: HttpRequest, dossier: Any) -> list[dict[str, Any]]:
    """The registered panels to show on a dossier page, each as {"template", "context"}."""
    panels = []
    for panel in DOSSIER_PANELS:
        context = panel.context(request, dossier)
        if context is not None:
            panels.append({"template": panel.template, "context": context})
    return panels


def apply_list_filters(queryset: QuerySet, values: dict[str, Any]) -> QuerySet:
    for name, value in values.items():
        if name in LIST_FILTERS and value:
            queryset = LIST_FILTERS[name].apply(queryset, value)
    return queryset


def pending_va_figures(scope: int | None, filters: dict[str, Any], pending: QuerySet, *,
                       total: int | None = None) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for extra in PENDING_VA_FIGURES:
        figures.update(extra.compute(scope, filters, pending, total=total))
    return figures
