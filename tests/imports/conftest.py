"""Import test helpers: sample files in both formats, uploaded through the API."""
from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from imports import samples


def rows(count: int, **kwargs):
    return list(samples.sample_rows(count, today=timezone.localdate(), **kwargs))


def csv_file(row_list, *, name: str = "dossiers.csv", kind: str = "french", delimiter: str = ";",
             bom: bool = True) -> SimpleUploadedFile:
    text = io.StringIO()
    samples.write_csv(iter(row_list), text, kind=kind, delimiter=delimiter, bom=bom)
    return SimpleUploadedFile(name, text.getvalue().encode("utf-8"), content_type="text/csv")


def xlsx_file(row_list, *, name: str = "dossiers.xlsx", kind: str = "french") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    samples.write_xlsx(iter(row_list), buffer, kind=kind)
    return SimpleUploadedFile(name, buffer.getvalue(),
                              content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def upload(api, file, *, dry_run: bool | str = True):
    value = dry_run if isinstance(dry_run, str) else ("true" if dry_run else "false")
    return api.post(reverse("imports_api:import-list"), {"file": file, "dry_run": value}, format="multipart")


@pytest.fixture
def import_rows():
    return rows
