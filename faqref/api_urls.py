"""FAQ API routes (mounted at /api/v1/faq/)."""
from django.urls import path

from . import api

urlpatterns = [
    path("", api.EntryList.as_view(), name="faq-list"),
    path("<int:pk>/", api.EntryDetail.as_view(), name="faq-detail"),
    path("<int:pk>/vote/", api.EntryVote.as_view(), name="faq-vote"),
]
