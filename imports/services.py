"""Starting an import: the upload checked and stored, the job recorded, the run inline or in the background."""
from __future__ import annotations

import hashlib
import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dossiers import outbox
from dossiers.services import require_role, sanitise_filename
from segurtrack.errors import InvalidInput
from organisations.models import Organisation

from . import importer, tasks
from .models import ImportJob
from .reading import detect_format

# Files up to this size run within the request (a few hundred rows); larger ones in the Celery worker.
INLINE_MAX_BYTES = getattr(settings, "IMPORT_INLINE_MAX_BYTES", 256 * 1024)
MAX_BYTES = getattr(settings, "IMPORT_MAX_BYTES", 100 * 1024 * 1024)


def start_import(*, organisation: Organisation, by: AbstractBaseUser, upload: UploadedFile | File | None,
                 dry_run: bool = True, background: bool | None = None) -> ImportJob:
    """Store the file and create the job; run it now when small (or `background` is False), else enqueue it."""
    require_role(by, organisation.pk)
    job = create_job(organisation=organisation, by=by, upload=upload, dry_run=dry_run, background=background)
    if not job.background:
        tasks.claim(job.pk)
        return importer.execute(job.pk)
    return job


def create_job(*, organisation: Organisation, by: AbstractBaseUser | None, upload: UploadedFile | File | None,
               dry_run: bool = True, background: bool | None = None) -> ImportJob:
    """Check and store the upload, record the job; a background job's task is enqueued with it (outbox)."""
    if upload is None:
        raise InvalidInput({"file": [_("Joignez le fichier à importer (CSV ou XLSX).")]})
    size = upload.size or 0
    if size == 0:
        raise InvalidInput({"file": [_("Le fichier est vide.")]})
    if size > MAX_BYTES:
        raise InvalidInput({"file": [_("Fichier trop volumineux : %(size)s Mo pour %(max)s Mo au plus.") % {
            "size": round(size / 1_048_576, 1), "max": round(MAX_BYTES / 1_048_576, 1)}]})
    digest = hashlib.sha256()
    head = b""
    for chunk in upload.chunks():
        if len(head) < 8:
            head += chunk[:8]
        digest.update(chunk)
    upload.seek(0)
    name = sanitise_filename(upload.name)
    fmt = detect_format(name, head)
    if background is None:
        background = size > INLINE_MAX_BYTES
    job = ImportJob(organisation=organisation, user=by, filename=name, size=size, sha256=digest.hexdigest(),
                    format=fmt, dry_run=dry_run, background=background)
    job.file.save(f"{timezone.localdate():%Y%m%d}-{uuid.uuid4().hex[:12]}.{fmt}", upload, save=False)
    try:
        with transaction.atomic():
            job.save()
            if background:
                outbox.enqueue(tasks.run_import, [job.pk])
    except Exception:
        job.file.delete(save=False)
        raise
    job.refresh_from_db()
    return job


def confirm(job: ImportJob, *, by: AbstractBaseUser, background: bool | None = None) -> ImportJob:
    """Run a dry-run job's file for real, as a new job (the dry run stays in the history as it was)."""
    require_role(by, job.organisation_id)
    with job.file.open("rb") as handle:
        # Streamed from storage to storage: the file is never held in memory whole.
        return start_import(organisation=job.organisation, by=by, upload=File(handle, name=job.filename),
                            dry_run=False, background=background)
