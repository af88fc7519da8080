"""Page forms of the parties: clients (identifiers checked as typed), solutions and their PV pilotes."""
from __future__ import annotations

from django import forms
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from .forms import BLANK, ServiceErrorsMixin, _date_widget
from .models import Client, Dispositif, PvPilote, Solution

IDENTIFIER_FIELDS = ("finess_geo", "finess_legal", "siret")


class ClientForm(ServiceErrorsMixin, forms.ModelForm):
    class Meta:
        model = Client
        fields = ["name", "kind", "finess_geo", "finess_legal", "siret", "department", "vat_liable",
                  "ans_contract_signed_on", "cpe_cards", "software_certificates"]
        widgets = {"ans_contract_signed_on": _date_widget()}
        help_texts = {
            "finess_geo": _("9 caractères ; le FINESS géographique ou le SIRET identifie le site."),
            "siret": _("14 chiffres."),
            "department": _("01 à 95, 2A, 2B, 971 à 976."),
        }

    def __init__(self, *args, check_url: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("department", "kind", "cpe_cards", "software_certificates"):
            self.fields[name].choices = BLANK + list(self.fields[name].choices)[1:]
        for name in IDENTIFIER_FIELDS:
            attrs = self.fields[name].widget.attrs
            # Spaces and dots are accepted and compacted, so allow a few more characters than the number has.
            attrs["maxlength"] = 20
            attrs["autocomplete"] = "off"
            if check_url:
                # As-you-type check: the endpoint answers with the field's message, shown under it.
                attrs.update({
                    "hx-get": check_url, "hx-trigger": "input changed delay:400ms, blur",
                    "hx-target": f"#{name}-check", "hx-swap": "innerHTML",
                })
            field = self.fields[name]
            field.max_length = 20
            field.validators = [v for v in field.validators if not isinstance(v, MaxLengthValidator)]
            field.validators.append(MaxLengthValidator(20))


class SolutionForm(ServiceErrorsMixin, forms.ModelForm):
    class Meta:
        model = Solution
        fields = ["name", "version", "dispositif", "proofs_submitted_on", "referenced_on"]
        widgets = {"proofs_submitted_on": _date_widget(), "referenced_on": _date_widget()}
        help_texts = {"referenced_on": _("Date de la décision de référencement de l'ANS ; vide si pas encore référencée.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dispositif"].queryset = Dispositif.objects.order_by("code")


class PvPiloteForm(ServiceErrorsMixin, forms.Form):
    signed_on = forms.DateField(label=_("Signé le"), widget=_date_widget())
    status = forms.ChoiceField(label=_("Statut"), choices=PvPilote.Status.choices, initial=PvPilote.Status.PENDING)
    file = forms.FileField(label=_("PV pilote (PDF)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["accept"] = ".pdf,application/pdf"
