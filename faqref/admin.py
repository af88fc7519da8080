"""Staff admin for the FAQ reference, built for curation.

Entries are listed weakest first (highest share of "not useful" votes) so curators fix those first; the
answer text comes from the imports and stays read-only, while the question is theirs to write. Rule links are
curated by pinning an entry to a rule (it comes first) or removing a wrong one (hidden for good); both survive
re-imports, which only replace automatic links.
"""
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.db.models import F
from django.utils.translation import gettext_lazy as _, ngettext

from .links import TOPICS
from .models import Entry, Revision, RuleLink, Source, Vote
from .votes import entries_by_no_share


def rule_choices():
    return [(code, code) for code in sorted(TOPICS)]


class RuleLinkForm(forms.ModelForm):
    rule = forms.ChoiceField(label=_("règle"), choices=rule_choices)

    class Meta:
        model = RuleLink
        fields = ["rule", "entry", "origin", "rank"]


class RuleLinkInline(admin.TabularInline):
    model = RuleLink
    form = RuleLinkForm
    fields = ("rule", "origin", "rank")
    extra = 0
    verbose_name = _("lien vers une règle")
    verbose_name_plural = _("règles qui citent cette réponse")


class RevisionInline(admin.TabularInline):
    model = Revision
    fields = ("number", "text", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class WeakestFirstChangeList(ChangeList):
    """Unless a column is sorted: highest share of "no" first, then most "no"; entries nobody voted on last."""

    def get_ordering(self, request, queryset):
        if ORDER_VAR in self.params:
            return super().get_ordering(request, queryset)
        return [F("no_share").desc(nulls_last=True), "-no", "id"]


@admin.register(Entry)
class EntryAdmin(admin.ModelAdmin):
    list_display = ("__str__", "slug", "yes", "no", "no_share_percent", "updated_at")
    search_fields = ("slug", "question", "derived_title", "text")
    fields = ("slug", "question", "derived_title", "text", "facets", "fingerprint", "created_at", "updated_at")
    readonly_fields = ("slug", "derived_title", "text", "facets", "fingerprint", "created_at", "updated_at")
    inlines = [RuleLinkInline, RevisionInline]

    def get_queryset(self, request):
        return entries_by_no_share()

    def get_changelist(self, request, **kwargs):
        return WeakestFirstChangeList

    @admin.display(description=_("oui"), ordering="yes")
    def yes(self, entry):
        return entry.yes

    @admin.display(description=_("non"), ordering="no")
    def no(self, entry):
        return entry.no

    @admin.display(description=_("part de « non »"), ordering="no_share")
    def no_share_percent(self, entry):
        return "—" if entry.no_share is None else f"{entry.no_share:.0%}"


@admin.register(RuleLink)
class RuleLinkAdmin(admin.ModelAdmin):
    form = RuleLinkForm
    list_display = ("rule", "entry", "origin", "rank")
    list_filter = ("origin", "rule")
    list_select_related = ("entry",)
    search_fields = ("rule", "entry__slug", "entry__question", "entry__derived_title")
    raw_id_fields = ("entry",)
    actions = ["pin", "remove", "restore"]

    def _set_origin(self, request, queryset, origin, done):
        count = queryset.update(origin=origin)
        self.message_user(request, done % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Épingler : cette réponse passe en premier pour la règle"))
    def pin(self, request, queryset):
        self._set_origin(request, queryset, RuleLink.Origin.PINNED, ngettext(
            "%(count)d lien épinglé.", "%(count)d liens épinglés.", queryset.count()))

    @admin.action(description=_("Retirer : ne plus jamais proposer cette réponse pour la règle"))
    def remove(self, request, queryset):
        self._set_origin(request, queryset, RuleLink.Origin.REMOVED, ngettext(
            "%(count)d lien retiré.", "%(count)d liens retirés.", queryset.count()))

    @admin.action(description=_("Rendre automatique : le prochain import en décidera"))
    def restore(self, request, queryset):
        self._set_origin(request, queryset, RuleLink.Origin.AUTO, ngettext(
            "%(count)d lien rendu automatique.", "%(count)d liens rendus automatiques.", queryset.count()))


@admin.register(Revision)
class RevisionAdmin(admin.ModelAdmin):
    list_display = ("entry", "number", "created_at")
    list_select_related = ("entry",)
    search_fields = ("entry__slug",)
    readonly_fields = ("entry", "number", "text", "fingerprint", "created_at")


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ("file", "position", "line", "entry")
    list_select_related = ("entry",)
    search_fields = ("file", "entry__slug")
    readonly_fields = ("entry", "revision", "file", "position", "line", "facets")


@admin.register(Vote)
class VoteAdmin(admin.ModelAdmin):
    list_display = ("entry", "user", "useful", "at")
    list_filter = ("useful",)
    list_select_related = ("entry", "user")
    raw_id_fields = ("entry", "user")
