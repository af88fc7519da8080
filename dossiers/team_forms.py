"""Forms of a team's pages: owner filter and reassignment, notes, the activity filters, notification preferences."""
from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from organisations.models import Membership
from segurtrack.quick_forms import QuickRendering

from .forms import ServiceErrorsMixin
from .models import Channel, NotificationKind
from .services.team import NOTE_MAX_LENGTH
from .queries import EVERYONE, MINE, NOBODY, member_name


def _member_choices(members: list[Membership]) -> list[tuple[str, str]]:
    return [(str(m.pk), member_name(m)) for m in members]


class OwnerFilterForm(QuickRendering, forms.Form):
    """The dossier list's « Responsable » filter (GET), next to DossierFilterForm."""

    owner = forms.ChoiceField(label=_("Responsable"), required=False)

    def __init__(self, *args, members: list[Membership], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [(MINE, _("Mes dossiers")), (EVERYONE, _("Tous les dossiers")),
                                        (NOBODY, _("Sans responsable")), *_member_choices(members)]


class AssignOwnerForm(ServiceErrorsMixin, forms.Form):
    owner = forms.ChoiceField(label=_("Responsable"), required=False, error_messages={
        "invalid_choice": _("Choisissez un gestionnaire ou un administrateur de l'organisation.")})

    def __init__(self, *args, members: list[Membership], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", _("Personne")), *_member_choices(members)]

    def clean(self):
        # The menu always sends a value ("" for nobody): a post without the field is no choice, not "nobody".
        if self.is_bound and "owner" not in self.data:
            self.add_error("owner", _("Choisissez un gestionnaire ou un administrateur de l'organisation."))
        return super().clean()

    def owner_id(self) -> int | None:
        value = self.cleaned_data["owner"]
        return int(value) if value else None


class NoteForm(ServiceErrorsMixin, forms.Form):
    text = forms.CharField(label=_("Note"), max_length=NOTE_MAX_LENGTH, strip=True,
                           widget=forms.Textarea(attrs={"rows": 3}), error_messages={
                               "required": _("Écrivez la note avant de l'enregistrer.")},
                           help_text=_("Visible de toute l'organisation, dans l'historique du dossier."))


class ActivityFilterForm(forms.Form):
    person = forms.ChoiceField(label=_("Personne"), required=False, error_messages={
        "invalid_choice": _("Cette personne n'est pas membre de l'organisation.")})
    reference = forms.CharField(label=_("Dossier (référence)"), required=False, max_length=60)
    start = forms.DateField(label=_("Du"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                            error_messages={"invalid": _("Date invalide : JJ/MM/AAAA.")})
    end = forms.DateField(label=_("Au"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                          error_messages={"invalid": _("Date invalide : JJ/MM/AAAA.")})

    def __init__(self, *args, members: list[Membership], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [("", _("Tout le monde")),
                                         *((str(m.user_id), member_name(m)) for m in members)]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start") and cleaned.get("end") and cleaned["start"] > cleaned["end"]:
            self.add_error("end", _("La fin de la période précède son début."))
        return cleaned

    def filters(self) -> dict:
        data = self.cleaned_data
        return {"user_id": int(data["person"]) if data["person"] else None, "reference": data["reference"],
                "start": data["start"], "end": data["end"]}


class NotificationPreferencesForm(ServiceErrorsMixin, forms.Form):
    """One choice per kind of notification."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in NotificationKind.choices:
            self.fields[kind] = forms.ChoiceField(label=label, choices=Channel.choices, error_messages={
                "required": _("Choisissez comment être prévenu."),
                "invalid_choice": _("Choisissez « Dans l'application », « Dans le résumé quotidien » ou « Jamais »."),
            })
