"""FAQ fixtures: our own exports (faqref/demo), the official ones when FAQ_SOURCES names them, the import command.

The official exports are the programme's text and are not in the repository. Tests run on our exports by
default; `corpus`-parametrised tests also run on the official exports when the FAQ_SOURCES environment
variable names their folder (scripts/test.sh sets it to ../shared/seeds when that folder exists, as in CI).
"""
import os
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from faqref.parsing import SEPARATOR

ROOT = Path(__file__).resolve().parents[2]
MS2 = "Dossier Usager Informatisé (DUI) - PDE (MS2)"
DEMO = ROOT / "faqref" / "demo"
DEMO_0 = DEMO / "000_demonstration_dui.txt"
DEMO_1 = DEMO / "001_demonstration.txt"
PROMPTS = (
    "Votre question concerne quel type d'offre ?",
    "Votre question concerne quel couloir Ségur ?",
    "Votre question concerne quelle thématique ?",
)


def official_folder() -> Path | None:
    """The first folder FAQ_SOURCES names (relative to the checkout), or None when it is unset."""
    configured = [part for part in os.environ.get("FAQ_SOURCES", "").split(os.pathsep) if part.strip()]
    return (ROOT / configured[0]).resolve() if configured else None


@dataclass(frozen=True)
class Corpus:
    """Two exports (the first under a dispositif filter, the second unfiltered) and what importing them gives."""

    name: str
    folder: Path
    files: tuple[str, str]
    answers: tuple[int, int]
    entries: int
    revisions: int
    identical: int
    reworded: int
    # The one answer found, the same, in both exports: its opening words and its (file, position, line).
    shared_opening: str
    shared_sources: tuple[tuple[str, int, int], ...]
    # The answer holding a table, and its first two rows.
    table_opening: str
    table_head: tuple[tuple[str, ...], ...]
    # Rule code -> opening words of the answer its first FAQ link must be.
    cited: dict[str, str] = field(default_factory=dict)
    # Rules these exports give no guidance for (the official exports do not cover every rule).
    unlinked: frozenset[str] = frozenset()
    # (opening in the second export, opening in the first) of the identical and of the reworded answers.
    identical_pairs: frozenset[tuple[str, str]] = frozenset()
    reworded_pairs: frozenset[tuple[str, str]] = frozenset()

    @property
    def paths(self) -> tuple[Path, Path]:
        return self.folder / self.files[0], self.folder / self.files[1]

    @property
    def sources(self) -> int:
        return sum(self.answers)


OURS = Corpus(
    name="ours", folder=DEMO, files=(DEMO_0.name, DEMO_1.name), answers=(12, 16), entries=23, revisions=26,
    identical=2, reworded=3,
    shared_opening="Oui, si le client final", shared_sources=((DEMO_0.name, 0, 8), (DEMO_1.name, 0, 6)),
    table_opening="La version en vigueur", table_head=(("Version", "Changements"), ("1.0", "Première publication")),
    cited={
        "client.identified": "Chaque site géographique",
        "bdc.document": "Oui, si le client final",
        "bdc.signature_type": "Oui, si le client final",
        "bdc.pre_referencing_window": "Un bon de commande signé avant",
        "dispositif.single_active": "Pour rappel, un même client",
        "avance.solution_referenced": "Non : le programme",
        "avance.deadline": "Pour rappel, un même client",
        "avance.amount": "Le montant déclaré lors de l'avance",
        "va.document": "Une demande de solde comprend",
        "va.esms_prerequisites": "En amont de la signature de la VA",
        "va.mss_deployment": "Pour le Dossier Usager Informatisé",
        "solde.pv_pilote": "Une demande de solde comprend",
        "solde.invoice_document": "Une demande de solde comprend",
        "solde.invoice_matches_va_signer": "Le signataire de la VA",
        "solde.amount_within_avance": "Le montant déclaré lors de l'avance",
        "solde.invoice_full_amount": "Le montant de la facture",
        "solde.vat_exemption": "Sauf exonération",
        "solde.vat_rate": "Sauf exonération",
        "solde.two_invoices": "Une seule facture globale",
        "solde.two_invoices_marked": "Une seule facture globale",
        "solde.invoice_mentions": "Les éléments et mentions",
        "solde.mss_deployment": "Pour le Dossier Usager Informatisé",
        "solde.last_amendment_paid": "Quand l'avance a fait l'objet",
        "cancel.honour_statement": "Pour annuler une demande",
        "cancel.client_renunciation": "Pour annuler une demande",
        "dates.chronology": "Pour rappel, un même client",
        "solde.declared_finess": "Un site peut avoir à la fois",
    },
    identical_pairs=frozenset({("Oui, si le client final", "Oui, si le client final"),
                               ("Sauf exonération", "Sauf exonération")}),
    reworded_pairs=frozenset({("Le client peut demander", "Oui, le client peut demander"),
                              ("Les éléments et mentions", "Les éléments et mentions"),
                              ("Pour rappel", "Pour rappel")}),
)


def official_corpus(folder: Path) -> Corpus:
    """The two official exports CI holds. DOMAIN.md §5 cites, for each rule, the answer that is its source."""
    first, second = "000_6587fc1f6cff108e.txt", "001_75987ac76936c33c.txt"
    return Corpus(
        name="official", folder=folder, files=(first, second), answers=(19, 20), entries=33, revisions=37,
        identical=2, reworded=4,
        shared_opening="Oui, le bon de commande", shared_sources=((first, 17, 87), (second, 0, 6)),
        table_opening="La dernière version de ce document",
        table_head=(("Date", "Notes de mises à jour"), ("26/07/2024", "Version initiale")),
        cited={
            "client.identified": "Un site géographique",
            "bdc.document": "Oui, le bon de commande",
            "bdc.signature_type": "Oui, le bon de commande",
            "dispositif.single_active": "Pour rappel, l’établissement",
            "avance.solution_referenced": "Non, ce programme ne finance pas",
            "avance.deadline": "Pour rappel",
            "va.document": "Une demande de solde comprend",
            "va.esms_prerequisites": "En amont de la signature de la VA",
            "solde.pv_pilote": "Une demande de solde comprend",
            "solde.invoice_document": "Une demande de solde comprend",
            "solde.invoice_matches_va_signer": "Il n’est pas indispensable",
            "solde.amount_within_avance": "Le montant de la facture",
            "solde.invoice_full_amount": "Le montant de la facture",
            "solde.vat_exemption": "Sauf cas d'exonération",
            "solde.vat_rate": "Sauf cas d'exonération",
            "solde.two_invoices": "Il est demandé de présenter",
            "solde.two_invoices_marked": "Il est demandé de présenter",
            "solde.invoice_mentions": "La liste des éléments",
            "cancel.honour_statement": "Pour annuler votre demande",
            "cancel.client_renunciation": "Pour annuler votre demande",
            # DOMAIN.md §8
            "dates.chronology": "Pour rappel",
            "solde.declared_finess": "Lorsqu’une structure s’authentifie",
        },
        # No official answer speaks of avenants or of the MSS deployment indicator.
        unlinked=frozenset({"solde.last_amendment_paid", "solde.mss_deployment", "va.mss_deployment"}),
        identical_pairs=frozenset({("Oui, le bon de commande", "Oui, le bon de commande"),
                                   ("Sauf cas d'exonération", "Sauf cas d'exonération")}),
        reworded_pairs=frozenset({("Il est possible de changer", "Oui, il est possible de changer"),
                                  ("La liste des éléments", "La liste des éléments"),
                                  ("Pour rappel", "Pour rappel"),
                                  ("La marche à suivre", "Oui. Pour connaître la marche")}),
    )


OFFICIAL_FOLDER = official_folder()
CORPORA = [OURS, *([official_corpus(OFFICIAL_FOLDER)] if OFFICIAL_FOLDER else [])]


def run_import(*paths, **options) -> tuple[str, str]:
    """Run `import_faq` and return what it wrote on stdout and stderr."""
    out, err = StringIO(), StringIO()
    call_command("import_faq", *map(str, paths), stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def export_text(*answers: str, facets: dict[str, str] | None = None) -> str:
    """An export in the official layout: the prompts, the selected facets, each answer closed by the separator."""
    header = [*PROMPTS]
    for label, value in (facets or {}).items():
        header += [f"- {label}: {value}", f"- (-) {value}"]
    return "\n".join([*header, *(f"{answer}\n{SEPARATOR}" for answer in answers)]) + "\n"


@pytest.fixture(params=CORPORA, ids=lambda corpus: corpus.name)
def corpus(request) -> Corpus:
    """Each set of exports present: ours always, the official ones when FAQ_SOURCES names them."""
    return request.param


@pytest.fixture
def write_export(tmp_path):
    def write(name: str, *answers: str, facets: dict[str, str] | None = None) -> Path:
        path = tmp_path / name
        path.write_text(export_text(*answers, facets=facets), encoding="utf-8")
        return path
    return write


@pytest.fixture
def seeded(db):
    """Our two exports imported (23 entries, see test_importing)."""
    return run_import(DEMO)


@pytest.fixture
def corpus_imported(db, corpus):
    """The corpus's two exports imported."""
    run_import(corpus.folder)
    return corpus
