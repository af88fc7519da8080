"""API v1 routes of organisations (API tokens), mounted under /api/v1/."""
from django.urls import path

from . import tokens_api

urlpatterns = [
    path("tokens/", tokens_api.TokenList.as_view(), name="token-list"),
    path("tokens/<int:token_id>/", tokens_api.TokenDetail.as_view(), name="token-detail"),
]
