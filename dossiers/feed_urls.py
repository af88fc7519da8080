"""The calendar feed: a public route (the secret key in the URL is the credential), apart from the member pages."""
from django.urls import path

from .views import calendar as calendar_views

urlpatterns = [
    path("agenda/<str:key>.ics", calendar_views.calendar_feed, name="calendar-feed"),
]
