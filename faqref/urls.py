"""FAQ pages."""
from django.urls import path

from . import views

app_name = "faqref"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.entry, name="entry"),
]
