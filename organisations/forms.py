"""Forms of the organisation pages: switching organisation, inviting members and managing their roles (admins),
and creating one's account from an invitation."""
from __future__ import annotations

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _

from .models import Organisation, Role


class SwitchForm(forms.Form):
    organisation = forms.ModelChoiceField(label=_("Organisation"), queryset=Organisation.objects.none(),
                                          empty_label=None)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.filter(memberships__user=user).order_by("name")


class InvitationForm(forms.Form):
    """Who to invite, and with which role: the person joins only by accepting the e-mailed link."""

    email = forms.EmailField(label=_("Adresse e-mail"), max_length=254)
    role = forms.ChoiceField(label=_("Rôle"), choices=Role.choices, initial=Role.VIEWER)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Rôle"), choices=Role.choices)


class AccountFromInvitationForm(UserCreationForm):
    """A new account from an invitation: an identifier and a password typed twice (Django's checks, in French).

    Only validates: the service creates the account, with the invitation's e-mail, and the membership together.
    """

    class Meta(UserCreationForm.Meta):
        fields = ("username",)
