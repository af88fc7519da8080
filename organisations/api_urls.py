"""API v1 routes of organisations (API tokens), mounted under /api/v1/."""
urlpatterns: list = []
