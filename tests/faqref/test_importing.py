"""Importing FAQ exports: one entry per answer across exports, revisions for rewordings, idempotent re-imports,
malformed files refused whole, and the `import_faq` command's report."""
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from faqref import importing
from faqref.importing import Outcome, import_export, read_export
from faqref.models import Entry, Facet, Revision, RuleLink, Source
from faqref.parsing import SEPARATOR, fingerprint

from .conftest import DEMO_0, MS2, run_import

pytestmark = pytest.mark.django_db


def state() -> dict:
    """Every row the import writes, with its ids and timestamps: equal states mean nothing was touched."""
    return {
        "entries": list(Entry.objects.values_list("id", "slug", "text", "fingerprint", "facets", "updated_at")),
        "revisions": list(Revision.objects.values_list("id", "entry_id", "number", "fingerprint")),
        "sources": list(Source.objects.values_list("id", "entry_id", "revision_id", "file", "position", "line")),
        "facets": list(Facet.objects.values_list("id", "entry_id", "key", "value")),
        "links": list(RuleLink.objects.values_list("id", "rule", "entry_id", "origin", "rank")),
    }


def revision_sets() -> set[frozenset[str]]:
    """Each entry as the set of its revisions' fingerprints: what must not depend on the import order."""
    grouped: dict[int, set[str]] = {}
    for entry_id, print_ in Revision.objects.values_list("entry_id", "fingerprint"):
        grouped.setdefault(entry_id, set()).add(print_)
    return {frozenset(prints) for prints in grouped.values()}


def test_both_exports_import_as_one_entry_per_answer_with_a_revision_per_rewording(corpus):
    first, second = corpus.paths
    out, _ = run_import(corpus.folder)

    # Answers found identical in both exports are one entry; a reworded answer is one entry with two
    # revisions; every answer is a source. Official: 19 + 20 - 2 - 4 = 33 entries; ours: 12 + 16 - 2 - 3 = 23.
    assert Entry.objects.count() == corpus.entries == sum(corpus.answers) - corpus.identical - corpus.reworded
    assert Revision.objects.count() == corpus.revisions == corpus.entries + corpus.reworded
    revisions_per_entry = Entry.objects.annotate(n=Count("revisions")).values_list("n", flat=True)
    assert sorted(revisions_per_entry, reverse=True)[:corpus.reworded + 1] == [2] * corpus.reworded + [1]
    assert Source.objects.count() == corpus.sources
    n0, n1 = corpus.answers
    created = n1 - corpus.identical - corpus.reworded
    assert f"{first.name} : {n0} réponses — {n0} créée(s), 0 révisée(s), 0 inchangée(s)" in out
    assert (f"{second.name} : {n1} réponses — {created} créée(s), {corpus.reworded} révisée(s), "
            f"{corpus.identical} inchangée(s)") in out
    assert f"Total : {corpus.entries} créée(s), {corpus.reworded} révisée(s), {corpus.identical} inchangée(s)" in out


def test_reimporting_the_same_files_changes_nothing_and_reports_every_answer_unchanged(corpus):
    run_import(corpus.folder)
    before = state()

    out, _ = run_import(*reversed(corpus.paths))

    assert state() == before
    assert f"Total : 0 créée(s), 0 révisée(s), {corpus.sources} inchangée(s)" in out


def test_the_import_order_does_not_change_the_entries_only_which_text_came_first(corpus):
    first, second = corpus.paths
    run_import(first)
    run_import(second)
    forward = revision_sets()
    Entry.objects.all().delete()

    run_import(second)
    out, _ = run_import(first)

    assert revision_sets() == forward
    assert (Entry.objects.count(), Revision.objects.count()) == (corpus.entries, corpus.revisions)
    n0 = corpus.answers[0]
    assert (f"{first.name} : {n0} réponses — {n0 - corpus.identical - corpus.reworded} créée(s), "
            f"{corpus.reworded} révisée(s), {corpus.identical} inchangée(s)") in out


def test_an_answer_found_in_two_exports_is_one_entry_with_both_sources(corpus):
    run_import(corpus.folder)

    entry = Entry.objects.get(text__startswith=corpus.shared_opening)

    assert entry.revisions.count() == 1
    assert sorted(entry.sources.values_list("file", "position", "line")) == list(corpus.shared_sources)
    # Seen under the first export's dispositif filter and in the second unfiltered: it carries the filter's value.
    assert entry.facets == {"dispositif": [MS2]}


def test_a_reworded_answer_becomes_the_next_revision_of_the_same_entry(write_export):
    first = write_export("a.txt", "Le solde est versé après la VA signée par le client et la facture jointe.")
    second = write_export("b.txt", "Le solde est versé après la VA signée par le client et la facture transmise.")
    run_import(first)
    entry = Entry.objects.get()
    slug = entry.slug

    out, _ = run_import(second)

    entry.refresh_from_db()
    assert "b.txt : 1 réponse — 0 créée(s), 1 révisée(s), 0 inchangée(s)" in out
    assert list(entry.revisions.values_list("number", flat=True)) == [1, 2]
    assert entry.text.endswith("facture transmise.")
    assert entry.fingerprint == fingerprint(entry.text)
    assert entry.slug == slug  # stable: links to the entry keep working
    assert dict(entry.sources.values_list("file", "revision__number")) == {"a.txt": 1, "b.txt": 2}


def test_an_unrelated_answer_becomes_a_new_entry_and_two_answers_of_one_file_never_merge(write_export):
    # Two answers of one export are two answers, however alike; the second is not a revision of the first.
    path = write_export(
        "a.txt",
        "Le solde est versé après la VA signée par le client et la facture jointe.",
        "Le solde est versé après la VA signée par le client et la facture transmise.",
        "Les cartes CPE se commandent auprès de l'ANS.",
    )

    out, _ = run_import(path)

    assert Entry.objects.count() == 3
    assert "3 créée(s), 0 révisée(s), 0 inchangée(s)" in out


def test_an_entry_title_is_the_curated_question_else_the_answers_first_sentence(write_export):
    run_import(write_export("a.txt", "Oui. Le bon de commande doit être signé. Il peut l'être en ligne."))
    entry = Entry.objects.get()
    assert entry.title == entry.derived_title == "Oui. Le bon de commande doit être signé."
    assert entry.slug.startswith("oui-le-bon-de-commande-doit-etre-signe-")

    entry.question = "Faut-il signer le bon de commande ?"
    entry.save()

    assert str(Entry.objects.get()) == "Faut-il signer le bon de commande ?"


def test_the_entry_keeps_the_answers_blocks_for_display(corpus):
    run_import(corpus.paths[0])

    table = Entry.objects.get(text__startswith=corpus.table_opening)
    kinds = [block["kind"] for block in table.blocks]
    assert kinds == ["paragraph", "table"]
    assert table.blocks[1]["rows"][:2] == [list(row) for row in corpus.table_head]


def test_a_file_imported_again_with_an_answer_less_keeps_the_entry_but_drops_that_source(write_export):
    run_import(write_export("a.txt", "Première réponse sur le solde.", "Seconde réponse sur les cartes CPE."))

    run_import(write_export("a.txt", "Seconde réponse sur les cartes CPE."))

    assert Entry.objects.count() == 2
    assert list(Source.objects.values_list("file", "position", "entry__text")) == [
        ("a.txt", 0, "Seconde réponse sur les cartes CPE.")]


def test_facets_are_the_union_of_the_sources_and_follow_a_reimport(write_export):
    answer = "Les cartes CPE se commandent auprès de l'ANS."
    run_import(write_export("a.txt", answer, facets={"Couloir": "Médico-social"}))
    run_import(write_export("b.txt", answer, facets={"Thématique": "Cartes"}))
    entry = Entry.objects.get()
    assert entry.facets == {"couloir": ["Médico-social"], "thematique": ["Cartes"]}
    assert sorted(entry.facet_values.values_list("key", "value")) == [
        ("couloir", "Médico-social"), ("thematique", "Cartes")]

    run_import(write_export("b.txt", answer))

    entry.refresh_from_db()
    assert entry.facets == {"couloir": ["Médico-social"]}
    assert list(entry.facet_values.values_list("key", "value")) == [("couloir", "Médico-social")]


MALFORMED = {
    "empty": (b"", 1, "fichier vide"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", 3, "fichier binaire"),  # the first NUL
    "latin-1": ("Votre question concerne quel couloir Ségur ?\nLe solde est versé.\n"
                f"{SEPARATOR}\n".encode("latin-1", errors="replace"), 1, "encodage invalide"),
    "unterminated": (f"Le solde est versé.\n{SEPARATOR}\n\nUne réponse sans fin.\nSur deux lignes.\n".encode(),
                     4, "réponse sans séparateur"),
}


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_a_malformed_export_imports_nothing_and_is_reported_with_its_line_while_valid_files_import(
        kind, tmp_path, write_export):
    data, line, reason = MALFORMED[kind]
    bad = tmp_path / "bad.txt"
    bad.write_bytes(data)
    good = write_export("good.txt", "Une bonne réponse sur le solde.")

    with pytest.raises(CommandError) as refused:
        run_import(bad, good)

    assert f"{bad}, ligne {line} : {reason}" in str(refused.value)
    assert not Source.objects.filter(file="bad.txt").exists()
    assert list(Entry.objects.values_list("text", flat=True)) == ["Une bonne réponse sur le solde."]


def test_the_command_reports_the_valid_files_and_then_fails_on_the_bad_one(tmp_path, write_export):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(f"Le solde.\n{SEPARATOR}\nSans fin.\n".encode())
    good = write_export("good.txt", "Une bonne réponse sur le solde.")
    out = StringIO()

    with pytest.raises(CommandError) as refused:
        call_command("import_faq", str(bad), str(good), stdout=out, stderr=StringIO())

    assert "good.txt : 1 réponse — 1 créée(s), 0 révisée(s), 0 inchangée(s)" in out.getvalue()
    assert "1 fichier(s) importé(s), 1 refusé(s)" in out.getvalue()
    assert f"{bad}, ligne 3 : réponse sans séparateur" in str(refused.value)


def test_an_error_half_way_through_a_file_rolls_back_all_of_it(write_export, monkeypatch):
    path = write_export("a.txt", "Première réponse sur le solde.", "Seconde réponse sur les cartes CPE.")
    real = importing._place
    calls = []

    def fail_on_second(answer, known, claimed):
        calls.append(answer.position)
        if answer.position == 1:
            raise RuntimeError("disk full")
        return real(answer, known, claimed)

    monkeypatch.setattr(importing, "_place", fail_on_second)

    with pytest.raises(RuntimeError):
        import_export(read_export(path))

    assert calls == [0, 1]
    assert not Entry.objects.exists()


def test_a_directory_imports_its_txt_files_in_name_order(tmp_path, write_export):
    write_export("b.txt", "Le solde est versé après la VA signée par le client et la facture transmise.")
    write_export("a.txt", "Le solde est versé après la VA signée par le client et la facture jointe.")
    (tmp_path / "notes.md").write_text("pas un export")

    out, _ = run_import(tmp_path)

    assert out.index("a.txt") < out.index("b.txt")
    assert "notes.md" not in out
    assert Entry.objects.get().revisions.get(number=1).text.endswith("facture jointe.")


def test_without_paths_the_configured_sources_are_imported_and_missing_ones_skipped(settings, tmp_path):
    settings.FAQ_SOURCES = [str(tmp_path / "absent"), str(DEMO_0)]

    out, err = run_import()

    assert f"{tmp_path / 'absent'} : chemin introuvable, ignoré" in err
    assert Entry.objects.count() == 12
    assert "Total : 12 créée(s)" in out


def test_a_missing_path_named_on_the_command_line_is_an_error_after_the_others_import(tmp_path):
    with pytest.raises(CommandError) as refused:
        run_import(tmp_path / "absent.txt", DEMO_0)

    assert "absent.txt : chemin introuvable" in str(refused.value)
    assert Entry.objects.count() == 12


def test_the_progress_bar_goes_to_stderr_only_when_asked_or_on_a_terminal():
    _, quiet = run_import(DEMO_0)
    Entry.objects.all().delete()
    Source.objects.all().delete()

    _, shown = run_import(DEMO_0, progress=True)

    assert quiet == ""
    assert "12/12" in shown


def test_the_import_outcomes_are_reported_answer_by_answer(write_export):
    path = write_export("a.txt", "Première réponse sur le solde.", "Première réponse sur le solde.")
    seen = []

    report = import_export(read_export(path), on_answer=seen.append)

    assert report.outcomes == seen == [Outcome.CREATED, Outcome.UNCHANGED]
    assert Entry.objects.count() == 1
    assert Source.objects.count() == 2


def test_the_import_takes_a_fixed_number_of_queries_for_unchanged_answers(corpus, django_assert_max_num_queries):
    run_import(corpus.folder)
    parsed = read_export(corpus.paths[0])

    with django_assert_max_num_queries(8):
        report = import_export(parsed)

    assert report.unchanged == corpus.answers[0]



def test_the_demonstration_faq_is_imported_flagged_and_says_how_to_import_the_official_one():
    out, _ = run_import(demo=True)

    assert Entry.objects.count() == 23
    assert not Entry.objects.filter(is_demo=False).exists()
    assert "FAQ de démonstration importée" in out and "manage.py import_faq CHEMIN/DES/EXPORTS" in out
    assert RuleLink.objects.exists()


def test_or_demo_imports_the_demonstration_only_when_no_configured_source_exists(settings, tmp_path, write_export):
    settings.FAQ_SOURCES = [str(tmp_path / "absent")]
    out, err = run_import(or_demo=True)
    assert Entry.objects.filter(is_demo=True).count() == 23
    assert "FAQ de démonstration importée" in out and err == ""

    settings.FAQ_SOURCES = [str(write_export("officielle.txt", "Une réponse officielle sur le solde."))]
    out, _ = run_import(or_demo=True)

    assert "FAQ de démonstration" not in out
    # The official exports replace the demonstration entirely.
    assert list(Entry.objects.values_list("text", "is_demo")) == [("Une réponse officielle sur le solde.", False)]


def test_a_missing_path_alone_fails_before_anything_is_touched(tmp_path):
    run_import(demo=True)
    before = state()

    with pytest.raises(CommandError) as refused:
        run_import(tmp_path / "absent")

    assert "absent : chemin introuvable" in str(refused.value)
    assert state() == before and Entry.objects.filter(is_demo=True).count() == 23


def test_a_refused_official_export_leaves_the_demonstration_in_place(tmp_path):
    run_import(demo=True)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"")

    with pytest.raises(CommandError):
        run_import(bad)

    assert Entry.objects.filter(is_demo=True).count() == 23
