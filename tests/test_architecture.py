"""The one-way dependencies of docs/architecture.md, read from every app module's imports with `ast`."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APPS = ("segurtrack", "organisations", "faqref", "dossiers", "imports", "webhooks", "varequests", "reports")
LIFECYCLE = {"dossiers", "imports", "webhooks", "varequests", "reports"}
# app → the apps it must never import (docs/architecture.md, "Dependencies point one way").
FORBIDDEN = {
    "organisations": LIFECYCLE | {"faqref"},
    "faqref": LIFECYCLE,
    "dossiers": {"imports", "webhooks", "varequests", "reports"},
}
# app → the only project apps it may import (besides itself); checked on top of FORBIDDEN.
ALLOWED = {
    "reports": {"dossiers", "faqref", "organisations", "segurtrack"},
}


def imported_modules(source: str, module: str) -> list[tuple[int, str]]:
    """(line, absolute dotted name) of every import in a module's source, relative ones resolved."""
    package = module.split(".")
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level] if node.level else []
            name = ".".join([*base, node.module] if node.module else base)
            found += [(node.lineno, name)] if node.module else [(node.lineno, f"{name}.{a.name}") for a in node.names]
    return found


def violations(app: str, files: dict[str, str]) -> list[str]:
    """`path:line imports X` for each import of a forbidden app among `files` ({module name: source})."""
    forbidden = FORBIDDEN.get(app, set())
    if app in ALLOWED:
        forbidden |= set(APPS) - ALLOWED[app] - {app}
    return [f"{module}:{line} imports {name}"
            for module, source in sorted(files.items())
            for line, name in imported_modules(source, module)
            if name.split(".")[0] in forbidden]


def app_files(app: str) -> dict[str, str]:
    files = {}
    for path in sorted((ROOT / app).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = (*parts[:-1], "__init__")
        files[".".join(parts)] = path.read_text(encoding="utf-8")
    return files


@pytest.mark.parametrize("app", sorted(FORBIDDEN.keys() | ALLOWED.keys()))
def test_no_app_imports_an_app_it_must_not_depend_on(app):
    files = app_files(app)
    assert files, f"{app}/ holds no module"
    assert violations(app, files) == []


def test_a_forbidden_import_is_found_wherever_and_however_it_is_written():
    files = {
        "faqref.search": "from dossiers.rules import CATALOGUE\n",
        "faqref.views": "def view():\n    import webhooks.tasks\n",
        "faqref.api.things": "from ...dossiers import models\n",
        "faqref.links": "from organisations.models import Role\nfrom .models import Entry\nfrom segurtrack import api_schema\n",
    }
    assert violations("faqref", files) == [
        "faqref.api.things:1 imports dossiers",
        "faqref.search:1 imports dossiers.rules",
        "faqref.views:2 imports webhooks.tasks",
    ]


def test_dossiers_may_use_faqref_but_not_the_apps_built_on_it():
    files = {"dossiers.services": "from faqref.links import guidance\nfrom varequests import models\n"}
    assert violations("dossiers", files) == ["dossiers.services:2 imports varequests"]


def test_dossiers_never_imports_reports_however_it_is_written():
    files = {"dossiers.tasks": "def run():\n    from reports.digests import build_digest\n",
             "dossiers.views.home": "from ...reports import queries\n",
             "dossiers.queries": "from reports.queries import AddDays\nfrom .models import Dossier\n"}
    assert violations("dossiers", files) == [
        "dossiers.queries:1 imports reports.queries",
        "dossiers.tasks:2 imports reports.digests",
        "dossiers.views.home:1 imports reports",
    ]


def test_reports_reads_dossiers_and_the_apps_below_it_only():
    files = {"reports.queries": "from dossiers.queries import filter_dossiers\nfrom faqref.links import guidance_for\n"
                                "from organisations.models import Organisation\nfrom segurtrack import errors\n"
                                "from .models import ExportJob\n",
             "reports.api.reports": "from webhooks.models import Endpoint\nfrom ..deadlines import KINDS\n",
             "reports.tasks": "def run():\n    import varequests.tasks\n    from imports import models\n"}
    assert violations("reports", files) == [
        "reports.api.reports:1 imports webhooks.models",
        "reports.tasks:2 imports varequests.tasks",
        "reports.tasks:3 imports imports",
    ]


def test_the_architecture_document_names_every_app_of_the_tree():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    present = [app for app in APPS if (ROOT / app / "__init__.py").is_file()]
    assert {"segurtrack", "organisations", "faqref", "dossiers"} <= set(present)
    assert [app for app in present if f"`{app}/`" not in text] == []
