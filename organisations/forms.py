"""Forms of the organisation pages: switching organisation and managing members (admins)."""
from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from .models import Membership, Organisation, Role


class SwitchForm(forms.Form):
    organisation = forms.ModelChoiceField(label=_("Organisation"), queryset=Organisation.objects.none(),
                                          empty_label=None)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.filter(memberships__user=user).order_by("name")


def _other_admins(membership: Membership) -> bool:
    return Membership.objects.filter(organisation_id=membership.organisation_id, role=Role.ADMIN).exclude(
        pk=membership.pk).exists()


class MemberAddForm(forms.Form):
    """Add an existing user by username, or create the account (a password is then required)."""

    username = forms.CharField(label=_("Identifiant"), max_length=150)
    email = forms.EmailField(label=_("Adresse e-mail"), required=False,
                             help_text=_("Pour un nouveau compte seulement."))
    password = forms.CharField(label=_("Mot de passe initial"), required=False, strip=False,
                               widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
                               help_text=_("Pour un nouveau compte seulement ; à changer à la première connexion."))
    role = forms.ChoiceField(label=_("Rôle"), choices=Role.choices, initial=Role.VIEWER)

    def __init__(self, *args, organisation: Organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        self.user = None

    def clean(self):
        data = super().clean()
        username = data.get("username")
        if not username:
            return data
        User = get_user_model()
        self.user = User.objects.filter(username=username).first()
        if self.user is not None:
            if Membership.objects.filter(user=self.user, organisation=self.organisation).exists():
                self.add_error("username", _("Cet utilisateur est déjà membre de l'organisation."))
        elif not data.get("password"):
            self.add_error("password", _("Nouveau compte : indiquez un mot de passe initial."))
        else:
            try:
                validate_password(data["password"], User(username=username, email=data.get("email") or ""))
            except forms.ValidationError as error:
                self.add_error("password", error)
        return data

    @transaction.atomic
    def save(self) -> Membership:
        user = self.user
        if user is None:
            user = get_user_model().objects.create_user(
                username=self.cleaned_data["username"], email=self.cleaned_data.get("email") or "",
                password=self.cleaned_data["password"])
        return Membership.objects.create(user=user, organisation=self.organisation, role=self.cleaned_data["role"])


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Rôle"), choices=Role.choices)

    def __init__(self, *args, membership: Membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.membership = membership

    def clean_role(self):
        role = self.cleaned_data["role"]
        if self.membership.role == Role.ADMIN and role != Role.ADMIN and not _other_admins(self.membership):
            raise forms.ValidationError(_("L'organisation doit garder au moins un administrateur."))
        return role

    def save(self) -> Membership:
        self.membership.role = self.cleaned_data["role"]
        self.membership.save(update_fields=["role"])
        return self.membership


class MemberRemoveForm(forms.Form):
    def __init__(self, *args, membership: Membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.membership = membership

    def clean(self):
        if self.membership.role == Role.ADMIN and not _other_admins(self.membership):
            raise forms.ValidationError(_("L'organisation doit garder au moins un administrateur."))
        return super().clean()

    def save(self) -> None:
        self.membership.delete()
