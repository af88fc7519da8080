"""Accounts people run themselves: password change, reset by e-mail (Django's views, French templates), and the
first sign-in after someone else chose the password, which asks for a new one before anything else."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.urls import reverse_lazy
from django.utils.translation import gettext as _

from . import services
from .models import Account

# Set in the session at sign-in while the account's password is an initial one (no query on later requests).
SESSION_FLAG = "must_change_password"


@receiver(user_logged_in, dispatch_uid="organisations.password_change_required")
def _flag_initial_password(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session") and Account.objects.filter(
            user=user, must_change_password=True).exists():
        request.session[SESSION_FLAG] = True


def _password_chosen(request, user) -> None:
    services.require_password_change(user, required=False)
    if hasattr(request, "session"):
        request.session.pop(SESSION_FLAG, None)


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("password_change_done")

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "required": bool(self.request.session.get(SESSION_FLAG))}

    def form_valid(self, form):
        response = super().form_valid(form)
        _password_chosen(self.request, form.user)
        messages.success(self.request, _("Votre mot de passe a été changé."))
        return response


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        _password_chosen(self.request, form.user)
        return response
