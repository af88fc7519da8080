"""FAQ fixtures: the two seed exports (../shared/seeds beside the checkout), the import command, exports on disk."""
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from faqref.parsing import SEPARATOR

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
SEED_0 = SEEDS / "000_6587fc1f6cff108e.txt"
SEED_1 = SEEDS / "001_75987ac76936c33c.txt"
PROMPTS = (
    "Votre question concerne quel type d'offre ?",
    "Votre question concerne quel couloir Ségur ?",
    "Votre question concerne quelle thématique ?",
)


def run_import(*paths, **options) -> tuple[str, str]:
    """Run `import_faq` and return what it wrote on stdout and stderr."""
    out, err = StringIO(), StringIO()
    call_command("import_faq", *map(str, paths), stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def export_text(*answers: str, facets: dict[str, str] | None = None) -> str:
    """An export in the seeds' layout: the prompts, the selected facets, each answer closed by the separator."""
    header = [*PROMPTS]
    for label, value in (facets or {}).items():
        header += [f"- {label}: {value}", f"- (-) {value}"]
    return "\n".join([*header, *(f"{answer}\n{SEPARATOR}" for answer in answers)]) + "\n"


@pytest.fixture
def write_export(tmp_path):
    def write(name: str, *answers: str, facets: dict[str, str] | None = None) -> Path:
        path = tmp_path / name
        path.write_text(export_text(*answers, facets=facets), encoding="utf-8")
        return path
    return write


@pytest.fixture
def seeded(db):
    """Both seed exports imported (33 entries, see test_importing)."""
    return run_import(SEEDS)
