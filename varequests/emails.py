"""The signatory's e-mails (French, text and HTML): the request, then the reminders of day 7 and day 14."""
from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import VaEmail, VaRequest


def link_of(va_request: VaRequest) -> str:
    """The signatory's page, absolute (SITE_URL: e-mails leave from a worker, with no request at hand)."""
    return f"{settings.SITE_URL}{reverse('varequests:sign', args=[va_request.token])}"


def build(va_request: VaRequest, kind: str) -> EmailMultiAlternatives:
    dossier = va_request.dossier
    context = {
        "va_request": va_request, "dossier": dossier, "client": dossier.client, "solution": dossier.solution,
        "dispositif": dossier.dispositif, "vendor": va_request.organisation, "link": link_of(va_request),
        "expires_on": timezone.localtime(va_request.expires_at).date(),
        "reminder": kind != VaEmail.Kind.REQUEST,
    }
    subject = (_("Rappel : VA à signer pour %(client)s — %(vendor)s") if context["reminder"] else
               _("VA à signer pour %(client)s — %(vendor)s")) % {
        "client": dossier.client.name, "vendor": va_request.organisation.name}
    message = EmailMultiAlternatives(subject=subject, body=render_to_string("varequests/email/request.txt", context),
                                     to=[va_request.email])
    message.attach_alternative(render_to_string("varequests/email/request.html", context), "text/html")
    return message
