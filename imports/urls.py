"""Pages of this app (mounted at /imports/)."""
from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/statut/", views.status, name="status"),
    path("<int:pk>/confirmer/", views.confirm, name="confirm"),
    path("<int:pk>/rapport/", views.error_report, name="report"),
]
