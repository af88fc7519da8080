"""Celery task of the imports app: an id in, one run out."""
from __future__ import annotations

from celery import shared_task

from . import importer
from .services import claim


@shared_task
def run_import(job_id: int) -> str:
    """Run an import job once (a message delivered twice finds it claimed and does nothing)."""
    if not claim(job_id):
        return "already started"
    job = importer.execute(job_id)
    return job.status
