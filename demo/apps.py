"""App configuration: demo data and benchmark data sets (tooling, outside the lifecycle)."""
from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "demo"
    verbose_name = "Demo data and benchmark data sets"
