"""Import edges docs/architecture.md promises beyond the app boundaries (tests/test_architecture.py): no module-level
import circle inside the project, and the serializer framework kept at the edge (payloads and the API)."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APPS = ("segurtrack", "organisations", "faqref", "dossiers", "imports", "webhooks", "varequests", "reports")
# Modules that take plain values and raise segurtrack.errors: the DRF validation lives in payloads.py and the API.
FRAMEWORK_FREE = ("dossiers.services", "dossiers.forms", "dossiers.party_forms", "dossiers.followup_forms",
                  "dossiers.checklist", "dossiers.blockers", "dossiers.solde_json")
FRAMEWORK = ("rest_framework", "drf_spectacular")


def project_modules() -> dict[str, Path]:
    modules = {}
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" not in parts:
                modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def top_level_imports(module: str, path: Path, *, inside_functions: bool = False) -> set[str]:
    """What importing the module imports at once (or also inside its functions), relative names resolved."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    names = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree) if inside_functions else tree.body:
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            name = ".".join([*base, node.module] if node.module else base)
            names |= {name} | {f"{name}.{alias.name}" for alias in node.names}
    return names


def graph(*, within: str = "", inside_functions: bool = False) -> dict[str, set[str]]:
    """Module → the project modules it imports; `within`: only the modules under that prefix."""
    modules = {m: p for m, p in project_modules().items() if m.startswith(within)}
    edges = {}
    for module, path in modules.items():
        found = set()
        for name in top_level_imports(module, path, inside_functions=inside_functions):
            parts = name.split(".")
            # Importing a.b.c runs a/__init__ and a/b/__init__ first.
            found |= {".".join(parts[:n]) for n in range(1, len(parts) + 1)} & modules.keys()
        edges[module] = found - {module} - {m for m in found if module.startswith(f"{m}.")}
    return edges


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(edges.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_module_level_import_circle_in_the_project():
    assert circles(graph()) == []


def test_no_import_circle_in_the_lifecycle_pages_api_and_writers_even_through_imports_in_functions():
    """An import inside a function hides a circle from Python, not from the reader (views/dossier_pages ↔ solde)."""
    edges = graph(within="dossiers.", inside_functions=True)
    lifecycle = {m: e for m, e in edges.items() if not m.startswith("dossiers.management")}
    assert circles(lifecycle) == []


def test_a_circle_is_found():
    assert circles({"a.x": {"a.y"}, "a.y": {"a.z"}, "a.z": {"a.x"}, "a.w": {"a.x"}}) == [["a.x", "a.y", "a.z"]]


def test_the_services_and_the_page_forms_do_not_import_the_serializer_framework():
    modules = project_modules()
    chosen = {m: p for m, p in modules.items() if any(m == f or m.startswith(f"{f}.") for f in FRAMEWORK_FREE)}
    assert "dossiers.services.transitions" in chosen and "dossiers.forms" in chosen
    assert {m: sorted(n for n in top_level_imports(m, p) if n.split(".")[0] in FRAMEWORK)
            for m, p in chosen.items() if any(n.split(".")[0] in FRAMEWORK for n in top_level_imports(m, p))} == {}
