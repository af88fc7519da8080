"""manage.py import_dossiers: a dry run by default, --commit to save, errors listed and the exit status set."""
from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from dossiers.models import Dossier
from imports import samples
from imports.models import ImportJob

from .conftest import rows

pytestmark = pytest.mark.django_db


def _file(tmp_path, sheet) -> str:
    path = tmp_path / "book.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        samples.write_csv(iter(sheet), handle)
    return str(path)


def test_a_dry_run_then_a_commit_from_the_shell(tmp_path, organisation, manager):
    path = _file(tmp_path, rows(20))
    out = io.StringIO()
    call_command("import_dossiers", path, "--organisation", organisation.name, stdout=out, stderr=io.StringIO())
    assert "Simulation book.csv : 20 lignes" in out.getvalue() and Dossier.objects.count() == 0
    out = io.StringIO()
    call_command("import_dossiers", path, "--commit", "--organisation", str(organisation.pk), "--user", "manon",
                 stdout=out, stderr=io.StringIO())
    assert "20 dossiers" in out.getvalue() and Dossier.objects.count() == 20
    assert ImportJob.objects.filter(dry_run=False).get().user == manager


def test_errors_are_listed_and_the_command_fails(tmp_path, organisation):
    sheet = rows(5)
    sheet[3]["siret"] = "123"
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_dossiers", _file(tmp_path, sheet), "--commit", stdout=out, stderr=io.StringIO())
    assert "ligne 5, siret" in out.getvalue()
    assert Dossier.objects.count() == 0


def test_an_unknown_organisation_is_refused(tmp_path, organisation):
    with pytest.raises(CommandError, match="Organisation inconnue"):
        call_command("import_dossiers", _file(tmp_path, rows(1)), "--organisation", "Personne", stdout=io.StringIO())
