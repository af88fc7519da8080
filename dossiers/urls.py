"""Pages of the dossiers app."""
from django.urls import path

from . import views

urlpatterns = [
    path("documents/<int:pk>/", views.download_document, name="document-download"),
    path("pv-pilotes/<int:pk>/", views.download_pv_pilote, name="pv-pilote-download"),
    path("", views.home, name="home"),
]
