"""The reports app's writes: export jobs asked for from the pages and the API (views never write models)."""
from __future__ import annotations

from typing import Any

from django.db import transaction

from dossiers import outbox

from . import tasks
from .models import ExportJob


def request_export(*, organisation_id: int, user: Any, validated: dict[str, Any]) -> ExportJob:
    """A queued export job and its task message, in one transaction (`validated`: the checked request, its kind,
    format and filters); the task writes the file in the background."""
    params = {k: v for k, v in validated.items() if k not in ("kind", "format") and v not in (None, "")}
    with transaction.atomic():
        job = ExportJob.objects.create(organisation_id=organisation_id, user=user, kind=validated["kind"],
                                       format=validated["format"], params=params)
        outbox.enqueue(tasks.run_export, [job.pk])
    job.refresh_from_db()
    return job
