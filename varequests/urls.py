"""Pages of this app, under /va/: the manager's forms first, then the signatory's page by token."""
from django.urls import path

from . import views

app_name = "varequests"

urlpatterns = [
    path("dossiers/<int:pk>/demandes/", views.request_create, name="request-create"),
    path("demandes/<int:pk>/revoquer/", views.request_revoke, name="request-revoke"),
    path("<str:token>/", views.sign, name="sign"),
    path("<str:token>/va-a-signer/", views.draft_download, name="draft-download"),
]
