"""Page forms of corrections: a step's recorded data (its payload's fields, pre-filled), a replacement file, and
the confirmation of a withdrawal or of deleting the solde draft. They carry what was typed; the service validates."""
from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .forms import PayloadForm, ServiceErrorsMixin
from .models import TRANSITION_LABELS
from .payloads import fields_of
from .services import STEP_FIELDS


class CorrectionForm(ServiceErrorsMixin, PayloadForm):
    """The fields a step recorded and a correction may change, rendered as the step's own form."""

    def __init__(self, step: str, *args, **kwargs):
        self.exclude = tuple(name for name in fields_of(step) if name not in STEP_FIELDS[step])
        kwargs.setdefault("prefix", "correction")
        super().__init__(step, *args, **kwargs)

    @property
    def label(self):
        return _("Corriger « %(step)s »") % {"step": TRANSITION_LABELS.get(self.transition, self.transition)}

    def payload(self) -> dict[str, Any]:
        # A field emptied is a value to check (a required one is refused), not one left as it was.
        data = super().payload()
        for name in self.payload_fields:
            data.setdefault(name, None)
        return data


class ReplaceDocumentForm(ServiceErrorsMixin, forms.Form):
    file = forms.FileField(label=_("Nouveau fichier"), help_text=_("PDF pour les documents signés."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["accept"] = ".pdf,application/pdf"


class ConfirmForm(ServiceErrorsMixin, forms.Form):
    """A confirmation (withdrawing a document, deleting the solde draft): the page's button sends it, so a bare POST
    deletes nothing; a refusal is shown as the form's error."""

    confirm = forms.BooleanField(label=_("Confirmation"), widget=forms.HiddenInput, initial=True, error_messages={
        "required": _("Confirmez depuis la page de confirmation.")})
