"""API v1 routes of webhooks (mounted under /api/v1/ before the dossier API's catch-all)."""
from django.urls import path

from . import api

urlpatterns = [
    path("webhooks/", api.EndpointList.as_view(), name="webhook-list"),
    path("webhooks/<int:webhook_id>/", api.EndpointDetail.as_view(), name="webhook-detail"),
    path("webhooks/<int:webhook_id>/rotate-secret/", api.EndpointRotateSecret.as_view(), name="webhook-rotate-secret"),
    path("webhooks/<int:webhook_id>/deliveries/", api.DeliveryList.as_view(), name="webhook-delivery-list"),
    path("webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/redeliver/", api.DeliveryRedeliver.as_view(),
         name="webhook-redeliver"),
]
