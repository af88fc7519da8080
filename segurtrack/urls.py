"""Root URLs: the pages, the API under /api/v1/, the admin."""
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from segurtrack.health import HealthView

admin.site.site_header = _("Administration de segurtrack")
admin.site.site_title = _("segurtrack")
admin.site.index_title = _("Données des dossiers Ségur")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/faq/", include("faqref.api_urls")),
    path("api/v1/", include("organisations.api_urls")),
    path("api/v1/", include("imports.api_urls")),
    path("api/v1/", include("webhooks.api_urls")),
    path("api/v1/", include("varequests.api_urls")),
    path("api/v1/", include("reports.api_urls")),
    path("api/v1/", include("dossiers.api.urls")),
    path("faq/", include("faqref.urls")),
    path("va/", include("varequests.urls")),
    path("imports/", include("imports.urls")),
    path("webhooks/", include("webhooks.urls")),
    path("", include("organisations.urls")),
    path("", include("dossiers.urls")),
    path("", include("reports.urls")),
]
# Load balancers and operators: public, JSON, 503 naming the part that is down (segurtrack/health.py).
urlpatterns.append(path("health/", HealthView.as_view(), name="health"))
