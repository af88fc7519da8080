"""App configuration: listen to the dossiers' history (in its transaction) and to the daily deadline run."""
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        from dossiers import events

        from . import services

        events.on_history_appended(services.record_history)
        events.on_deadline_day(services.announce_due_deadlines)
