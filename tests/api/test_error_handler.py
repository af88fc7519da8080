"""segurtrack.api.errors: the generic errors in the contract's shapes, an app's own error only once registered."""
import pytest
from rest_framework import status

from dossiers.services import RulesFailed
from segurtrack.api import errors as api_errors
from segurtrack.errors import InvalidInput, NotPermitted, ServiceError


class Refusal(ServiceError):
    """An app's own service error, unknown to the handler until the app registers it."""


def test_the_generic_service_errors_get_their_status_and_shape():
    invalid = api_errors.exception_handler(InvalidInput({"amount": ["Trop grand."]}), {})
    assert (invalid.status_code, invalid.data) == (400, {"errors": {"amount": ["Trop grand."]}})
    assert api_errors.exception_handler(NotPermitted("Lecteur."), {}).status_code == 403


def test_an_unregistered_error_is_left_to_django_and_a_registered_one_gets_its_answer(monkeypatch):
    monkeypatch.setattr(api_errors, "_REGISTERED", dict(api_errors._REGISTERED))
    assert api_errors.exception_handler(Refusal("non"), {}) is None   # a 500, as any unexpected error
    api_errors.register_error(Refusal, status.HTTP_409_CONFLICT, lambda error: {"errors": [str(error)]})
    answer = api_errors.exception_handler(Refusal("non"), {})
    assert (answer.status_code, answer.data) == (409, {"errors": ["non"]})


@pytest.mark.django_db
def test_dossiers_registers_the_rules_409_from_its_app_config():
    assert RulesFailed in api_errors._REGISTERED
    answer = api_errors.exception_handler(RulesFailed([]), {})
    assert (answer.status_code, answer.data) == (409, {"errors": [], "warnings": []})
