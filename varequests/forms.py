"""Forms of VA requests: the manager's request on the dossier page, the signatory's upload on their page."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from dossiers.forms import ServiceErrorsMixin
from dossiers.models import Client

from .services import MESSAGE_MAX, NAME_MAX


class VaRequestForm(ServiceErrorsMixin, forms.Form):
    """The shape only; the service checks the values (its InvalidInput errors come back on the fields)."""

    name = forms.CharField(label=_("Nom du signataire"), max_length=NAME_MAX)
    email = forms.EmailField(label=_("E-mail du signataire"))
    message = forms.CharField(label=_("Message (facultatif)"), required=False, max_length=MESSAGE_MAX,
                              widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "va")
        super().__init__(*args, **kwargs)


PREREQUISITE_CHOICES = [("", "—"), *Client.Prerequisite.choices]


class SignedVaForm(ServiceErrorsMixin, forms.Form):
    file = forms.FileField(label=_("VA signée (PDF)"), help_text=_("Le document signé, au format PDF (20 Mo au plus)."),
                           error_messages={"required": _("Choisissez le fichier PDF de la VA signée."),
                                           "empty": _("Le fichier est vide.")})

    def __init__(self, *args, esms: bool = False, client: Client | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs.update({"accept": ".pdf,application/pdf"})
        self.esms = esms
        if esms:
            self.fields["ans_contract_signed_on"] = forms.DateField(
                label=_("Date de signature du contrat avec l'ANS"), input_formats=["%Y-%m-%d", "%d/%m/%Y"],
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                error_messages={"required": _("Indiquez la date de signature du contrat avec l'ANS."),
                                "invalid": _("Saisissez une date valide (JJ/MM/AAAA).")})
            self.fields["cpe_cards"] = forms.ChoiceField(
                label=_("Cartes CPE"), choices=PREREQUISITE_CHOICES,
                error_messages={"required": _("Indiquez si les cartes CPE sont commandées ou non nécessaires.")})
            self.fields["software_certificates"] = forms.ChoiceField(
                label=_("Certificats logiciels"), choices=PREREQUISITE_CHOICES,
                error_messages={"required": _("Indiquez si les certificats logiciels sont commandés ou non "
                                              "nécessaires.")})
            if client is not None and not self.is_bound:
                self.initial.update({"ans_contract_signed_on": client.ans_contract_signed_on,
                                     "cpe_cards": client.cpe_cards,
                                     "software_certificates": client.software_certificates})

    def prerequisites(self) -> dict | None:
        if not self.esms:
            return None
        return {name: self.cleaned_data[name] for name in ("ans_contract_signed_on", "cpe_cards",
                                                           "software_certificates")}
