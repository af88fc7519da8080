"""Where the project manager looks: the dossier page (statuses, request, revoke, unsigned VA), the dossier list's
filter, and the pending-VA report's figures (page and API)."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from dossiers.models import Document, State
from varequests import services
from varequests.models import VaRequest

from ..factories import pdf_upload, walk_to

pytestmark = pytest.mark.django_db
FORM = {"va-name": "Dr Jeanne Martin", "va-email": "jeanne.martin@clinique.example", "va-message": ""}


def detail(dossier) -> str:
    return reverse("dossier-detail", args=[dossier.pk])


def test_the_dossier_page_shows_each_request_with_its_status_and_the_forms(as_manager, deployed, ask, manager):
    opened, token = ask(deployed, name="Opaline Ouverte")
    services.mark_opened(opened)
    revoked, _t = ask(deployed, name="Rémi Révoqué")
    services.revoke(revoked.pk, by=manager)
    expired, _t = ask(deployed, name="Émile Expiré")
    VaRequest.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=1))
    sent, _t = ask(deployed, name="Sacha Envoyé")
    html = as_manager.get(detail(deployed)).content.decode()
    for name, label in (("Opaline Ouverte", "Ouverte"), ("Rémi Révoqué", "Révoquée"), ("Émile Expiré", "Expirée"),
                        ("Sacha Envoyé", "Envoyée")):
        assert name in html and f">{label}</span>" in html
    assert html.count("Révoquer le lien") == 2  # the open ones only
    assert "Demander la VA" in html and 'name="va-email"' in html
    assert 'value="va_draft"' in html and "Joindre la VA à signer" in html
    assert token not in html  # the link is e-mailed, never shown


def test_a_viewer_sees_the_statuses_but_no_form(as_viewer, deployed, ask):
    ask(deployed, name="Sacha Envoyé")
    html = as_viewer.get(detail(deployed)).content.decode()
    assert "Sacha Envoyé" in html and "Envoyée" in html
    assert "Révoquer le lien" not in html and 'name="va-email"' not in html


def test_the_panel_is_hidden_before_deployment_and_kept_after(as_manager, manager_membership, deployed, ask, manager):
    early = walk_to(State.AVANCE_PAID, membership=manager_membership)
    assert 'id="va-requests"' not in as_manager.get(detail(early)).content.decode()
    va_request, _token = ask(deployed)
    services.return_va(va_request.pk, upload=pdf_upload("va.pdf"))
    html = as_manager.get(detail(deployed)).content.decode()
    assert "Retournée" in html and "Document retourné par le signataire du client" in html
    assert "Retourné par" in html and "Dr Jeanne Martin (jeanne.martin@clinique.example)" in html


def test_a_manager_asks_for_the_va_from_the_dossier_page(as_manager, deployed, django_capture_on_commit_callbacks,
                                                         settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from django.core import mail

    with django_capture_on_commit_callbacks(execute=True):
        response = as_manager.post(reverse("varequests:request-create", args=[deployed.pk]), FORM)
    assert response.status_code == 302 and response["Location"].endswith("#va-requests")
    va_request = VaRequest.objects.get()
    assert (va_request.name, va_request.email, va_request.status) == ("Dr Jeanne Martin",
                                                                     "jeanne.martin@clinique.example", "sent")
    assert [m.to for m in mail.outbox] == [["jeanne.martin@clinique.example"]]
    page = as_manager.get(response["Location"]).content.decode()
    assert "VA demandée à Dr Jeanne Martin" in page


def test_bad_input_on_the_page_is_a_french_error_and_saves_nothing(as_manager, deployed):
    response = as_manager.post(reverse("varequests:request-create", args=[deployed.pk]),
                               {**FORM, "va-email": "pas-une-adresse", "va-name": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Saisissez une adresse e-mail valide." in html and "Ce champ est obligatoire." in html
    assert not VaRequest.objects.exists()


def test_a_dossier_not_deployed_is_refused_on_the_page(as_manager, manager_membership):
    dossier = walk_to(State.VA_SIGNED, membership=manager_membership)
    response = as_manager.post(reverse("varequests:request-create", args=[dossier.pk]), FORM)
    assert response.status_code == 409
    assert "Une VA ne peut être demandée que pour un dossier déployé" in response.content.decode()
    assert not VaRequest.objects.exists()


def test_a_viewer_gets_403_and_another_organisation_404_on_every_write(as_viewer, as_outsider, deployed, ask):
    va_request, _token = ask(deployed)
    create = reverse("varequests:request-create", args=[deployed.pk])
    revoke = reverse("varequests:request-revoke", args=[va_request.pk])
    assert as_viewer.post(create, FORM).status_code == 403
    assert as_viewer.post(revoke).status_code == 403
    assert as_outsider.post(create, FORM).status_code == 404
    assert as_outsider.post(revoke).status_code == 404
    assert as_outsider.get(detail(deployed)).status_code == 404
    assert VaRequest.objects.count() == 1 and VaRequest.objects.get().status == "sent"


def test_a_manager_revokes_a_link_from_the_dossier_page(as_manager, client, deployed, ask):
    va_request, token = ask(deployed)
    response = as_manager.post(reverse("varequests:request-revoke", args=[va_request.pk]))
    assert response.status_code == 302
    va_request.refresh_from_db()
    assert va_request.status == "revoked"
    assert client.get(reverse("varequests:sign", args=[token])).status_code == 404


def test_the_unsigned_va_is_attached_from_the_panel(as_manager, deployed):
    response = as_manager.post(reverse("dossier-document-upload", args=[deployed.pk]),
                               {"kinds": "va_draft", "kind": "va_draft", "file": pdf_upload("VA à signer.pdf")})
    assert response.status_code == 302
    assert Document.objects.filter(dossier=deployed, kind="va_draft").count() == 1
    assert "1 VA à signer jointe" in as_manager.get(detail(deployed)).content.decode()


def test_the_dossier_page_keeps_its_query_budget(as_manager, deployed, ask, django_assert_max_num_queries):
    for count in (2, 12):
        while VaRequest.objects.count() < count:
            ask(deployed)
        with django_assert_max_num_queries(11):
            assert as_manager.get(detail(deployed)).status_code == 200


def test_the_dossier_list_filters_va_asked_and_not_returned(as_manager, manager_membership, deployed, ask):
    returned = walk_to(State.DEPLOYED, membership=manager_membership)
    quiet = walk_to(State.DEPLOYED, membership=manager_membership)
    ask(deployed)
    services.return_va(ask(returned)[0].pk, upload=pdf_upload("va.pdf"))
    page = as_manager.get(reverse("dossier-list"), {"va_request": "open"})
    html = page.content.decode()
    assert "VA demandée / non retournée" in html
    assert deployed.reference in html and returned.reference not in html and quiet.reference not in html
    html = as_manager.get(reverse("dossier-list"), {"va_request": "returned"}).content.decode()
    assert returned.reference in html and deployed.reference not in html


# --- the pending-VA report ---------------------------------------------------------------------------------------

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def report_world(manager_membership, ask):
    """Four pending VAs: one asked (open), one whose link expired, two never asked; three returned requests on
    dossiers since signed or still deployed, returned after 2, 4 and 9 days."""
    pending = [walk_to(State.DEPLOYED, membership=manager_membership) for _ in range(4)]
    ask(pending[0])
    expired, _t = ask(pending[1])
    VaRequest.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=1))
    start = datetime(2026, 3, 2, 9, tzinfo=PARIS)
    for days in (2, 4, 9):
        dossier = walk_to(State.DEPLOYED, membership=manager_membership)
        va_request, _t = ask(dossier)
        VaRequest.objects.filter(pk=va_request.pk).update(status="returned", created_at=start,
                                                          returned_at=start + timedelta(days=days))
    return pending


def test_the_report_api_gives_the_share_with_an_open_request_and_the_median_days(api, report_world):
    body = api.get(reverse("reports:pending-va")).json()
    assert body["total"] == 7  # the three returned dossiers are still deployed
    assert body["va_requests_open"] == 1
    assert body["va_requests_open_share"] == round(1 / 7, 3)
    assert body["va_return_median_days"] == 4.0
    assert {"buckets", "by_dispositif", "results", "amount_at_stake"} <= set(body)


def test_the_report_figures_follow_the_filters_and_the_organisation(api, outsider_api, report_world):
    nothing = api.get(reverse("reports:pending-va"), {"dispositif": "HOP-DPI-VA1"}).json()
    assert nothing["total"] == 0 and nothing["va_requests_open_share"] is None
    assert nothing["va_return_median_days"] is None
    other = outsider_api.get(reverse("reports:pending-va")).json()
    assert other["va_requests_open"] == 0 and other["va_return_median_days"] is None


def test_an_open_request_counts_its_dossier_once_and_only_while_its_va_is_awaited(api, report_world, ask,
                                                                                   manager_membership):
    ask(report_world[0])                      # a second open request on the same dossier: still one dossier
    assert api.get(reverse("reports:pending-va")).json()["va_requests_open"] == 1
    signed = walk_to(State.VA_SIGNED, membership=manager_membership)
    VaRequest.objects.filter(pk=ask(report_world[2])[0].pk).update(dossier=signed)   # its dossier no longer pending
    body = api.get(reverse("reports:pending-va")).json()
    assert body["va_requests_open"] == 1 and body["total"] == 7
    ask(report_world[3])                      # asked through the page: counted on the next request
    assert api.get(reverse("reports:pending-va")).json()["va_requests_open"] == 2


def test_the_report_page_shows_the_figures_in_french(as_manager, report_world):
    html = as_manager.get(reverse("report-pending-va")).content.decode()
    assert "des VA en attente ont une demande ouverte (1 dossier)" in html
    assert 'id="va-open-share">14 %' in html
    assert 'id="va-median-days">4 j' in html and "délai médian de retour" in html


def test_the_report_keeps_a_fixed_number_of_queries(api, manager_membership, ask, django_assert_max_num_queries):
    for count in (2, 8):
        while VaRequest.objects.count() < count:
            ask(walk_to(State.DEPLOYED, membership=manager_membership))
        with django_assert_max_num_queries(9):
            assert api.get(reverse("reports:pending-va")).json()["va_requests_open"] == count


def test_the_filtered_list_keeps_a_fixed_number_of_queries(as_manager, manager_membership, ask,
                                                           django_assert_max_num_queries):
    for count in (2, 10):
        while VaRequest.objects.count() < count:
            ask(walk_to(State.DEPLOYED, membership=manager_membership))
        # 10: the list also reads the members its owner filter offers (dossiers/views/team.py).
        with django_assert_max_num_queries(10):
            response = as_manager.get(reverse("dossier-list"), {"va_request": "open"})
        assert response.context["page"].paginator.count == count


def test_the_unfiltered_figures_statement_gives_the_orm_s_figures(report_world, ask, manager_membership,
                                                                  outsider_membership):
    """The report without filter reads its figures in one written-out statement (PostgreSQL); given the report's
    total, it answers what the ORM's two statements answer (total None: the ORM's path, which counts it), another
    organisation's requests and a request whose dossier is no longer pending left out; a new request shows at once."""
    from reports.queries import pending_va_queryset
    from varequests import queries

    outsider_dossier = walk_to(State.DEPLOYED, membership=outsider_membership)
    VaRequest.objects.filter(pk=ask(report_world[1])[0].pk).update(
        organisation=outsider_membership.organisation, dossier=outsider_dossier)   # another organisation's, open
    signed = walk_to(State.VA_SIGNED, membership=manager_membership)
    VaRequest.objects.filter(pk=ask(report_world[2])[0].pk).update(dossier=signed)
    org = manager_membership.organisation_id

    def both():
        pending = pending_va_queryset(org)
        return (queries.pending_va_figures(org, {}, pending, total=pending.count()),
                queries.pending_va_figures(org, {}, pending))

    fast, orm = both()
    assert fast == orm and fast["va_requests_open"] == 1 and fast["va_return_median_days"] == 4.0
    ask(report_world[3])
    fast, orm = both()
    assert fast == orm and fast["va_requests_open"] == 2
    # Filters take the ORM's path: the same answer as the API gives filtered.
    filtered = queries.pending_va_figures(org, {"dispositif": "HOP-DPI-VA1"}, pending_va_queryset(org), total=0)
    assert filtered["va_requests_open_share"] is None
