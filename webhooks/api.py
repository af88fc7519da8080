"""API v1 for webhooks (organisation admins): endpoints, secret rotation, the delivery log and redelivery."""
from __future__ import annotations

from functools import cached_property

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, generics, serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from segurtrack import errors
from segurtrack.api.serializers import StrictMixin
from organisations.models import Role
from organisations.permissions import IsOrganisationMember, request_membership
from segurtrack.api.schema import answers, page_answers

from . import services
from .models import ALL_EVENTS, Delivery, Endpoint, Event

EVENT_CHOICES = [ALL_EVENTS, *Event.values]
DELIVERY_LOG_LIMIT = 200


class IsOrganisationAdmin(IsOrganisationMember):
    """Webhooks are the admins' business: managers and viewers get 403, reads included."""

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        return request_membership(request).has_role(Role.ADMIN)


class EndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_CHOICES))

    class Meta:
        model = Endpoint
        fields = ["id", "url", "events", "active"]
        read_only_fields = fields


class EndpointWithSecretSerializer(EndpointSerializer):
    secret = serializers.CharField(read_only=True)

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class EndpointInputSerializer(StrictMixin, serializers.Serializer):
    url = serializers.URLField(max_length=500)
    events = serializers.ListField(child=serializers.CharField(), allow_empty=False,
                                   help_text="Event types, or [\"*\"] for all of them.")
    active = serializers.BooleanField(required=False, default=True)

    def validate_events(self, events: list[str]) -> list[str]:
        # One message list under `events` (not `events.0`), the same the pages show.
        try:
            return services.clean_events(events)
        except errors.InvalidInput as refused:
            raise serializers.ValidationError(refused.errors["events"])


class SecretSerializer(serializers.Serializer):
    secret = serializers.CharField(read_only=True)


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = Delivery
        fields = ["id", "event", "status", "attempts", "last_status_code", "next_attempt_at", "created_at"]
        read_only_fields = fields


class WebhookView(generics.GenericAPIView):
    permission_classes = [IsOrganisationAdmin]
    parser_classes = [JSONParser]
    write_role = Role.ADMIN
    serializer_class = EndpointSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Endpoint.objects.none()
        return Endpoint.objects.filter(organisation_id=request_membership(self.request).organisation_id)

    @cached_property
    def endpoint(self) -> Endpoint:
        endpoint = self.get_queryset().filter(pk=self.kwargs["webhook_id"]).first()
        if endpoint is None:
            raise exceptions.NotFound()
        return endpoint


@extend_schema_view(get=extend_schema(summary="Points de réception de webhooks", responses=page_answers(EndpointSerializer)))
class EndpointList(WebhookView, generics.ListAPIView):
    @extend_schema(summary="Ajouter un point de réception (le secret n'est montré qu'ici et à la rotation)",
                   request=EndpointInputSerializer,
                   responses=answers({201: EndpointWithSecretSerializer}, bad_input=True))
    def post(self, request: Request) -> Response:
        data = EndpointInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.create_endpoint(organisation=request_membership(request).organisation, by=request.user,
                                            **data.validated_data)
        return Response(EndpointWithSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED)


class EndpointDetail(WebhookView):
    @extend_schema(summary="Un point de réception", responses=answers({200: EndpointSerializer}, not_found=True))
    def get(self, request: Request, webhook_id: int) -> Response:
        return Response(EndpointSerializer(self.endpoint).data)

    @extend_schema(summary="Modifier un point de réception", request=EndpointInputSerializer(partial=True),
                   responses=answers({200: EndpointSerializer}, bad_input=True, not_found=True))
    def patch(self, request: Request, webhook_id: int) -> Response:
        endpoint = self.endpoint
        data = EndpointInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        endpoint = services.update_endpoint(endpoint, by=request.user, changes=data.validated_data)
        return Response(EndpointSerializer(endpoint).data)

    @extend_schema(summary="Supprimer un point de réception", responses=answers({204: None}, not_found=True))
    def delete(self, request: Request, webhook_id: int) -> Response:
        services.delete_endpoint(self.endpoint, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EndpointRotateSecret(WebhookView):
    @extend_schema(summary="Remplacer le secret de signature", request=None,
                   responses=answers({200: SecretSerializer}, not_found=True))
    def post(self, request: Request, webhook_id: int) -> Response:
        return Response({"secret": services.rotate_secret(self.endpoint, by=request.user)})


class DeliveryList(WebhookView):
    pagination_class = None  # a plain list, newest first (API.md), capped at DELIVERY_LOG_LIMIT
    @extend_schema(summary="Journal des livraisons, de la plus récente à la plus ancienne",
                   responses=answers({200: DeliverySerializer(many=True)}, not_found=True))
    def get(self, request: Request, webhook_id: int) -> Response:
        deliveries = self.endpoint.deliveries.order_by("-id")[:DELIVERY_LOG_LIMIT]
        return Response(DeliverySerializer(deliveries, many=True).data)


class DeliveryRedeliver(WebhookView):
    @extend_schema(summary="Renvoyer une livraison", request=None,
                   responses=answers({202: DeliverySerializer}, bad_input=True, not_found=True))
    def post(self, request: Request, webhook_id: int, delivery_id: int) -> Response:
        delivery = self.endpoint.deliveries.filter(pk=delivery_id).first()
        if delivery is None:
            raise exceptions.NotFound()
        delivery.endpoint = self.endpoint
        delivery = services.redeliver(delivery, by=request.user)
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
