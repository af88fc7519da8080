"""Organisation pages: sign-in and sign-out, choosing the current organisation, members (admins only)."""
from __future__ import annotations


from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods, require_POST

from .current import SESSION_KEY
from .decorators import member_required
from .forms import MemberAddForm, MemberRemoveForm, MemberRoleForm, SwitchForm
from .models import Membership, Role


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


@require_http_methods(["GET", "POST"])
def switch(request: HttpRequest) -> HttpResponse:
    """The organisations the user belongs to; POST makes one the current one (kept in the session)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    form = SwitchForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        organisation = form.cleaned_data["organisation"]
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


def _members_page(request: HttpRequest, *, add_form=None, role_forms=None, errors=None, status=200) -> HttpResponse:
    organisation = request.membership.organisation
    role_forms = role_forms or {}
    members = [
        {"membership": m, "form": role_forms.get(m.pk) or MemberRoleForm(initial={"role": m.role}, membership=m,
                                                                         prefix=f"m{m.pk}")}
        for m in Membership.objects.filter(organisation=organisation).select_related("user").order_by("user__username")
    ]
    return render(request, "organisations/members.html", {
        "members": members, "add_form": add_form or MemberAddForm(organisation=organisation),
        "errors": errors or [], "me": request.membership,
    }, status=status)


@require_http_methods(["GET", "POST"])
@admin_required
def members(request: HttpRequest) -> HttpResponse:
    """The members with their roles; POST adds one (an existing user, or a new account)."""
    if request.method == "GET":
        return _members_page(request)
    form = MemberAddForm(request.POST, organisation=request.membership.organisation)
    if form.is_valid():
        membership = form.save()
        messages.success(request, _("%(user)s ajouté comme %(role)s.") % {
            "user": membership.user.username, "role": membership.get_role_display()})
        return redirect("members")
    return _members_page(request, add_form=form, status=400)


def _member(request: HttpRequest, pk: int) -> Membership:
    return get_object_or_404(Membership.objects.select_related("user"), pk=pk,
                             organisation_id=request.membership.organisation_id)


@require_POST
@admin_required
def member_role(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _member(request, pk)
    form = MemberRoleForm(request.POST, membership=membership, prefix=f"m{membership.pk}")
    if form.is_valid():
        form.save()
        messages.success(request, _("Rôle de %(user)s : %(role)s.") % {
            "user": membership.user.username, "role": Role(membership.role).label})
        return redirect("members")
    return _members_page(request, role_forms={membership.pk: form}, status=400)


@require_POST
@admin_required
def member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _member(request, pk)
    form = MemberRemoveForm(request.POST, membership=membership)
    if form.is_valid():
        form.save()
        messages.success(request, _("%(user)s n'est plus membre de l'organisation.") % {"user": membership.user.username})
        return redirect("members")
    return _members_page(request, errors=form.non_field_errors(), status=400)
