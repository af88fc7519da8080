"""API v1 for a user's own API tokens: `GET, POST /api/v1/tokens/`, `DELETE /api/v1/tokens/{id}/`."""
from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, generics, serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from segurtrack.api.serializers import StrictMixin
from segurtrack.api.schema import answers, page_answers

from . import tokens
from .models import ApiToken, Role
from .permissions import IsOrganisationMember, request_membership


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "scope", "expires_on", "created_at", "last_used_at"]
        read_only_fields = fields


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    key = serializers.CharField(read_only=True, help_text="Shown in this answer only.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "key"]
        read_only_fields = fields


class ApiTokenCreateSerializer(StrictMixin, serializers.Serializer):
    name = serializers.CharField(max_length=100)
    scope = serializers.ChoiceField(choices=ApiToken.Scope.choices)
    expires_on = serializers.DateField(required=False, allow_null=True, default=None)


class TokenMixin:
    permission_classes = [IsOrganisationMember]
    parser_classes = [JSONParser]
    # Every member manages their own tokens, a viewer included (a viewer's token can only read anyway).
    write_role = Role.VIEWER

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        return tokens.tokens_of(request_membership(self.request))


@extend_schema_view(get=extend_schema(summary="Mes jetons d'API", responses=page_answers(ApiTokenSerializer)))
class TokenList(TokenMixin, generics.ListAPIView):
    serializer_class = ApiTokenSerializer

    @extend_schema(summary="Créer un jeton d'API (la clé n'est montrée que dans cette réponse)",
                   request=ApiTokenCreateSerializer,
                   responses=answers({201: ApiTokenCreatedSerializer}, bad_input=True))
    def post(self, request: Request) -> Response:
        data = ApiTokenCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            token, key = tokens.issue_token(membership=request_membership(request), **data.validated_data)
        except tokens.TooManyTokens:
            raise exceptions.ValidationError({"name": [_("Vous avez atteint le nombre maximal de jetons (%(max)s).")
                                                       % {"max": tokens.MAX_TOKENS_PER_MEMBERSHIP}]})
        token.key = key
        return Response(ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)


class TokenDetail(TokenMixin, generics.GenericAPIView):
    serializer_class = ApiTokenSerializer

    @extend_schema(summary="Un de mes jetons", responses=answers({200: ApiTokenSerializer}, not_found=True))
    def get(self, request: Request, token_id: int) -> Response:
        token = self.get_queryset().filter(pk=token_id).first()
        if token is None:
            raise exceptions.NotFound()
        return Response(ApiTokenSerializer(token).data)

    @extend_schema(summary="Révoquer un de mes jetons (effet immédiat)", responses=answers({204: None}, not_found=True))
    def delete(self, request: Request, token_id: int) -> Response:
        if not tokens.revoke_token(membership=request_membership(request), token_id=token_id):
            raise exceptions.NotFound()
        return Response(status=status.HTTP_204_NO_CONTENT)
