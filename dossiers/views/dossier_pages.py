"""Dossier pages: the list, the creation form, the dossier page and the writes it posts (through services)."""
from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from organisations.models import Role

from .. import diagram, extensions, notices, queries, services, timeline
from ..forms import (
    AmendmentForm, AmendmentStatusForm, DocumentForm, DossierCreateForm,
    DossierFilterForm, DossierSettingsForm, PayloadForm, ScenarioForm, initial_payload,
)
from ..models import SOLDE_FILED_STATES, SOLDE_FILING_STATES, TRANSITION_BUTTONS, TRANSITION_LABELS
from ..models import (
    AMENDMENT_STATES, SCENARIO_CHANGE_STATES, Amendment, Dossier,
)
from ..payloads import PAYLOADS
from ..rules import money
from ..services import RulesFailed
from segurtrack.errors import InvalidInput
from segurtrack.formats import french_date
from .list_paging import AFTER, BEFORE, InvalidCursor, ListPage, count_cap, list_page
from .list_rows import list_rows
from .common import announce_transition, member_required, organisation_id, own_dossier, safe_next
from .solde import render_solde
from .owner_scope import owner_scope

PAGE_SIZE = 25
# Transitions filed from their own page rather than from a form on the dossier page.
OWN_PAGE = {"file_solde": "dossier-solde"}
# Steps that go back or aside, listed after the step forward, in this order (issue 16: the forward step's button
# comes before "Demander l'annulation"); forward steps keep the machine's order (`PAYLOADS`).
SIDE_STEPS = ("request_avance_fix", "request_solde_fix", "refuse_cancellation", "request_cancellation")


def step_order(name: str) -> tuple[int, int]:
    side = SIDE_STEPS.index(name) + 1 if name in SIDE_STEPS else 0
    return side, list(PAYLOADS).index(name) if name in PAYLOADS else len(PAYLOADS)


# --- list and creation -------------------------------------------------------------------------------------------

@require_GET
@member_required
def dossier_list(request: HttpRequest) -> HttpResponse:
    org = organisation_id(request)
    form = DossierFilterForm(request.GET or None, organisation_id=org)
    params = form.params()
    owner = owner_scope(request)  # « mes dossiers » by default (dossiers/views/team.py)
    dossiers = owner.apply(queries.dossier_list(org, **params)).only(*queries.LIST_COLUMNS)
    status = 200
    try:
        page = list_page(dossiers, request.GET, sort=params.get("sort"), size=PAGE_SIZE)
    except InvalidCursor:
        form.add_error(None, _("Ce lien de page n'est plus valide (modifié ou d'un autre tri) : voici la première "
                               "page."))
        page, status = list_page(dossiers, QueryDict(), sort=params.get("sort"), size=PAGE_SIZE), 400
    query = request.GET.copy()
    for name in ("page", AFTER, BEFORE):
        query.pop(name, None)
    sort_query = query.copy()
    sort_query.pop("sort", None)
    return render(request, "dossiers/list.html", {
        "form": form, "owner": owner, "page": page, "query": query.urlencode(), "sort_query": sort_query.urlencode(),
        "rows": list_rows(page.object_list, selectable=request.membership.can_act, members=owner.members),
        "sort": params.get("sort", queries.DEFAULT_SORT), "filtered": bool(set(params) - {"sort"}),
        "count_label": count_label(page),
        # The filters the bulk form carries on (a list: `request.GET.items` in a template would look up a key).
        "filter_fields": [(key, value) for key, values in sort_query.lists() for value in values],
    }, status=status)


def count_label(page: ListPage) -> str:
    """"1 dossier", "12 345 dossiers", or past the cap "plus de 10 000 dossiers" (the count stopped there)."""
    if page.capped:
        return _("plus de %(count)s dossiers") % {"count": number_format(count_cap(), force_grouping=True)}
    return ngettext("%(count)s dossier", "%(count)s dossiers", page.count) % {
        "count": number_format(page.count, force_grouping=True)}


@require_http_methods(["GET", "POST"])
@member_required(role=Role.MANAGER)
def dossier_create(request: HttpRequest) -> HttpResponse:
    org = organisation_id(request)
    form = DossierCreateForm(request.POST or None, organisation_id=org,
                             initial={"client": request.GET.get("client"), "solution": request.GET.get("solution")})
    if request.method == "POST" and form.is_valid():
        try:
            dossier = services.create_dossier(
                organisation=request.membership.organisation, by=request.user, client=form.cleaned_data["client"],
                solution=form.cleaned_data["solution"], scenario=form.cleaned_data["scenario"],
                reference=form.cleaned_data["reference"].strip())
        except InvalidInput as invalid:
            form.add_service_errors(invalid.errors)
        else:
            messages.success(request, _("Dossier %(reference)s créé.") % {"reference": dossier.reference})
            return redirect("dossier-detail", pk=dossier.pk)
    return render(request, "dossiers/create.html", {"form": form}, status=400 if form.errors else 200)


# --- the dossier page --------------------------------------------------------------------------------------------

def _value(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("oui") if value else _("non")
    return str(value)


def history_items(rows) -> list[dict[str, Any]]:
    """The timeline, newest first."""
    return [timeline.history_item(row) for row in reversed(rows)]


def date(value) -> str:
    return french_date(value)


def steps(dossier: Dossier) -> list[tuple[str, list[tuple[str, str]]]]:
    """Amounts and dates of each step, in the programme's order."""
    d = dossier
    result = [
        (_("Bon de commande"), [(_("Signé le"), date(d.bdc_signed_on)), (_("Signataire"), _value(d.bdc_signer_name)),
                                (_("Type de signature"), _value(d.get_bdc_signature_type_display()))]),
        (_("Avance"), [(_("Déposée le"), date(d.avance_filed_on)),
                       (_("Montant déclaré"), money(d.avance_declared_amount)),
                       (_("Montant en vigueur (avenants compris)"), money(d.declared_amount)),
                       (_("Validée le"), date(d.avance_validated_on)), (_("Payée le"), date(d.avance_paid_on)),
                       (_("Montant payé"), money(d.avance_paid_amount)),
                       (_("Total versé (avenants compris)"), money(d.avance_paid_total))]),
        (_("Déploiement et VA"), [(_("Déployé le"), date(d.deployed_on)), (_("VA signée le"), date(d.va_signed_on)),
                                  (_("Signataire de la VA"), _value(d.va_signer_name)),
                                  (_("Indicateur MSS"), _value(d.get_mss_deployment_display()))]),
        (_("Solde"), [(_("Déposé le"), date(d.solde_filed_on)), (_("Facture"), _value(d.invoice_number)),
                      (_("Date de facture"), date(d.invoice_date)),
                      (_("Montant « Prestation Ségur »"), money(d.solde_amount)),
                      (_("Solde attendu (avance versée déduite)"), money(d.solde_expected_payment)),
                      (_("Total de la facture"), money(d.invoice_total)), (_("TVA"), _value(d.vat)),
                      (_("Validé le"), date(d.solde_validated_on)), (_("Payé le"), date(d.solde_paid_on)),
                      (_("Montant payé"), money(d.solde_paid_amount))]),
    ]
    if d.avance_fix_requested_on or d.solde_fix_requested_on:
        # Due in jours ouvrés of the client's department (DOMAIN.md §8), recorded by the ASP's request.
        result.append((_("Corrections demandées par l'ASP"), [
            (_("Avance : demandée le"), date(d.avance_fix_requested_on)),
            (_("Avance : à corriger avant le"), date(d.avance_fix_due_on)),
            (_("Solde : demandée le"), date(d.solde_fix_requested_on)),
            (_("Solde : à corriger avant le"), date(d.solde_fix_due_on))]))
    if d.cancellation_requested_on:
        cancellation = [
            (_("Demandée le"), date(d.cancellation_requested_on)),
            (_("Motif"), _value(d.get_cancellation_reason_display()))]
        if d.cancellation_refused_on:
            cancellation += [(_("Refusée par l'ASP le"), date(d.cancellation_refused_on)),
                             (_("Motif du refus"), _value(d.cancellation_refusal_reason))]
        cancellation += [
            (_("Ordre de recouvrement le"), date(d.recovery_issued_on)),
            (_("Dernier remboursement le"), date(d.recovered_on)),
            (_("Montant du dernier remboursement"), money(d.recovered_amount)),
            (_("Remboursements cumulés"), money(d.recovery_repaid if d.recovery_issued_on else None)),
            (_("Reste dû"), money(d.recovery_outstanding if d.recovery_issued_on else None)),
            (_("Annulé le"), date(d.cancelled_on))]
        result.append((_("Annulation"), cancellation))
    return result


def installation_facts(dossier: Dossier) -> list[tuple[str, str]]:
    """The VA's scenario and what the vendor records about the installation."""
    return [
        (_("Scénario de la VA"), _value(dossier.va_scenario)),
        (_("FINESS déclaré"), dossier.get_declared_finess_display()),
        (_("Version installée"), _value(dossier.installed_version)),
        (_("Contrat de maintenance"), _("oui") if dossier.maintenance_contract else _("non")),
    ]


def detail_initial(name: str, dossier: Dossier) -> dict[str, Any]:
    """A step's starting values; the solde payment starts from the balance expected (the « Prestation Ségur »
    amount less the avance paid, amendments included), not the whole amount."""
    initial = initial_payload(name, dossier)
    if name == "record_solde_payment" and dossier.solde_expected_payment is not None:
        initial["amount"] = dossier.solde_expected_payment
    return initial


def announce_solde_payment(request: HttpRequest, dossier: Dossier) -> None:
    """The payment recorded differs from the balance expected: allowed, and said on the next page."""
    expected = dossier.solde_expected_payment
    if expected is not None and dossier.solde_paid_amount != expected:
        messages.warning(request, _(
            "Le montant payé (%(paid)s) diffère du solde attendu (%(expected)s : montant « Prestation Ségur » moins "
            "l'avance versée, avenants compris). Vérifiez l'avis de paiement de l'ASP.") % {
            "paid": money(dossier.solde_paid_amount), "expected": money(expected)})


def detail_context(request: HttpRequest, dossier: Dossier, *, transition_form: PayloadForm | None = None,
                   refused: RulesFailed | None = None, document_form: DocumentForm | None = None,
                   amendment_form: AmendmentForm | None = None, status_forms: dict[int, AmendmentStatusForm] | None = None,
                   scenario_form: ScenarioForm | None = None,
                   settings_form: DossierSettingsForm | None = None) -> dict[str, Any]:
    can_act = request.membership.can_act
    actions = []
    for name in sorted((t.name for t in dossier.get_available_state_transitions()), key=step_order):
        if name in OWN_PAGE:
            actions.append({"name": name, "label": TRANSITION_BUTTONS[name],
                            "url": reverse(OWN_PAGE[name], args=[dossier.pk])})
            continue
        form = transition_form if transition_form is not None and transition_form.transition == name else \
            PayloadForm(name, initial=detail_initial(name, dossier))
        actions.append({"name": name, "label": TRANSITION_BUTTONS.get(name, name), "form": form,
                        "open": form is transition_form,
                        "url": reverse("dossier-transition", args=[dossier.pk, name])})
    blocker_codes = [b.rule for b in dossier.blocker_rows]
    refused_codes = [f.rule for f in (refused.failures + refused.warnings)] if refused else []
    links = queries.guidance([*blocker_codes, *refused_codes])
    blockers = [queries.RuleOutcome(code, queries.rule_title(code), "block", "failed", "", links.get(code, []))
                for code in blocker_codes]
    refusal = None
    if refused:
        refusal = {
            "label": TRANSITION_LABELS.get(transition_form.transition, "") if transition_form else "",
            "failures": queries.with_guidance(refused.failures, links),
            "warnings": queries.with_guidance(refused.warnings, links),
        }
    status_forms = status_forms or {}
    amendments = []
    for amendment in dossier.amendment_rows:
        following = services.AMENDMENT_NEXT.get(amendment.status)
        form = status_forms.get(amendment.pk)
        if form is None and following:
            form = AmendmentStatusForm(prefix=f"amendment{amendment.pk}", initial={
                "status": following, "on": queries.today(),
                "paid_amount": amendment.amount if following == Amendment.Status.PAID else None})
        amendments.append({"amendment": amendment, "next": following,
                           "next_label": Amendment.Status(following).label if following else "", "form": form})
    return {
        "dossier": dossier, "client": dossier.client, "solution": dossier.solution, "dispositif": dossier.dispositif,
        "can_act": can_act, "actions": actions, "refusal": refusal, "blockers": blockers,
        "next_step": TRANSITION_LABELS.get(dossier.blocker_rows[0].transition) if dossier.blocker_rows else "",
        "steps": steps(dossier),
        "documents": dossier.document_rows,
        "document_form": document_form or DocumentForm(),
        "amendments": amendments,
        "amendments_open": dossier.state in AMENDMENT_STATES,
        "amendment_form": amendment_form or AmendmentForm(initial={"filed_on": queries.today()}),
        "scenario_open": dossier.state in SCENARIO_CHANGE_STATES,
        "scenario_form": scenario_form or ScenarioForm(initial={"scenario": dossier.scenario}),
        "installation": installation_facts(dossier),
        "settings_form": settings_form or DossierSettingsForm(initial={
            name: getattr(dossier, name) for name in services.DOSSIER_SETTINGS}),
        # Newest first; each row is drawn by {% history_row %} (dossiers/templatetags/history.py).
        "history": list(reversed(dossier.history_rows)),
        "diagram": diagram.render(dossier, history=dossier.history_rows, blockers=dossier.blocker_rows),
        "solde_page": dossier.state in SOLDE_FILING_STATES | SOLDE_FILED_STATES,
        "panels": extensions.dossier_panels(request, dossier),
        "missing_documents": notices.missing_documents(dossier),
        "passed_deadlines": notices.passed_deadlines(
            dossier, pending_va_days=request.membership.organisation.pending_va_days),
    }


def render_detail(request: HttpRequest, pk: int, *, status: int = 200, **overrides) -> HttpResponse:
    dossier = queries.dossier_detail(organisation_id(request), pk)
    return render(request, "dossiers/detail.html", detail_context(request, dossier, **overrides), status=status)


@require_GET
@member_required
def dossier_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_detail(request, pk)


@require_POST
@member_required(role=Role.MANAGER)
def dossier_transition(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    dossier = own_dossier(request, pk)
    if name not in PAYLOADS:
        raise Http404
    form = PayloadForm(name, request.POST)
    try:
        outcome = services.run_transition(dossier.pk, name, by=request.user, data=form.payload())
    except RulesFailed as refused:
        return render_detail(request, pk, transition_form=form, refused=refused, status=409)
    except InvalidInput as invalid:
        form.set_errors(invalid.errors)
        return render_detail(request, pk, transition_form=form, status=400)
    announce_transition(request, outcome, name)
    if name == "record_solde_payment":
        announce_solde_payment(request, outcome.dossier)
    return redirect(safe_next(request, reverse("dossier-detail", args=[pk])))


@require_POST
@member_required(role=Role.MANAGER)
def document_upload(request: HttpRequest, pk: int) -> HttpResponse:
    dossier = own_dossier(request, pk)
    back_to_solde = request.POST.get("return_to") == "solde"
    form = DocumentForm(request.POST, request.FILES, kinds=request.POST.getlist("kinds") or None)
    if form.is_valid():
        try:
            document = services.add_document(dossier.pk, by=request.user, kind=form.cleaned_data["kind"],
                                             upload=form.cleaned_data["file"])
        except InvalidInput as invalid:
            form.add_service_errors(invalid.errors)
        else:
            messages.success(request, _("Document « %(name)s » ajouté (%(kind)s).") % {
                "name": document.filename, "kind": document.get_kind_display()})
            target = "dossier-solde" if back_to_solde else "dossier-detail"
            return redirect(f"{reverse(target, args=[pk])}#documents")
    if back_to_solde:
        return render_solde(request, pk, upload_forms={form.data.get("kind", ""): form}, status=400)
    return render_detail(request, pk, document_form=form, status=400)


@require_POST
@member_required(role=Role.MANAGER)
def amendment_add(request: HttpRequest, pk: int) -> HttpResponse:
    dossier = own_dossier(request, pk)
    form = AmendmentForm(request.POST)
    _result, status = form.submit(lambda data: services.add_amendment(
        dossier.pk, by=request.user, filed_on=data["filed_on"], amount=data["amount"]))
    if status == 200:
        messages.success(request, _("Avenant déposé."))
        return redirect(f"{reverse('dossier-detail', args=[pk])}#amendments")
    return render_detail(request, pk, amendment_form=form, status=status)


@require_POST
@member_required(role=Role.MANAGER)
def amendment_status(request: HttpRequest, pk: int) -> HttpResponse:
    amendment = get_object_or_404(Amendment.objects.select_related("dossier"), pk=pk,
                                  dossier__organisation_id=organisation_id(request))
    form = AmendmentStatusForm(request.POST, prefix=f"amendment{amendment.pk}")
    _result, status = form.submit(lambda data: services.update_amendment(
        amendment.pk, by=request.user, status=data["status"], on=data["on"], paid_amount=data.get("paid_amount")))
    if status == 200:
        messages.success(request, _("Avenant : statut « %(status)s » enregistré.") % {
            "status": Amendment.Status(form.cleaned_data["status"]).label})
        return redirect(f"{reverse('dossier-detail', args=[amendment.dossier_id])}#amendments")
    return render_detail(request, amendment.dossier_id, status_forms={amendment.pk: form}, status=status)


@require_POST
@member_required(role=Role.MANAGER)
def scenario_change(request: HttpRequest, pk: int) -> HttpResponse:
    dossier = own_dossier(request, pk)
    form = ScenarioForm(request.POST)
    if form.is_valid():
        try:
            services.update_dossier(dossier.pk, by=request.user, changes={"scenario": form.cleaned_data["scenario"]})
        except InvalidInput as invalid:
            form.add_service_errors(invalid.errors)
        else:
            messages.success(request, _("Scénario enregistré."))
            return redirect("dossier-detail", pk=pk)
    return render_detail(request, pk, scenario_form=form, status=400)


@require_POST
@member_required(role=Role.MANAGER)
def settings_change(request: HttpRequest, pk: int) -> HttpResponse:
    """Declared FINESS, installed version and maintenance contract, through the service (each change logged)."""
    dossier = own_dossier(request, pk)
    form = DossierSettingsForm(request.POST)
    if form.is_valid():
        try:
            services.update_dossier(dossier.pk, by=request.user, changes=dict(form.cleaned_data))
        except InvalidInput as invalid:
            form.add_service_errors(invalid.errors)
        else:
            messages.success(request, _("Installation enregistrée."))
            return redirect("dossier-detail", pk=pk)
    return render_detail(request, pk, settings_form=form, status=400)
