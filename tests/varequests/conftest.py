"""VA request fixtures: a real SMTP server on a free loopback port, deployed dossiers, links and uploads."""
from __future__ import annotations

import re
import socket
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller

from dossiers.models import State
from varequests import services
from varequests.models import VaRequest

from ..factories import EsmsClientFactory, walk_to
from ..pages.conftest import as_manager, as_outsider, as_viewer  # noqa: F401 (signed-in page clients)


class Inbox:
    """The SMTP server's handler: every message it accepts, parsed."""

    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        with self.arrived:
            self.messages.append(message)
            self.arrived.notify_all()
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in m["X-Envelope-To"]]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.messages) >= count, timeout=timeout)
        assert len(self.messages) >= count, f"{len(self.messages)} message(s) received, {count} expected"
        return self.messages


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    """aiosmtpd on a free loopback port, with Django's SMTP backend pointed at it."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    inbox.port = controller.port
    yield inbox
    controller.stop()


def parts(message: EmailMessage) -> tuple[str, str]:
    """The text and HTML bodies of a message."""
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


LINK = re.compile(r"https?://[^\s\"<>]+/va/[0-9a-f]{64}/")


def link_in(message: EmailMessage) -> str:
    text, _html = parts(message)
    return LINK.search(text).group(0)


def path_of(url: str) -> str:
    return urlsplit(url).path


@pytest.fixture
def deployed(manager_membership):
    return walk_to(State.DEPLOYED, membership=manager_membership)


@pytest.fixture
def esms_deployed(manager_membership, organisation):
    client = EsmsClientFactory(organisation=organisation, ans_contract_signed_on=None, cpe_cards="",
                               software_certificates="")
    return walk_to(State.DEPLOYED, membership=manager_membership, client=client)


@pytest.fixture
def ask(manager):
    """A VA request of a dossier through the service, and its token."""
    def make(dossier, **kwargs) -> tuple[VaRequest, str]:
        values = {"email": "jeanne.martin@clinique.example", "name": "Dr Jeanne Martin", **kwargs}
        va_request = services.request_va(dossier.pk, by=manager, **values)
        return va_request, va_request.token
    return make
