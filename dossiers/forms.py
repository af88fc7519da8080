"""Page forms. Transition forms are generated from `payloads.PAYLOADS`, so each payload is defined once.

The generated forms only render and carry what the user typed: the service validates (InvalidInput gives
the field errors, RulesFailed the refused rules), and the view puts its errors back on the form.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.forms.utils import ErrorDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from segurtrack.errors import InvalidInput
from segurtrack.quick_forms import QuickRendering

from .models import Amendment, Client, DeclaredFiness, Dispositif, DocumentKind, Dossier, MssDeployment, SignatureType, Solution
from .models import TRANSITION_BUTTONS
from .services.common import RulesFailed
from .payloads import FieldSpec, fields_of

# Payload fields the serializer takes as text but whose values have a known list: offered as a select. An
# unlisted value still reaches the rules (bdc.signature_type, va.mss_deployment) through the API.
SELECT_CHOICES: dict[str, list[tuple[str, Any]]] = {
    "signature_type": SignatureType.choices,
    "mss_deployment": MssDeployment.choices,
}
# Suggestions for free text fields (a datalist keeps other values possible).
SUGGESTIONS: dict[str, list[tuple[str, Any]]] = {
    "vat": [("20", _("20 % (métropole)")), ("8.5", _("8,5 % (Guadeloupe, Martinique, La Réunion)")),
            ("HT", _("HT (client non assujetti)"))],
}
HELP_TEXTS: dict[str, Any] = {
    "vat": _("« HT » ou un taux en pourcentage : 20, 8.5…"),
    "invoice_mentions_checked": _("Chapitre 12 du document des modèles SONS (BDC, MOM, VA)."),
}
LONG_TEXT = 200
BLANK = [("", "—")]


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def form_field(name: str, field: FieldSpec) -> forms.Field:
    """The page field for one payload field: same label, same requiredness; the service checks the value."""
    label, required = field.label, field.required
    if field.kind == "boolean":
        return forms.BooleanField(label=label, required=False, help_text=HELP_TEXTS.get(name, ""))
    if field.kind == "date":
        widget: forms.Widget = _date_widget()
    elif field.kind == "decimal":
        attrs = {"step": "0.01", "inputmode": "decimal"}
        if field.min_value is not None:
            attrs["min"] = str(field.min_value)
        widget = forms.NumberInput(attrs=attrs)
    elif field.kind == "choice" or name in SELECT_CHOICES:
        choices = SELECT_CHOICES.get(name) or field.choices
        widget = forms.Select(choices=BLANK + list(choices))
    elif field.max_length and field.max_length > LONG_TEXT:
        widget = forms.Textarea(attrs={"rows": 3, "maxlength": field.max_length})
    else:
        attrs = {"maxlength": field.max_length} if field.max_length else {}
        if name in SUGGESTIONS:
            attrs["list"] = f"suggestions-{name}"
        widget = forms.TextInput(attrs=attrs)
    return forms.CharField(label=label, required=required, widget=widget, help_text=HELP_TEXTS.get(name, ""))


class PayloadForm(forms.Form):
    """A transition's payload as a page form, rendered from the payload's fields (label, required, type).

    It does not validate: `payload()` hands the typed values to the service, and `set_errors()` puts the
    service's InvalidInput errors back on the fields, keeping what the user typed.
    """

    exclude: tuple[str, ...] = ()

    def __init__(self, transition: str, *args, errors: dict[str, list[str]] | None = None, **kwargs):
        kwargs.setdefault("prefix", transition)
        super().__init__(*args, **kwargs)
        self.transition = transition
        every_field = fields_of(transition)
        self.payload_fields = {name: field for name, field in every_field.items() if name not in self.exclude}
        # Errors on fields this form does not show are named after the field (the solde filing shows one).
        self.labels = {name: field.label for name, field in every_field.items()}
        for name, field in self.payload_fields.items():
            self.fields[name] = form_field(name, field)
        self.suggestions = [(f"suggestions-{name}", SUGGESTIONS[name]) for name in self.fields if name in SUGGESTIONS]
        self._service_errors = errors or {}

    @property
    def label(self):
        return TRANSITION_BUTTONS.get(self.transition, self.transition)

    def full_clean(self) -> None:
        self._errors = ErrorDict()
        self.cleaned_data = {}
        for name, messages in self._service_errors.items():
            if name in self.fields:
                key = name
            else:
                key = forms.forms.NON_FIELD_ERRORS
                if name in self.labels:
                    messages = [f"{self.labels[name]} : {message}" for message in messages]
            self._errors.setdefault(key, self.error_class(renderer=self.renderer)).extend(messages)

    def set_errors(self, errors: dict[str, list[str]]) -> None:
        self._service_errors = errors
        self._errors = None

    def payload(self) -> dict[str, Any]:
        """What the user typed, shaped for the payload: blanks left out, checkboxes as booleans."""
        data: dict[str, Any] = {}
        for name, field in self.payload_fields.items():
            key = self.add_prefix(name)
            if field.kind == "boolean":
                data[name] = self.data.get(key) in ("on", "true", "1", "True")
                continue
            value = (self.data.get(key) or "").strip()
            if value == "":
                continue
            if field.kind == "decimal":
                # French keyboards type a comma; the payload's decimal notation is a dot.
                value = value.replace("\u202f", "").replace(" ", "").replace(",", ".")
            data[name] = value
        return data


class SoldeDraftForm(PayloadForm):
    """The invoice data typed before filing (the solde draft): the file_solde payload less its filing date."""

    exclude = ("filed_on",)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "draft")
        super().__init__("file_solde", *args, **kwargs)
        for field in self.fields.values():
            field.required = False  # a draft may be saved half typed

    def set_errors(self, errors: dict[str, list[str]]) -> None:
        super().set_errors({key.removeprefix("solde_draft."): value for key, value in errors.items()})

    def payload(self) -> dict[str, Any]:
        # A draft keeps unticked boxes unset rather than false, so their rules stay "à renseigner".
        return {k: v for k, v in super().payload().items() if v is not False}


def initial_payload(transition: str, dossier: Dossier) -> dict[str, Any]:
    """Sensible starting values: today for dates, the dossier's own scenario and amounts where they apply."""
    today = timezone.localdate()
    initial: dict[str, Any] = {}
    for name, field in fields_of(transition).items():
        if field.kind == "date":
            initial[name] = today
    if transition in ("file_avance", "refile_avance", "sign_va"):
        initial["scenario"] = dossier.scenario
    if transition == "refile_avance" and dossier.declared_amount is not None:
        initial["declared_amount"] = dossier.declared_amount
    if transition == "record_avance_payment" and dossier.declared_amount is not None:
        initial["amount"] = dossier.declared_amount
    if transition == "record_solde_payment" and dossier.solde_amount is not None:
        initial["amount"] = dossier.solde_amount
    if transition == "record_recovery" and dossier.recovery_outstanding:
        initial["amount"] = dossier.recovery_outstanding
    return initial


class ServiceErrorsMixin:
    """Put a service's InvalidInput errors on the form's fields (unknown keys become form errors)."""

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        for name, messages in errors.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)

    def submit(self, write: Callable[[dict[str, Any]], Any]) -> tuple[Any, int]:
        """For a valid form, `write(cleaned_data)` (a service call), and the answer's status: (its result, 200);
        bad input (None, 400) with the service's errors on the fields; refused (None, 409) with each rule's message."""
        if not self.is_valid():
            return None, 400
        try:
            return write(self.cleaned_data), 200
        except InvalidInput as invalid:
            self.add_service_errors(invalid.errors)
            return None, 400
        except RulesFailed as refusal:
            for failure in refusal.failures:
                self.add_error(None, failure.message)
            return None, 409


class DocumentForm(ServiceErrorsMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Type de document"), choices=BLANK + list(DocumentKind.choices))
    file = forms.FileField(label=_("Fichier"), help_text=_("PDF pour les documents signés."))

    def __init__(self, *args, kinds: list[str] | None = None, **kwargs):
        # `kinds` comes from the posted form: an unknown kind is ignored (the choice field then refuses it).
        kinds = [k for k in kinds or [] if k in DocumentKind.values]
        if kinds:
            # Several single-kind forms share a page (the checklist): distinct ids, the same field names.
            kwargs.setdefault("auto_id", f"id_{'_'.join(kinds)}_%s")
        super().__init__(*args, **kwargs)
        if kinds:
            self.fields["kind"].choices = [(k, DocumentKind(k).label) for k in kinds]
            if len(kinds) == 1:
                self.fields["kind"].widget = forms.HiddenInput()
                self.fields["kind"].initial = kinds[0]
        self.fields["file"].widget.attrs["accept"] = ".pdf,application/pdf"


class AmendmentForm(ServiceErrorsMixin, forms.Form):
    filed_on = forms.DateField(label=_("Déposé le"), widget=_date_widget())
    amount = forms.DecimalField(label=_("Nouveau montant déclaré"), max_digits=12, decimal_places=2,
                                widget=forms.NumberInput(attrs={"step": "0.01", "min": "0"}))


class AmendmentStatusForm(ServiceErrorsMixin, forms.Form):
    status = forms.ChoiceField(label=_("Nouveau statut"), choices=[(Amendment.Status.VALIDATED, Amendment.Status.VALIDATED.label),
                                                                   (Amendment.Status.PAID, Amendment.Status.PAID.label)],
                               widget=forms.HiddenInput())
    on = forms.DateField(label=_("Le"), widget=_date_widget())
    paid_amount = forms.DecimalField(label=_("Montant payé"), required=False, max_digits=12, decimal_places=2,
                                     widget=forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
                                     help_text=_("Le montant de l'avenant si vide."))


class ScenarioForm(ServiceErrorsMixin, forms.Form):
    scenario = forms.CharField(label=_("Scénario d'installation"), max_length=100, required=False)

    def clean(self):
        # Empty erases the scenario; a form without the field at all is no request to erase it.
        if self.is_bound and "scenario" not in self.data:
            self.add_error("scenario", _("Indiquez le scénario (laissez le champ vide pour l'effacer)."))
        return super().clean()


class DossierSettingsForm(ServiceErrorsMixin, forms.Form):
    """What the vendor records about the installation: the FINESS the solde declares, version, maintenance."""

    declared_finess = forms.ChoiceField(label=_("FINESS déclaré dans la demande de solde"),
                                        choices=DeclaredFiness.choices,
                                        help_text=_("Un seul FINESS est déclaré ; le SIRET seulement pour un site sans "
                                                    "FINESS."))
    installed_version = forms.CharField(label=_("Version installée"), max_length=60, required=False,
                                        help_text=_("Une version supérieure à la version référencée, sans régression, "
                                                    "ne demande pas de nouveau bon de commande."))
    maintenance_contract = forms.BooleanField(label=_("Contrat de maintenance avec le client"), required=False,
                                              help_text=_("L'échéance de maintenance (6 ans après la VA) n'existe "
                                                          "qu'avec un contrat."))


class DossierCreateForm(ServiceErrorsMixin, forms.Form):
    client = forms.ModelChoiceField(label=_("Client"), queryset=Client.objects.none())
    solution = forms.ModelChoiceField(label=_("Solution"), queryset=Solution.objects.none())
    reference = forms.CharField(label=_("Référence"), max_length=60, required=False,
                                help_text=_("Laissez vide pour une référence attribuée automatiquement."))
    scenario = forms.CharField(label=_("Scénario d'installation"), max_length=100, required=False)

    def __init__(self, *args, organisation_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = Client.objects.filter(organisation_id=organisation_id).order_by("name")
        self.fields["solution"].queryset = (Solution.objects.filter(organisation_id=organisation_id)
                                            .select_related("dispositif").order_by("name", "version"))
        self.fields["solution"].label_from_instance = lambda s: f"{s.name} {s.version} — {s.dispositif.code}"


class SoldeFilingForm(PayloadForm):
    """Filing the solde from the checklist: the filing date; the invoice data is the saved draft."""

    exclude = tuple(name for name in fields_of("file_solde") if name != "filed_on")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "filing")
        super().__init__("file_solde", *args, **kwargs)


class ListedChoices(forms.models.ModelChoiceIterator):
    """The menu's queryset read by one plain query (and kept for the form's life), not through `iterator()`, whose
    server-side cursor costs a DECLARE, a FETCH and a CLOSE for a menu of a few dozen rows."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:
            yield self.choice(obj)


class ListedModelChoiceField(forms.ModelChoiceField):
    iterator = ListedChoices


class DossierFilterForm(QuickRendering, forms.Form):
    """The dossier list's filters, search and sort (GET); choices scoped to the organisation."""

    q = forms.CharField(label=_("Rechercher"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Client, FINESS, SIRET, référence")}))
    state = forms.ChoiceField(label=_("État"), required=False)
    couloir = forms.ChoiceField(label=_("Couloir"), required=False)
    dispositif = ListedModelChoiceField(label=_("Dispositif"), required=False, queryset=Dispositif.objects.none(),
                                        empty_label=_("Tous"))
    solution = ListedModelChoiceField(label=_("Solution"), required=False, queryset=Solution.objects.none(),
                                      empty_label=_("Toutes"))
    rule = forms.ChoiceField(label=_("Bloqué par"), required=False)
    sort = forms.ChoiceField(label=_("Trier par"), required=False, choices=[
        ("-updated", _("Modifiés récemment")), ("updated", _("Modifiés il y a longtemps")),
        ("reference", _("Référence (A→Z)")), ("-reference", _("Référence (Z→A)")),
        ("client", _("Client (A→Z)")), ("-client", _("Client (Z→A)")),
        ("state", _("État")), ("-state", _("État (inverse)")),
    ])

    def __init__(self, *args, organisation_id: int, **kwargs):
        from .models import Couloir, State
        from .rules import CATALOGUE, Severity

        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", _("Tous"))] + list(State.choices)
        # The menus read only what they show (and filter by): the list pays for them on every request.
        self.fields["couloir"].choices = [("", _("Tous"))] + list(Couloir.objects.values_list("code", "label"))
        self.fields["dispositif"].queryset = Dispositif.objects.order_by("code").only("id", "code")
        self.fields["dispositif"].label_from_instance = lambda d: d.code
        self.fields["solution"].queryset = Solution.objects.filter(organisation_id=organisation_id).order_by(
            "name", "version").only("id", "organisation_id", "name", "version")
        self.fields["rule"].choices = [("", _("Toutes règles"))] + [
            (code, f"{rule.title} ({code})") for code, rule in CATALOGUE.items() if rule.severity is Severity.BLOCK]
        from .extensions import LIST_FILTERS

        for name, extra in LIST_FILTERS.items():
            self.fields[name] = forms.ChoiceField(label=extra.label, required=False,
                                                  choices=[("", _("Tous"))] + list(extra.choices))

    def extension_fields(self) -> list:
        from .extensions import LIST_FILTERS

        return [self[name] for name in LIST_FILTERS if name in self.fields]

    def params(self) -> dict[str, Any]:
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}
