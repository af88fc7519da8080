"""The client's address behind a configured number of trusted reverse proxies (django-ipware reads the header).

`TRUSTED_PROXY_COUNT` is how many reverse proxies stand in front of Django, each appending the address it received
the request from to `X-Forwarded-For`. With 0 (the default) the header is ignored and `REMOTE_ADDR` is the client;
with N, the client is the N-th address from the right: whatever a client writes into the header itself stays to
the left of it, so a forged header changes nothing.
"""
from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ipware.ip import get_client_ip


def client_ip(request: HttpRequest) -> str | None:
    count = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    remote = request.META.get("REMOTE_ADDR")
    if count <= 0:
        return remote
    # ipware counts the proxies listed in the header: every one of ours except the last, which is REMOTE_ADDR.
    address, _ = get_client_ip(request, proxy_order="left-most", proxy_count=count - 1, strict=False,
                               request_header_order=["HTTP_X_FORWARDED_FOR"])
    # No header, or fewer hops than our proxies add: the request did not come through them.
    return address or remote
