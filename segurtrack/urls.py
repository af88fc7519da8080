"""Root URLs: the pages, the API under /api/v1/, the admin."""
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/faq/", include("faqref.api_urls")),
    path("api/v1/", include("dossiers.api.report_urls")),
    path("api/v1/", include("dossiers.api.urls")),
    path("faq/", include("faqref.urls")),
    path("", include("dossiers.urls")),
]
