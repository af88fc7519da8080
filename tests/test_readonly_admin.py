"""segurtrack.admin.ReadOnlyAdmin, the one read-only admin every app uses: look, never add or change; delete
only where the model says support may clear its rows."""
import pytest
from django.contrib import admin
from django.test import RequestFactory

from dossiers.models import HistoryEntry, OutboxMessage
from organisations.models import ApiToken
from segurtrack.admin import ReadOnlyAdmin
from webhooks.models import Delivery

from .factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_request():
    request = RequestFactory().get("/admin/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    return request


@pytest.mark.parametrize("model, deletable", [
    (HistoryEntry, False), (OutboxMessage, True), (ApiToken, True), (Delivery, True),
])
def test_a_read_only_admin_never_adds_or_changes_and_deletes_only_what_may_be_cleared(staff_request, model, deletable):
    model_admin = admin.site._registry[model]
    assert isinstance(model_admin, ReadOnlyAdmin)
    assert model_admin.has_view_permission(staff_request)
    assert not model_admin.has_add_permission(staff_request)
    assert not model_admin.has_change_permission(staff_request)
    assert model_admin.has_delete_permission(staff_request) is deletable


def test_deletable_still_needs_the_users_permission():
    request = RequestFactory().get("/admin/")
    request.user = UserFactory(is_staff=True)
    assert not admin.site._registry[ApiToken].has_delete_permission(request)
