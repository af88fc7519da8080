"""FAQ pages."""
from django.urls import path

from . import views

app_name = "faqref"
urlpatterns = [
    path("<int:pk>/", views.entry, name="entry"),
]
