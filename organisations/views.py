"""Organisation pages: sign-in and sign-out, choosing the current organisation, members and invitations (admins),
accepting an invitation."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods, require_POST

from . import services
from .current import SESSION_KEY
from .decorators import member_required
from .forms import AccountFromInvitationForm, InvitationForm, MemberRoleForm, SwitchForm
from .models import Invitation, Membership, Role


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


@require_http_methods(["GET", "POST"])
def switch(request: HttpRequest) -> HttpResponse:
    """The organisations the user belongs to; POST makes one the current one (remembered for the next sessions)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    form = SwitchForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        organisation = form.cleaned_data["organisation"]
        services.choose_organisation(Membership.objects.get(user=request.user, organisation=organisation))
        request.session[SESSION_KEY] = organisation.pk
        messages.success(request, _("Vous travaillez maintenant pour %(name)s.") % {"name": organisation.name})
        target = request.POST.get("next") or ""
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = "home"
        return redirect(target)
    memberships = Membership.objects.filter(user=request.user).select_related("organisation").order_by(
        "organisation__name")
    return render(request, "organisations/switch.html", {"form": form, "memberships": memberships},
                  status=400 if form.errors else 200)


admin_required = member_required(role=Role.ADMIN, refusal=_lazy(
    "Seuls les administrateurs de l'organisation gèrent ses membres."))


def _members_page(request: HttpRequest, *, invite_form=None, role_forms=None, errors=None,
                  status=200) -> HttpResponse:
    organisation = request.membership.organisation
    role_forms = role_forms or {}
    members = [
        {"membership": m, "form": role_forms.get(m.pk) or MemberRoleForm(initial={"role": m.role}, prefix=f"m{m.pk}")}
        for m in Membership.objects.filter(organisation=organisation).select_related("user").order_by("user__username")
    ]
    invitations = Invitation.objects.filter(organisation=organisation, accepted_at__isnull=True,
                                            revoked_at__isnull=True, expires_at__gt=timezone.now())
    return render(request, "organisations/members.html", {
        "members": members, "invitations": invitations, "invite_form": invite_form or InvitationForm(),
        "invitation_days": services.INVITATION_DAYS,
        "errors": errors or [], "me": request.membership,
    }, status=status)


@require_http_methods(["GET", "POST"])
@admin_required
def members(request: HttpRequest) -> HttpResponse:
    """The members with their roles and the pending invitations; POST invites someone by e-mail."""
    if request.method == "GET":
        return _members_page(request)
    form = InvitationForm(request.POST)
    if form.is_valid():
        invitation = services.invite_member(
            organisation=request.membership.organisation, email=form.cleaned_data["email"],
            role=form.cleaned_data["role"], by=request.user,
            link=lambda token: request.build_absolute_uri(reverse("invitation", args=[token])))
        # The same answer whether or not the address has an account, here or anywhere.
        messages.success(request, _("Invitation envoyée à %(email)s (%(role)s). La personne rejoint "
                                    "l'organisation en l'acceptant.") % {
            "email": invitation.email, "role": invitation.get_role_display()})
        return redirect("members")
    return _members_page(request, invite_form=form, status=400)


@require_POST
@admin_required
def invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    if not Invitation.objects.filter(pk=pk, organisation_id=request.membership.organisation_id).exists():
        raise Http404
    services.revoke_invitation(invitation_id=pk, organisation=request.membership.organisation)
    messages.success(request, _("Invitation annulée."))
    return redirect("members")


def _member_or_404(request: HttpRequest, pk: int) -> Membership:
    membership = Membership.objects.select_related("user").filter(
        pk=pk, organisation_id=request.membership.organisation_id).first()
    if membership is None:
        raise Http404
    return membership


@require_POST
@admin_required
def member_role(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _member_or_404(request, pk)
    form = MemberRoleForm(request.POST, prefix=f"m{membership.pk}")
    if form.is_valid():
        try:
            membership = services.change_role(membership_id=membership.pk,
                                              organisation=request.membership.organisation,
                                              role=form.cleaned_data["role"])
        except Membership.DoesNotExist:
            raise Http404
        except services.MembershipError as refused:
            form.add_error("role", str(refused))
        else:
            messages.success(request, _("Rôle de %(user)s : %(role)s.") % {
                "user": membership.user.username, "role": Role(membership.role).label})
            return redirect("members")
    return _members_page(request, role_forms={membership.pk: form}, status=400)


@require_POST
@admin_required
def member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _member_or_404(request, pk)
    try:
        services.remove_member(membership_id=membership.pk, organisation=request.membership.organisation)
    except Membership.DoesNotExist:
        raise Http404
    except services.MembershipError as refused:
        return _members_page(request, errors=[str(refused)], status=400)
    messages.success(request, _("%(user)s n'est plus membre de l'organisation.") % {"user": membership.user.username})
    return redirect("members")


@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """An invitation's page: accept it signed in, or create one's account from it. An unusable link is a 404."""
    pending = services.pending_invitation(token)
    if pending is None:
        return render(request, "organisations/invitation_invalid.html", status=404)
    form = None
    if not request.user.is_authenticated:
        form = AccountFromInvitationForm(request.POST if request.method == "POST" else None)
        form.instance.email = pending.email
    if request.method == "POST":
        try:
            if request.user.is_authenticated:
                membership = services.accept_invitation(token=token, user=request.user)
            elif form.is_valid():
                membership = services.accept_invitation_with_new_account(
                    token=token, username=form.cleaned_data["username"], password=form.cleaned_data["password1"])
                login(request, membership.user, backend="organisations.backends.MemberBackend")
            else:
                membership = None
        except services.UsernameTaken as refused:
            form.add_error("username", str(refused))
            membership = None
        except services.MembershipError as refused:
            messages.error(request, str(refused))
            return redirect("home") if request.user.is_authenticated else redirect("login")
        if membership is not None:
            request.session[SESSION_KEY] = membership.organisation_id
            messages.success(request, _("Bienvenue : vous êtes maintenant %(role)s de %(name)s.") % {
                "role": membership.get_role_display().lower(), "name": membership.organisation.name})
            return redirect("home")
    return render(request, "organisations/invitation.html", {"invitation": pending, "form": form},
                  status=400 if form is not None and form.errors else 200)
