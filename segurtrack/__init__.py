"""segurtrack: track Ségur SONS funding dossiers from the signed order to the solde."""
from .celery import app as celery_app

__all__ = ("celery_app",)
