"""The one-way dependencies of docs/architecture.md, read from every app module's imports with `ast`."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APPS = ("segurtrack", "organisations", "faqref", "dossiers", "imports", "webhooks", "varequests", "reports", "demo")
LIFECYCLE = {"dossiers", "imports", "webhooks", "varequests", "reports"}
# Every top-level package of the project (an app added later counts too), the tests aside.
PROJECT = {path.parent.name for path in ROOT.glob("*/__init__.py")} - {"tests"} | set(APPS)
# app → the apps it must never import (docs/architecture.md, "Dependencies point one way").
FORBIDDEN = {
    "organisations": LIFECYCLE | {"faqref"},
    # faqref runs on the project's plumbing and the organisations' roles, and nothing else of ours.
    "faqref": PROJECT - {"faqref", "segurtrack", "organisations"},
    "dossiers": {"imports", "webhooks", "varequests", "reports"},
    # The API plumbing every app runs through (segurtrack/api/) belongs to none of them.
    "segurtrack.api": PROJECT - {"segurtrack"},
}
# The tooling app (demo data, benchmark data sets) builds on every app; no app builds on it (only tests do).
TOOLING = "demo"
for _app in APPS:
    if _app != TOOLING and (ROOT / _app / "__init__.py").is_file():
        FORBIDDEN.setdefault(_app, set()).add(TOOLING)
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
    for path in sorted((ROOT / app.replace(".", "/")).rglob("*.py")):
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
        "faqref.links": "from organisations.models import Role\nfrom .models import Entry\nfrom segurtrack.api import schema\n",
    }
    assert violations("faqref", files) == [
        "faqref.api.things:1 imports dossiers",
        "faqref.search:1 imports dossiers.rules",
        "faqref.views:2 imports webhooks.tasks",
    ]


def test_faqref_may_use_only_the_project_plumbing_and_organisations():
    files = {"faqref.api": "from segurtrack.api.schema import answers\nfrom organisations.models import Role\n"
                           "from rest_framework import generics\nfrom .models import Entry\n",
             "faqref.links": "from imports.columns import parse\n"}
    assert violations("faqref", files) == ["faqref.links:1 imports imports.columns"]


def test_the_api_plumbing_in_the_settings_is_the_projects_own():
    """The handler, pagination, authentication, permission and throttle every request of faqref's API runs
    through are named by dotted path in the settings: at run time they are faqref's dependencies too."""
    from django.conf import settings

    framework = settings.REST_FRAMEWORK
    named = [framework["EXCEPTION_HANDLER"], framework["DEFAULT_PAGINATION_CLASS"],
             *framework["DEFAULT_AUTHENTICATION_CLASSES"], *framework["DEFAULT_PERMISSION_CLASSES"],
             *framework["DEFAULT_THROTTLE_CLASSES"]]
    ours = [path for path in named if path.split(".")[0] in PROJECT]
    assert ours and [path for path in ours if path.split(".")[0] not in ("segurtrack", "organisations")] == []
    assert framework["EXCEPTION_HANDLER"].startswith("segurtrack.api.")


def test_dossiers_may_use_faqref_but_not_the_apps_built_on_it():
    files = {"dossiers.services": "from faqref.links import guidance\nfrom varequests import models\n"}
    assert violations("dossiers", files) == ["dossiers.services:2 imports varequests"]


def test_no_app_imports_the_tooling_app_but_the_tooling_app_may_import_any():
    assert violations("imports", {"imports.importer": "from demo.generation.bulk import Table\n"}) == [
        "imports.importer:1 imports demo.generation.bulk"]
    assert violations(TOOLING, {"demo.seed": "from imports import importer\nfrom dossiers import services\n"}) == []
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


def import_cycles(files: dict[str, str]) -> list[list[str]]:
    """Each circle of imports among `files` ({module name: source}), local imports included, as its modules."""
    modules = set(files)

    def target(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph = {module: {t for _line, name in imported_modules(source, module)
                      if (t := target(name)) and t != module and not t.endswith("__init__")}
             for module, source in files.items()}
    cycles, done = [], set()

    def visit(module: str, path: list[str]) -> None:
        for follower in sorted(graph.get(module, ())):
            if follower in path:
                cycle = path[path.index(follower):]
                start = cycle.index(min(cycle))  # each circle once, from its smallest module
                if (cycle := cycle[start:] + cycle[:start]) not in cycles:
                    cycles.append(cycle)
            elif follower not in done:
                visit(follower, [*path, follower])
        done.add(module)

    for module in sorted(graph):
        visit(module, [module])
    return cycles


@pytest.mark.parametrize("app", ["segurtrack", "organisations", "faqref"])
def test_no_module_of_the_app_imports_one_that_imports_it(app):
    assert import_cycles(app_files(app)) == []


def test_a_circle_is_found_even_through_a_local_import():
    files = {"faqref.models": "def refresh():\n    from .search import vector\n",
             "faqref.search": "from .models import Entry\n", "faqref.views": "from .search import search\n",
             "faqref.api": "from .views import search\n"}
    assert import_cycles(files) == [["faqref.models", "faqref.search"]]
    assert import_cycles({**files, "faqref.models": ""}) == []
