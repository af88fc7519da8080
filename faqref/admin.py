"""Staff admin for the FAQ reference: a basic registration of entries, revisions, sources, rule links and votes."""
from django.contrib import admin

from .models import Entry, Revision, RuleLink, Source, Vote


@admin.register(Entry)
class EntryAdmin(admin.ModelAdmin):
    list_display = ("slug", "question", "derived_title", "updated_at")
    search_fields = ("slug", "question", "derived_title", "text")
    readonly_fields = ("fingerprint", "created_at", "updated_at")


@admin.register(Revision)
class RevisionAdmin(admin.ModelAdmin):
    list_display = ("entry", "number", "created_at")
    list_select_related = ("entry",)
    search_fields = ("entry__slug",)
    raw_id_fields = ("entry",)


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ("file", "position", "line", "entry")
    list_select_related = ("entry",)
    search_fields = ("file", "entry__slug")
    raw_id_fields = ("entry", "revision")


@admin.register(RuleLink)
class RuleLinkAdmin(admin.ModelAdmin):
    list_display = ("rule", "entry", "origin", "rank")
    list_filter = ("origin",)
    list_select_related = ("entry",)
    search_fields = ("rule", "entry__slug")
    raw_id_fields = ("entry",)


@admin.register(Vote)
class VoteAdmin(admin.ModelAdmin):
    list_display = ("entry", "user", "useful", "at")
    list_filter = ("useful",)
    list_select_related = ("entry", "user")
    raw_id_fields = ("entry", "user")
