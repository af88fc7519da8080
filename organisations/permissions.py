"""API permission: a member of an organisation; writes need the manager role (or admin where stated)."""
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


class IsOrganisationMember(permissions.BasePermission):
    """Reads for every member; writes for managers and admins (views may ask for more)."""

    write_role = Role.MANAGER

    def has_permission(self, request, view):
        if request.user is None or not request.user.is_authenticated:
            return False
        membership = request_membership(request)
        if membership is None:
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return membership.has_role(getattr(view, "write_role", self.write_role))
