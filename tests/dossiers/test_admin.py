"""The staff admin: every page answers, the changelist has a fixed query budget, steps go through the service."""
from datetime import date
from decimal import Decimal

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dossiers import services
from dossiers.models import AuditEntry
from dossiers.models import (
    Dossier, IdempotencyRecord, Notification, OutboxMessage, PortabilityRequest, PvPilote, SolutionChange, State,
)
from faqref.models import Entry, Revision, RuleLink, Source, Vote
from organisations.models import ApiToken
from reports.models import DigestSent, ExportJob, ReminderSent

from ..factories import (
    ClientFactory, MembershipFactory, PvPiloteFactory, SolutionFactory, UserFactory, next_finess, pdf_upload, walk_to,
)

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:dossiers_dossier_changelist")


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


@pytest.fixture
def one_of_everything(manager_membership):
    """At least one row of every model the admin registers."""
    dossier = walk_to(State.AVANCE_PAID, membership=manager_membership)
    services.add_amendment(dossier.pk, by=manager_membership.user, filed_on=date(2024, 5, 10),
                           amount=Decimal("12000.00"))
    walk_to(State.SOLDE_PAID, membership=manager_membership)   # a PV pilote, invoices, every step
    walk_to(State.DRAFT, membership=manager_membership)        # blocked: no signed order attached yet
    ApiToken.issue(manager_membership)
    IdempotencyRecord.objects.create(organisation=manager_membership.organisation, key="k-1",
                                     request_fingerprint="0" * 64, status_code=200, body={"ok": True})
    entry = dossier.history.last()
    Notification.objects.create(user=manager_membership.user, organisation=manager_membership.organisation,
                                dossier=dossier, history_entry=entry, message="Avance payée")
    # bulk_create: the FAQ entry's own save() maintains search data this test does not need.
    faq = Entry.objects.bulk_create([Entry(slug="avance-deadline", derived_title="Date limite de l'avance",
                                           text="Respecter la date de fin de dépôt.", fingerprint="f" * 64)])[0]
    revision = Revision.objects.create(entry=faq, number=1, text=faq.text, fingerprint=faq.fingerprint)
    Source.objects.create(entry=faq, revision=revision, file="000.txt", position=0, line=1)
    RuleLink.objects.create(rule="avance.deadline", entry=faq)
    Vote.objects.create(entry=faq, user=manager_membership.user, organisation=manager_membership.organisation,
                        useful=True)
    Group.objects.create(name="Support")
    organisation, user = manager_membership.organisation, manager_membership.user
    PortabilityRequest.objects.create(client=dossier.client, requested_on=date(2024, 9, 1))
    SolutionChange.objects.create(solution=dossier.solution, changed_on=date(2024, 9, 2), description="v5.3",
                                  affects_conformity=True)
    DigestSent.objects.create(user=user, organisation=organisation, day=date(2024, 9, 3))
    AuditEntry.objects.create(organisation=organisation, client=dossier.client, user=user, action="updated",
                              changes=[{"field": "vat_liable", "before": True, "after": False}])
    ReminderSent.objects.create(user=user, organisation=organisation, day=date(2024, 9, 3))
    OutboxMessage.objects.create(task_name="dossiers.tasks.notify_history_entry", args=[entry.pk])
    ExportJob.objects.create(organisation=organisation, user=user, kind=ExportJob.Kind.choices[0][0])
    from organisations import services as membership_services
    membership_services.invite_member(organisation=organisation, email="invite@example.fr", role="viewer",
                                      by=user, link=str)
    from webhooks.models import Delivery, Endpoint

    endpoint = Endpoint.objects.create(organisation=organisation, url="https://crm.example.org/hook", events=["*"])
    Delivery.objects.create(endpoint=endpoint, event="dossier.updated", dossier=dossier, history_entry=entry)
    # django-axes' sign-in records, which staff read to lift a lockout.
    seen = {"user_agent": "test", "ip_address": "203.0.113.7", "username": "lea", "http_accept": "*/*",
            "path_info": "/login/"}
    AccessAttempt.objects.create(**seen, get_data="", post_data="", failures_since_start=1)
    AccessLog.objects.create(**seen)
    AccessFailureLog.objects.create(**seen, locked_out=False)
    return dossier


def test_every_registered_model_has_a_working_changelist_and_change_page(admin_client, one_of_everything):
    assert len(admin.site._registry) >= 18
    for model in admin.site._registry:
        changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert admin_client.get(changelist).status_code == 200, changelist
        obj = model._default_manager.order_by("pk").first()
        assert obj is not None, f"no {model.__name__} to open"
        assert admin_client.get(change_url(obj)).status_code == 200, change_url(obj)


def test_api_tokens_show_their_prefix_and_never_their_digest(admin_client, manager_membership):
    token, key = ApiToken.issue(manager_membership)
    for url in (reverse("admin:organisations_apitoken_changelist"), change_url(token)):
        content = admin_client.get(url).content.decode()
        assert f"{token.prefix}…" in content
        assert token.digest not in content and key not in content
    assert admin_client.get(reverse("admin:organisations_apitoken_add")).status_code == 403


def changelist_query_count(admin_client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    return len(queries.captured_queries)


def make_dossiers(count: int, memberships) -> None:
    for index in range(count):
        membership = memberships[index % len(memberships)]
        organisation = membership.organisation
        services.create_dossier(organisation=organisation, by=membership.user,
                                client=ClientFactory(organisation=organisation),
                                solution=SolutionFactory(organisation=organisation))


def test_the_dossier_changelist_runs_a_constant_number_of_queries(admin_client, django_assert_num_queries):
    memberships = [MembershipFactory(), MembershipFactory()]
    make_dossiers(5, memberships)
    admin_client.get(CHANGELIST)   # warm the session and the content types
    with_five = changelist_query_count(admin_client)
    make_dossiers(25, memberships)
    with django_assert_num_queries(with_five):
        response = admin_client.get(CHANGELIST)
    assert response.context["cl"].result_count == 30


def test_the_changelist_filters_by_state_and_searches_by_client_identifier(admin_client, manager_membership):
    filed = walk_to(State.AVANCE_FILED, membership=manager_membership)
    draft = walk_to(State.DRAFT, membership=manager_membership)
    by_state = admin_client.get(CHANGELIST, {"state__exact": State.AVANCE_FILED})
    assert list(by_state.context["cl"].result_list) == [filed]
    by_finess = admin_client.get(CHANGELIST, {"q": draft.client.finess_geo})
    assert list(by_finess.context["cl"].result_list) == [draft]


def form_values(form) -> dict:
    values = {form.add_prefix(name): form.initial.get(name, field.initial) for name, field in form.fields.items()}
    return {name: "" if value is None else value for name, value in values.items() if value is not False}


def post_data_from(response, **changes) -> dict:
    """The change form as the browser would post it back (inline forms and management forms included)."""
    data = form_values(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update({f"{formset.prefix}-{name}": formset.management_form.initial[name]
                     for name in formset.management_form.fields})
        for form in formset.initial_forms:
            data.update(form_values(form))
    data.update(changes)
    return data


def blockers(dossier) -> set[str]:
    return set(dossier.blockers.values_list("rule", flat=True))


def test_the_state_and_step_data_cannot_be_changed_from_the_change_page(admin_client, manager_membership):
    dossier = walk_to(State.AVANCE_FILED, membership=manager_membership)
    page = admin_client.get(change_url(dossier))
    assert set(page.context["adminform"].form.fields) == {"reference", "scenario"}
    response = admin_client.post(change_url(dossier), post_data_from(
        page, reference="REF-ADMIN-1", state=State.SOLDE_PAID, bdc_signer_name="Quelqu'un", declared_amount="1.00"))
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.state == State.AVANCE_FILED
    assert dossier.bdc_signer_name == "Paul Durand" and dossier.declared_amount == Decimal("10000.00")
    assert dossier.reference == "REF-ADMIN-1"
    last = dossier.history.order_by("-seq").first()
    assert (last.action, last.data["to"]) == ("change_reference", "REF-ADMIN-1")


def test_the_scenario_is_read_only_once_the_solde_is_filed(admin_client, manager_membership):
    dossier = walk_to(State.SOLDE_FILED, membership=manager_membership)
    page = admin_client.get(change_url(dossier))
    assert set(page.context["adminform"].form.fields) == {"reference"}


def test_adding_a_dossier_goes_through_the_service(admin_client, manager_membership):
    organisation = manager_membership.organisation
    client, solution = ClientFactory(organisation=organisation), SolutionFactory(organisation=organisation)
    response = admin_client.post(reverse("admin:dossiers_dossier_add"), {
        "organisation": organisation.pk, "client": client.pk, "solution": solution.pk, "reference": "",
        "scenario": "Scénario 2"})
    assert response.status_code == 302
    dossier = Dossier.objects.get(client=client)
    assert dossier.reference == f"SEG-{dossier.pk:06d}" and dossier.dispositif_id == solution.dispositif_id
    assert list(dossier.history.values_list("action", flat=True)) == ["create"]


def test_adding_a_dossier_with_another_organisations_client_is_refused(admin_client, manager_membership):
    stranger = ClientFactory(organisation=MembershipFactory().organisation)
    solution = SolutionFactory(organisation=manager_membership.organisation)
    response = admin_client.post(reverse("admin:dossiers_dossier_add"), {
        "organisation": manager_membership.organisation_id, "client": stranger.pk, "solution": solution.pk,
        "reference": "", "scenario": ""})
    assert response.status_code == 200
    assert "client" in response.context["adminform"].form.errors
    assert not Dossier.objects.exists()


def test_dossiers_cannot_be_deleted_from_the_admin(admin_client, manager_membership):
    dossier = walk_to(State.DRAFT, membership=manager_membership)
    url = reverse("admin:dossiers_dossier_delete", args=[dossier.pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert Dossier.objects.filter(pk=dossier.pk).exists()


def test_the_change_page_shows_blocking_rules_the_checklist_and_the_history(admin_client, manager_membership):
    organisation = manager_membership.organisation
    unreferenced = SolutionFactory(organisation=organisation, referenced_on=None, proofs_submitted_on=date(2024, 3, 1))
    dossier = walk_to(State.BDC_SIGNED, membership=manager_membership, solution=unreferenced)
    content = admin_client.get(change_url(dossier)).content.decode()
    assert "avance.solution_referenced" in content          # blocks file_avance
    assert "cancel.honour_statement" in content             # blocks request_cancellation
    assert "solde.pv_pilote" in content and "solde.invoice_document" in content   # the pre-solde checklist
    assert "Chaîne d'empreintes intègre" in content
    assert "Signature du BDC" in content                    # the history


def test_the_checklist_of_a_filed_solde_checks_the_filed_invoice(admin_client, manager_membership):
    dossier = walk_to(State.SOLDE_FILED, membership=manager_membership)
    content = admin_client.get(change_url(dossier)).content.decode()
    assert f"Solde déposé le {dossier.solde_filed_on:%d/%m/%Y}" in content
    assert "À renseigner : Facture au nom du signataire de la VA" not in content


@pytest.mark.parametrize("action, start, end", [
    ("validate_avance", State.AVANCE_FILED, State.AVANCE_VALIDATED),
    ("validate_solde", State.SOLDE_FILED, State.SOLDE_VALIDATED),
    ("confirm_cancellation", State.CANCELLATION_REQUESTED, State.CANCELLED),
])
def test_each_transition_action_runs_through_the_service(admin_client, manager_membership, action, start, end):
    ready = walk_to(start, membership=manager_membership)
    wrong_state = walk_to(State.DRAFT, membership=manager_membership)
    seq_before = ready.history_seq
    response = admin_client.post(CHANGELIST, {"action": action, "_selected_action": [ready.pk, wrong_state.pk]},
                                 follow=True)
    assert response.status_code == 200
    ready.refresh_from_db()
    wrong_state.refresh_from_db()
    assert ready.state == end
    entry = ready.history.get(seq=seq_before + 1)
    assert (entry.action, entry.from_state, entry.to_state, entry.username) == (action, start, end, "admin")
    assert entry.data["on"] == timezone.localdate().isoformat()
    assert wrong_state.state == State.DRAFT and wrong_state.history_seq == 1
    notes = {m.level_tag: str(m) for m in get_messages(response.wsgi_request)}
    assert ready.reference in notes["success"]
    assert wrong_state.reference in notes["error"] and "[state.transition_not_allowed]" in notes["error"]


def test_an_action_refused_for_several_dossiers_reports_each_one(admin_client, manager_membership):
    first, second = (walk_to(State.BDC_SIGNED, membership=manager_membership) for _ in range(2))
    response = admin_client.post(CHANGELIST, {"action": "validate_avance", "_selected_action": [first.pk, second.pk]},
                                 follow=True)
    errors = [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "error"]
    assert len(errors) == 2
    assert all("[state.transition_not_allowed]" in e for e in errors)
    assert {first.reference, second.reference} == {e.split(" : ")[0] for e in errors}


def test_staff_without_a_role_in_the_organisation_cannot_run_a_transition(client, manager_membership):
    dossier = walk_to(State.AVANCE_FILED, membership=manager_membership)
    staff = UserFactory(username="support", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__in=["view_dossier", "change_dossier"]))
    client.force_login(staff)
    response = client.post(CHANGELIST, {"action": "validate_avance", "_selected_action": [dossier.pk]}, follow=True)
    errors = [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "error"]
    assert errors and "rôle" in errors[0]
    dossier.refresh_from_db()
    assert dossier.state == State.AVANCE_FILED


def test_a_pv_pilote_added_inline_goes_through_the_upload_checks(admin_client, manager_membership):
    solution = SolutionFactory(organisation=manager_membership.organisation)
    page = admin_client.get(change_url(solution))
    data = post_data_from(page, **{"pv_pilotes-TOTAL_FORMS": 1, "pv_pilotes-0-signed_on": "2024-06-01",
                                   "pv_pilotes-0-status": "validated", "pv_pilotes-0-solution": solution.pk})
    not_a_pdf = pdf_upload("pv.pdf", b"not a pdf")
    refused = admin_client.post(change_url(solution), {**data, "pv_pilotes-0-upload": not_a_pdf})
    assert refused.status_code == 200 and not PvPilote.objects.exists()
    accepted = admin_client.post(change_url(solution), {**data, "pv_pilotes-0-upload": pdf_upload("pv.pdf")})
    assert accepted.status_code == 302
    pv = PvPilote.objects.get(solution=solution)
    assert pv.status == "validated" and len(pv.sha256) == 64 and pv.size > 0


def test_a_client_saved_in_the_admin_goes_through_the_service_and_refreshes_blockers(
        admin_client, manager_membership, django_capture_on_commit_callbacks):
    client = ClientFactory(organisation=manager_membership.organisation, finess_geo="", siret="")
    dossier = walk_to(State.DRAFT, membership=manager_membership, client=client)
    assert "client.identified" in blockers(dossier)
    finess = next_finess()
    page = admin_client.get(change_url(client))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(change_url(client), post_data_from(page, finess_geo=f"{finess[:3]} {finess[3:]}"))
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.finess_geo == finess
    assert "client.identified" not in blockers(dossier)


def test_a_client_with_an_invalid_finess_is_refused_with_the_reason(admin_client, manager_membership):
    response = admin_client.post(reverse("admin:dossiers_client_add"), {
        "organisation": manager_membership.organisation_id, "name": "Clinique du Lac", "kind": "es",
        "department": "75", "vat_liable": "on", "finess_geo": "750000016"})
    assert response.status_code == 200
    assert "clé de contrôle" in str(response.context["adminform"].form.errors["finess_geo"])


def test_validating_a_pv_pilote_in_the_admin_unblocks_the_solde(admin_client, manager_membership,
                                                                 django_capture_on_commit_callbacks):
    dossier = walk_to(State.VA_SIGNED, membership=manager_membership)
    pv = PvPiloteFactory(solution=dossier.solution, status=PvPilote.Status.PENDING)
    assert "solde.pv_pilote" in blockers(dossier)
    page = admin_client.get(change_url(dossier.solution))
    data = post_data_from(page, **{"pv_pilotes-0-status": "validated"})
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(change_url(dossier.solution), data)
    assert response.status_code == 302
    pv.refresh_from_db()
    assert pv.status == PvPilote.Status.VALIDATED
    assert "solde.pv_pilote" not in blockers(dossier)


def test_staff_without_a_role_cannot_save_an_organisations_client(client, manager_membership):
    customer = ClientFactory(organisation=manager_membership.organisation)
    staff = UserFactory(username="support", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__in=["view_client", "change_client"]))
    client.force_login(staff)
    page = client.get(change_url(customer))
    response = client.post(change_url(customer), post_data_from(page, name="Nouveau nom"))
    assert response.status_code == 200 and "rôle" in str(response.context["adminform"].form.non_field_errors())
    customer.refresh_from_db()
    assert customer.name != "Nouveau nom"


def test_a_user_who_is_not_staff_is_sent_to_the_admin_login(client, manager):
    client.force_login(manager)
    response = client.get(CHANGELIST)
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
