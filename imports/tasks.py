"""Celery task of the imports app: an id in, one run out."""
from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from . import importer
from .models import ImportJob


def claim(job_id: int) -> bool:
    """Mark the job started; False when it already was (a task delivered twice runs once)."""
    return bool(ImportJob.objects.filter(pk=job_id, started_at__isnull=True).update(started_at=timezone.now()))


@shared_task
def run_import(job_id: int) -> str:
    """Run an import job once (a message delivered twice finds it claimed and does nothing)."""
    if not claim(job_id):
        return "already started"
    job = importer.execute(job_id)
    return job.status
