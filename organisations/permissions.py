"""API permission: a member of an organisation; writes need the manager role (or admin where stated)."""
from django.utils.translation import gettext_lazy as _
from rest_framework import permissions

from .current import session_membership
from .models import ApiToken, Role


def request_membership(request):
    """The membership an API request acts as: the token's, else the browser session's."""
    cached = getattr(request, "_segur_membership", None)
    if cached is not None:
        return cached
    if isinstance(request.auth, ApiToken):
        membership = request.auth.membership
    else:
        membership = session_membership(request._request)
    request._segur_membership = membership
    return membership


def token_allows(request, view=None) -> bool:
    """A `read` token may only read (and POST where a view declares that its POST only reads, as an export
    request does); session and `write` tokens are limited by the role alone."""
    token = request.auth
    if isinstance(token, ApiToken) and token.scope == ApiToken.Scope.READ:
        return request.method in permissions.SAFE_METHODS or getattr(view, "read_scope_posts", False)
    return True


class IsOrganisationMember(permissions.BasePermission):
    """Reads for every member; writes for managers and admins (views may ask for more)."""

    write_role = Role.MANAGER

    def has_permission(self, request, view):
        if request.user is None or not request.user.is_authenticated:
            return False
        membership = request_membership(request)
        if membership is None:
            return False
        if not token_allows(request, view):
            self.message = _("Ce jeton est en lecture seule.")
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return membership.has_role(getattr(view, "write_role", self.write_role))
