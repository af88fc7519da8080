"""Where a webhook may be sent: http(s) only, and under production settings never to a private or loopback address."""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


class TargetRefused(ValueError):
    """The URL may not receive webhooks; the message (French) says why."""


def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise TargetRefused(_("Le nom d'hôte « %(host)s » ne se résout pas.") % {"host": host})
    return [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def check_target(url: str) -> None:
    """Raise TargetRefused unless `url` may receive webhooks now (resolved again before every send)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused(_("L'adresse doit commencer par https:// (ou http://) et nommer un hôte."))
    if parts.username or parts.password:
        raise TargetRefused(_("L'adresse ne doit pas contenir d'identifiants."))
    if settings.WEBHOOK_ALLOW_PRIVATE:
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TargetRefused(_("Le port de l'adresse est invalide."))
    # Every address the name resolves to must be public: one private answer is enough to reach the inside.
    if not all(_public(address) for address in _addresses(parts.hostname, port)):
        raise TargetRefused(_("Les adresses privées, locales ou de bouclage ne peuvent pas recevoir de webhooks."))
