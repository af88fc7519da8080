"""FAQ API: search the entries, read one with its revisions and rules, vote on its usefulness."""
from __future__ import annotations

from collections.abc import Callable

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from organisations.models import Role
from organisations.permissions import request_membership
from segurtrack.api.pagination import Pagination
from segurtrack.api.schema import UNSUPPORTED_MEDIA, answers, page_answers
from segurtrack.reversing import url_maker

from .models import Entry
from .queries import entries_for_detail, linked_rules, revisions_with_changes, sources_of
from .search import excerpt, search
from .votes import cast_vote, vote_summary


class SearchParamsSerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    couloir = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")
    dispositif = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")
    theme = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


class EntryListSerializer(serializers.ModelSerializer):
    title = serializers.CharField(read_only=True)
    excerpt = serializers.SerializerMethodField(help_text="HTML: the text escaped, the query's matches in <mark>.")
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Entry
        fields = ["id", "title", "excerpt", "facets", "url"]

    def get_excerpt(self, entry: Entry) -> str:
        return str(excerpt(entry, self.context.get("q", "")))


class RevisionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    text = serializers.CharField()
    created_at = serializers.DateTimeField()
    changes = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text='Word diff against the previous revision, [["equal"|"insert"|"delete", text], …]; '
                  "empty for the first.",
    )


class SourceSerializer(serializers.Serializer):
    file = serializers.CharField()
    position = serializers.IntegerField(help_text="0-based rank of the answer in the export")
    line = serializers.IntegerField()
    revision = serializers.IntegerField(help_text="number of the revision the export holds")


class VoteSummarySerializer(serializers.Serializer):
    yes = serializers.IntegerField()
    no = serializers.IntegerField()
    mine = serializers.BooleanField(allow_null=True, help_text="the user's own answer, null before voting")


class EntryDetailSerializer(serializers.ModelSerializer):
    title = serializers.CharField(read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)
    revisions = serializers.SerializerMethodField()
    rules = serializers.SerializerMethodField(help_text="codes of the rules this entry is guidance for")
    sources = serializers.SerializerMethodField()
    votes = serializers.SerializerMethodField()

    class Meta:
        model = Entry
        fields = ["id", "slug", "title", "question", "text", "blocks", "facets", "url", "revisions", "rules",
                  "sources", "votes", "created_at", "updated_at"]

    @extend_schema_field(RevisionSerializer(many=True))
    def get_revisions(self, entry: Entry) -> list[dict]:
        return revisions_with_changes(entry)

    def get_rules(self, entry: Entry) -> list[str]:
        return linked_rules(entry)

    @extend_schema_field(SourceSerializer(many=True))
    def get_sources(self, entry: Entry) -> list[dict]:
        return sources_of(entry)

    @extend_schema_field(VoteSummarySerializer)
    def get_votes(self, entry: Entry) -> dict:
        request = self.context["request"]
        return vote_summary(entry, request.user, request_membership(request).organisation_id)


class VoteSerializer(serializers.Serializer):
    useful = serializers.BooleanField()


class FirstPage:
    """A search's first page, already read, as Django's paginator sees it: when it holds fewer matches than a page
    it holds them all, and its length is the count (no COUNT query); else the search is counted."""

    def __init__(self, queryset: QuerySet, rows: list, page_size: int):
        self.queryset, self.rows, self.page_size = queryset, rows, page_size

    def count(self) -> int:
        return len(self.rows) if len(self.rows) < self.page_size else self.queryset.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list:
        return self.rows[index]  # the paginator asks this page only: [0:page size or count]


class SearchPagination(Pagination):
    """The API's pagination; the first page (what nearly every search asks) is read before it is counted, so that a
    search finding fewer matches than a page is one query, not two."""

    def paginate_queryset(self, queryset, request: Request, view=None) -> list | None:
        if request.query_params.get(self.page_query_param, "1") == "1":
            page_size = self.get_page_size(request)
            queryset = FirstPage(queryset, list(queryset[:page_size]), page_size)
        return super().paginate_queryset(queryset, request, view)


def list_item(entry: Entry, q: str, url: Callable[[int], str]) -> dict:
    """What `EntryListSerializer` writes of an entry, without its per-field calls (tests/faqref/test_api.py holds
    them equal)."""
    return {"id": entry.pk, "title": entry.title, "excerpt": str(excerpt(entry, q)), "facets": entry.facets,
            "url": url(entry.pk)}


@extend_schema(parameters=[SearchParamsSerializer], responses=page_answers(EntryListSerializer))
class EntryList(generics.ListAPIView):
    """FAQ entries matching `q` (any of its words, French stems, accents ignored) and the facets given, best
    match first; without `q`, every entry of the facets."""

    serializer_class = EntryListSerializer
    pagination_class = SearchPagination
    filter_backends: list = []

    def list(self, request: Request, *args, **kwargs) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        q, url = self.get_params()["q"], url_maker("faqref:entry")
        return self.get_paginated_response([list_item(entry, q, url) for entry in page])

    def get_params(self) -> dict:
        if not hasattr(self, "_params"):
            params = SearchParamsSerializer(data=self.request.query_params)
            params.is_valid(raise_exception=True)
            self._params = params.validated_data
        return self._params

    def get_queryset(self):
        return search(**self.get_params())

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "q": self.get_params()["q"]}


@extend_schema(responses=answers({200: EntryDetailSerializer}, not_found=True))
class EntryDetail(generics.RetrieveAPIView):
    """One entry: its text and blocks, revisions with their word diffs, sources, linked rule codes, votes."""

    serializer_class = EntryDetailSerializer
    queryset = entries_for_detail()


class EntryVote(APIView):
    """Answer "Cette réponse vous a-t-elle été utile ?" for this entry; voting again changes the answer."""

    # Any member may vote, readers included: it records an opinion, not an action on a dossier.
    write_role = Role.VIEWER

    @extend_schema(request=VoteSerializer, responses=answers({200: VoteSummarySerializer}, bad_input=True,
                                                             not_found=True, status_415=UNSUPPORTED_MEDIA))
    def post(self, request, pk: int):
        entry = get_object_or_404(Entry.objects.only("id"), pk=pk)
        data = VoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        organisation_id = request_membership(request).organisation_id
        cast_vote(entry_id=entry.pk, user=request.user, organisation_id=organisation_id,
                  useful=data.validated_data["useful"])
        return Response(vote_summary(entry, request.user, organisation_id))
