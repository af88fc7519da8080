"""Documents attached to a dossier: the upload checked (size, PDF content, a safe name), the file stored, the row and
its history row written together; a file whose row fails is removed again."""
from __future__ import annotations

import hashlib
import os
import re
import unicodedata
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from segurtrack.errors import InvalidInput

from ..blockers import lock, refresh_blockers
from ..models import SIGNED_KINDS, Document, DocumentKind, HistoryEntry
from .common import append_history, require_role

PDF_MAGIC = b"%PDF-"
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def sanitise_filename(name: str) -> str:
    """A display name with no path, control character or exotic character; never empty."""
    name = unicodedata.normalize("NFKD", os.path.basename((name or "").replace("\\", "/")))
    name = "".join(c for c in name if not unicodedata.combining(c) and c.isprintable())
    name = _UNSAFE.sub("_", name).strip(" ._") or "document"
    stem, ext = os.path.splitext(name)
    return (stem[:150] + ext[:10]) or "document"


def check_upload(upload: UploadedFile, kind: str) -> tuple[str, str, int]:
    """Check size and content; return (sanitised name, sha256, size). Raises InvalidInput."""
    size = upload.size or 0
    if size > settings.DOCUMENT_MAX_BYTES:
        raise InvalidInput({"file": [_("Fichier trop volumineux : %(size)s Mo pour %(max)s Mo au plus.") % {
            "size": round(size / 1_048_576, 1), "max": round(settings.DOCUMENT_MAX_BYTES / 1_048_576, 1)}]})
    if size == 0:
        raise InvalidInput({"file": [_("Le fichier est vide.")]})
    digest = hashlib.sha256()
    head = b""
    for chunk in upload.chunks():
        if len(head) < 1024:
            head += chunk[: 1024 - len(head)]
        digest.update(chunk)
    upload.seek(0)
    if kind in SIGNED_KINDS and PDF_MAGIC not in head[:1024]:
        raise InvalidInput({"file": [_("Ce document doit être un PDF (contenu non reconnu comme PDF).")]})
    name = sanitise_filename(upload.name)
    if kind in SIGNED_KINDS and not name.lower().endswith(".pdf"):
        name = f"{name}.pdf"
    return name, digest.hexdigest(), size


def store_file(document: Document, upload: UploadedFile, *, name: str, sha256: str, size: int) -> None:
    """Write a checked upload under a generated name and describe it on the row; the caller saves the row and, if
    anything fails afterwards, removes `document.file` again."""
    pdf = name.lower().endswith(".pdf")
    document.filename, document.sha256, document.size = name, sha256, size
    document.content_type = "application/pdf" if pdf else "application/octet-stream"
    document.file.save(f"{uuid.uuid4().hex}{'.pdf' if pdf else ''}", upload, save=False)


def add_document(dossier_id: int, *, by: AbstractBaseUser, kind: str, upload: UploadedFile) -> Document:
    if kind not in DocumentKind.values:
        raise InvalidInput({"kind": [_("Type de document inconnu : %(kind)s.") % {"kind": kind}]})
    document, _entry = _attach_document(dossier_id, by=by, kind=kind, upload=upload, action="add_document")
    return document


def add_returned_document(dossier_id: int, *, kind: str, upload: UploadedFile, returned_by: str,
                          data: dict[str, Any] | None = None) -> tuple[Document, HistoryEntry]:
    """A document sent back by someone without an account (a client's signatory, through a link the caller has
    checked): the same upload checks as `add_document`, a history row `document_returned` naming them.

    The file is written before the row and removed again if this fails; a caller that fails after this returned,
    in the same transaction, removes `document.file` itself.
    """
    return _attach_document(dossier_id, by=None, kind=kind, upload=upload, action="document_returned",
                            data={"returned_by": returned_by, **(data or {})})


def _attach_document(dossier_id: int, *, by: AbstractBaseUser | None, kind: str, upload: UploadedFile, action: str,
                     data: dict[str, Any] | None = None) -> tuple[Document, HistoryEntry]:
    """Check the upload, store the file, add the row and its history row; `by` None: someone without an account."""
    name, sha256, size = check_upload(upload, kind)
    document = None
    # The file is written before the row; whatever fails afterwards, the commit included, removes it again.
    try:
        with transaction.atomic():
            dossier = lock(dossier_id)
            if by is not None:
                require_role(by, dossier.organisation_id)
            document = Document(organisation_id=dossier.organisation_id, dossier=dossier, kind=kind, uploaded_by=by)
            store_file(document, upload, name=name, sha256=sha256, size=size)
            document.save()
            entry = append_history(dossier, user=by, action=action, from_state=dossier.state,
                                   data={"document": document.pk, "kind": kind, "filename": name, "sha256": sha256,
                                         **(data or {})})
            refresh_blockers(dossier)
    except Exception:
        if document is not None and document.file.name:
            document.file.delete(save=False)
        raise
    return document, entry
