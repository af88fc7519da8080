"""A URL that fails, for the error-reporting test (tests/deployment/test_error_reporting.py)."""
from django.urls import path


def boom(request):
    raise RuntimeError("boom-for-error-reporting")


urlpatterns = [path("boom/", boom)]
