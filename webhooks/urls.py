"""Pages of webhooks (mounted at /webhooks/)."""
from django.urls import path

from . import views

app_name = "webhooks"

urlpatterns = [
    path("", views.endpoints, name="endpoints"),
    path("<int:pk>/", views.endpoint_detail, name="endpoint"),
    path("<int:pk>/delete/", views.endpoint_delete, name="endpoint-delete"),
    path("<int:pk>/rotate-secret/", views.endpoint_rotate, name="endpoint-rotate"),
    path("<int:pk>/deliveries/<int:delivery_pk>/redeliver/", views.redeliver, name="redeliver"),
]
