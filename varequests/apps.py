from django.apps import AppConfig


class VaRequestsConfig(AppConfig):
    name = "varequests"
