"""Attach the current membership to each browser request (lazily: one query, only when used)."""
from django.utils.functional import SimpleLazyObject

from .current import session_membership


class CurrentOrganisationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = SimpleLazyObject(lambda: session_membership(request))
        return self.get_response(request)
