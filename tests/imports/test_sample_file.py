"""docs/exemple-import.csv, the sample the README shows, imports without an error: every state once."""
from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from .conftest import upload

pytestmark = pytest.mark.django_db
SAMPLE = Path(settings.BASE_DIR) / "docs" / "exemple-import.csv"


def test_the_documented_sample_file_imports_cleanly(api):
    body = upload(api, SimpleUploadedFile(SAMPLE.name, SAMPLE.read_bytes()), dry_run=False).json()
    assert (body["status"], body["errors"], body["rows"], body["created"]["dossiers"]) == ("done", [], 15, 15)
