"""Staff admin for organisations, their members, invitations and API tokens (shown by prefix, never by digest).

Membership changes made here go through `organisations.services` like the pages' (the last admin stays); a user
that staff create here gets an initial password, which its first sign-in asks to change.
"""
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from segurtrack.admin import ReadOnlyAdmin

from . import services
from .models import ApiToken, Invitation, Membership, Organisation


class MembershipInline(admin.TabularInline):
    """Read-only here: members are changed on the membership's own admin page (through the services)."""

    model = Membership
    extra = 0
    fields = ("user", "role", "created_at")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

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
    actions = None

    def get_readonly_fields(self, request, obj=None):
        return ("user", "organisation") if obj is not None else ()

    def save_model(self, request, obj, form, change):
        try:
            if change:
                services.change_role(membership_id=obj.pk, organisation=obj.organisation, role=obj.role)
            else:
                saved = services.grant_membership(user=obj.user, organisation=obj.organisation, role=obj.role)
                obj.pk = saved.pk
        except services.MembershipError as refused:
            obj.refresh_from_db()
            self.message_user(request, str(refused), messages.ERROR)

    def delete_model(self, request, obj):
        try:
            services.remove_member(membership_id=obj.pk, organisation=obj.organisation)
        except services.MembershipError as refused:
            self.message_user(request, str(refused), messages.ERROR)


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    """Staff may look at invitations (never their link: only its digest is stored) and not forge one."""

    deletable = True
    list_display = ("email", "organisation", "role", "created_at", "expires_at", "accepted_at", "revoked_at")
    list_filter = ("organisation",)
    list_select_related = ("organisation",)
    search_fields = ("email", "organisation__name")
    exclude = ("digest",)


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class SegurUserAdmin(UserAdmin):
    """A user created by staff has a password someone else chose: the first sign-in asks to change it."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            services.require_password_change(obj)


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """Tokens are issued to their user (the key is shown once); staff may look at them and revoke them.

    Only the prefix is shown: the digest is never rendered, listed or searchable. Deleting a token revokes it.
    """

    list_display = ("prefix_display", "name", "scope", "membership", "expires_on", "created_at", "last_used_at")
    list_select_related = ("membership__user", "membership__organisation")
    list_filter = ("scope", "membership__organisation")
    search_fields = ("prefix", "membership__user__username", "membership__organisation__name")
    deletable = True   # deleting a token revokes it
    fields = ("prefix_display", "name", "scope", "membership", "expires_on", "created_at", "last_used_at")
    readonly_fields = fields

    @admin.display(description=_("préfixe"), ordering="prefix")
    def prefix_display(self, obj: ApiToken) -> str:
        return f"{obj.prefix}…"
