"""Dependencies point one way: varequests uses dossiers; no module of dossiers imports varequests."""
from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

from dossiers import extensions


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_module_of_dossiers_imports_varequests():
    files = sorted((Path(settings.BASE_DIR) / "dossiers").rglob("*.py"))
    assert len(files) > 30
    offenders = {str(f): sorted(m for m in imported_modules(f) if m.split(".")[0] == "varequests") for f in files}
    assert {f: m for f, m in offenders.items() if m} == {}


def test_varequests_plugs_into_the_dossier_page_the_list_and_the_report_at_start_up():
    assert "varequests/_dossier_panel.html" in [panel.template for panel in extensions.DOSSIER_PANELS]
    assert "va_request" in extensions.LIST_FILTERS
    assert "varequests/_pending_va_figures.html" in [f.template for f in extensions.PENDING_VA_FIGURES]
