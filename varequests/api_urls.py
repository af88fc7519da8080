"""API v1 routes of this app (mounted under /api/v1/ before the dossier API's catch-all)."""
urlpatterns: list = []
