"""Hardening helpers: URLs, the database at hand, the files in the document storage, hand-built multipart bodies."""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.signals import request_finished
from django.db import close_old_connections, connection
from django.urls import reverse


def url(name: str, *args: Any) -> str:
    return reverse(f"api:{name}", args=args)


def on_postgres() -> bool:
    return connection.vendor == "postgresql"


def stored_files() -> list[Path]:
    """Every file under the document storage (the suite's autouse fixture puts it in tmp_path)."""
    root = Path(django_settings.STORAGES["default"]["OPTIONS"]["location"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def multipart(fields: list[tuple[str, str]], files: list[tuple[str, bytes | str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body written byte for byte: Django's test client would strip the file name to its
    basename before sending, and the hostile names must reach the server as a hostile client sends them."""
    boundary = f"hardening{uuid.uuid4().hex}"
    parts: list[bytes] = []
    for name, value in fields:
        parts += [f"--{boundary}".encode(), f'Content-Disposition: form-data; name="{name}"'.encode(), b"",
                  value.encode()]
    for name, filename, content in files:
        raw_name = filename if isinstance(filename, bytes) else filename.encode("utf-8")
        parts += [f"--{boundary}".encode(),
                  f'Content-Disposition: form-data; name="{name}"; filename="'.encode() + raw_name + b'"',
                  b"Content-Type: application/octet-stream", b"", content]
    parts += [f"--{boundary}--".encode(), b""]
    return b"\r\n".join(parts), f"multipart/form-data; boundary={boundary}"


@pytest.fixture
def keep_connection_open_across_requests():
    """Requests sent through a WSGI client (not Django's test client) end with `request_finished`, whose
    `close_old_connections` closes the test's connection inside its transaction; Django's test client
    disconnects it for the same reason."""
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_finished.connect(close_old_connections)
