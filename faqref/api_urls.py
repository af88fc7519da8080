"""FAQ API routes (mounted at /api/v1/faq/)."""
urlpatterns: list = []
