"""The project package as an application, so its system checks are registered (segurtrack/checks.py)."""
from django.apps import AppConfig


class SegurtrackConfig(AppConfig):
    name = "segurtrack"
    verbose_name = "segurtrack"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the checks)
