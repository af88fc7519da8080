"""Staff admin for organisations, their members and their API tokens (shown by prefix, never by digest)."""
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import ApiToken, Membership, Organisation


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("user",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "pending_va_days", "created_at")
    search_fields = ("name",)
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organisation", "role", "created_at")
    list_filter = ("role", "organisation")
    list_select_related = ("user", "organisation")
    search_fields = ("user__username", "user__email", "organisation__name")
    autocomplete_fields = ("user", "organisation")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued to their user (the key is shown once); staff may look at them and revoke them.

    Only the prefix is shown: the digest is never rendered, listed or searchable. Deleting a token revokes it.
    """

    list_display = ("prefix_display", "name", "scope", "membership", "expires_on", "created_at", "last_used_at")
    list_select_related = ("membership__user", "membership__organisation")
    list_filter = ("scope", "membership__organisation")
    search_fields = ("prefix", "membership__user__username", "membership__organisation__name")
    fields = ("prefix_display", "name", "scope", "membership", "expires_on", "created_at", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("préfixe"), ordering="prefix")
    def prefix_display(self, obj: ApiToken) -> str:
        return f"{obj.prefix}…"
