"""Forms of the webhook pages (admins): an endpoint's address, events and state."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ALL_EVENTS, Event

EVENT_CHOICES = [(ALL_EVENTS, _("Tous les événements")), *Event.choices]


class EndpointForm(forms.Form):
    url = forms.URLField(label=_("Adresse de réception"), max_length=500, assume_scheme="https",
                         help_text=_("L'adresse HTTPS de votre CRM qui recevra les événements signés."))
    events = forms.MultipleChoiceField(label=_("Événements"), choices=EVENT_CHOICES,
                                       widget=forms.CheckboxSelectMultiple,
                                       error_messages={"required": _("Choisissez au moins un événement.")})
    active = forms.BooleanField(label=_("Actif"), required=False, initial=True)
