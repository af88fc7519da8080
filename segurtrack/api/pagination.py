"""List pagination: {count, next, previous, results}; a malformed `page` or `page_size` is a 400, not ignored."""
from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request


def positive_integer(request: Request, name: str, *, also: tuple[str, ...] = ()) -> int | str | None:
    """The query parameter as a positive integer (or one of `also`), None when absent; else a 400."""
    value = request.query_params.get(name)
    if value is None or value in also:
        return value
    if not value.isdigit() or int(value) < 1:
        raise ValidationError({name: [_("Un entier positif est attendu.")]})
    return int(value)


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request: Request) -> int:
        size = positive_integer(request, self.page_size_query_param)
        return self.page_size if size is None else min(size, self.max_page_size)

    def get_page_number(self, request: Request, paginator) -> int:
        # A well-formed number past the last page stays DRF's 404.
        number = positive_integer(request, self.page_query_param, also=self.last_page_strings)
        if number in self.last_page_strings:
            return paginator.num_pages
        return 1 if number is None else number

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
        return parameters

