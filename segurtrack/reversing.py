"""`reverse()` of a route taking one integer, worked out once for a whole read instead of once per row."""
from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse

# No route of ours holds this number: where it lands in the reversed URL is where each row's id goes.
_MARK = 9_876_543_210_123


def url_maker(name: str) -> Callable[[int], str]:
    """`lambda pk: reverse(name, args=[pk])`, reversed once: with the script prefix and URLconf of the moment it is
    made (a request's), so make it per read, never per process."""
    url, mark = reverse(name, args=[_MARK]), str(_MARK)
    if url.count(mark) != 1:
        return lambda pk: reverse(name, args=[pk])
    head, _mark, tail = url.partition(mark)
    return lambda pk: f"{head}{pk}{tail}"
