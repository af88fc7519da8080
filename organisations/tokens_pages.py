"""The page where a user manages their own API tokens (the key is shown once, at creation)."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods, require_POST

from . import tokens
from .decorators import member_required
from .models import ApiToken


class TokenForm(forms.Form):
    name = forms.CharField(label=_lazy("Nom"), max_length=100,
                           help_text=_lazy("Pour vous souvenir de l'usage, par exemple « CRM commercial »."))
    scope = forms.ChoiceField(label=_lazy("Portée"), choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ)
    expires_on = forms.DateField(label=_lazy("Expire le"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                                 help_text=_lazy("Facultatif. Le jeton fonctionne jusqu'à ce jour inclus."))

    def clean_expires_on(self):
        expires_on = self.cleaned_data["expires_on"]
        if expires_on is not None and expires_on < timezone.localdate():
            raise forms.ValidationError(_("La date d'expiration est déjà passée."))
        return expires_on


def _page(request: HttpRequest, form: TokenForm, *, key: str | None = None, status: int = 200) -> HttpResponse:
    return render(request, "organisations/tokens.html", {
        "tokens": tokens.tokens_of(request.membership), "form": form, "key": key,
        "today": timezone.localdate()}, status=status)


@require_http_methods(["GET", "POST"])
@member_required
def token_list(request: HttpRequest) -> HttpResponse:
    """The user's tokens in the current organisation; POST creates one and shows its key, once."""
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            _token, key = tokens.issue_token(membership=request.membership, **form.cleaned_data)
        except tokens.TooManyTokens:
            form.add_error(None, _("Vous avez atteint le nombre maximal de jetons (%(max)s).")
                           % {"max": tokens.MAX_TOKENS_PER_MEMBERSHIP})
        else:
            return _page(request, TokenForm(), key=key)
    return _page(request, form, status=400 if form.errors else 200)


@require_POST
@member_required
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    if not tokens.revoke_token(membership=request.membership, token_id=pk):
        raise Http404()
    messages.success(request, _("Jeton révoqué : il ne fonctionne plus."))
    return redirect("tokens")
