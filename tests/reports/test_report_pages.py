"""Report pages: deadlines, pending VA (exports, background export jobs), pipeline, notifications."""
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dossiers import counters, deadlines
from dossiers.models import Dossier, Notification, State
from dossiers.rules import money
from reports import queries
from reports.models import ExportJob
from reports.tasks import run_export

from ..factories import walk_to
from ..pages.conftest import signed_in

AGES = [5, 10, 45, 75, 120]   # buckets 0-30: 2, 31-60: 1, 61-90: 1, 90+: 1; overdue (> 30 days): 3


def deploy(membership, ages):
    """Deployed dossiers (VA awaited) whose deployment is `ages` days old (Europe/Paris)."""
    today = timezone.localdate()
    dossiers = []
    for age in ages:
        dossier = walk_to(State.DEPLOYED, membership=membership)
        Dossier.objects.filter(pk=dossier.pk).update(deployed_on=today - timedelta(days=age))
        deadlines.keep(dossier_ids=[dossier.pk])  # the date written past the writer
        dossier.refresh_from_db()
        dossiers.append(dossier)
    counters.rebuild(membership.organisation)  # the dates written past the writer: the kept pending-VA cells too
    return dossiers


def bucket_counts(html):
    return {label: int(count) for label, count in
            re.findall(r'class="chart__bar chart__bar--\d" data-label="([^"]+)" data-count="(\d+)"', html)}


def stat(html, name):
    return re.search(rf'id="{name}">([^<]*)<', html).group(1)


def count_queries(browser, url):
    with CaptureQueriesContext(connection) as captured:
        response = browser.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured.captured_queries)


@pytest.fixture
def deployed(manager_membership):
    return deploy(manager_membership, AGES)


# --- pending VA -------------------------------------------------------------------------------------------------------

def test_pending_va_page_shows_totals_buckets_dispositifs_and_oldest_first(deployed, as_viewer, organisation):
    response = as_viewer.get(reverse("report-pending-va"))
    assert response.status_code == 200
    html = response.content.decode()
    assert stat(html, "total") == "5"
    assert stat(html, "overdue") == "3"
    expected = queries.pending_va_summary(queries.pending_va_queryset(organisation.pk), timezone.localdate())
    assert expected["amount_at_stake"] > 0
    assert stat(html, "at-stake") == money(expected["amount_at_stake"])   # « 12 345,67 € »
    assert "," in stat(html, "at-stake") and "€" in stat(html, "at-stake")
    assert bucket_counts(html) == {"0-30": 2, "31-60": 1, "61-90": 1, "90+": 1}
    assert 'role="img"' in html and '<title id="ages-chart-title">' in html
    # by dispositif: every dossier of the factories shares one dispositif
    code = deployed[0].dispositif.code
    assert re.search(rf'<th scope="row">{re.escape(code)}</th><td class="num">5</td>', html)
    # oldest deployment first, overdue rows highlighted, each row linking to its dossier
    positions = [html.index(f'href="/dossiers/{d.pk}/"') for d in sorted(deployed, key=lambda d: d.deployed_on)]
    assert positions == sorted(positions)
    assert html.count('class="row--overdue"') == 3
    # exports: the API routes with the filters, and the background export form
    assert 'href="/api/v1/reports/pending-va/export.csv"' in html
    assert 'href="/api/v1/reports/pending-va/export.xlsx"' in html
    assert f'action="{reverse("report-export-create")}"' in html
    assert 'for="export-format"' in html and 'for="id_couloir"' in html


def test_pending_va_filters_narrow_the_report(deployed, as_manager):
    target = deployed[2]
    html = as_manager.get(reverse("report-pending-va"), {"solution": target.solution_id}).content.decode()
    assert stat(html, "total") == "1"
    assert bucket_counts(html) == {"0-30": 0, "31-60": 1, "61-90": 0, "90+": 0}
    assert f'export.csv?solution={target.solution_id}"' in html
    assert f'<input type="hidden" name="solution" value="{target.solution_id}">' in html
    html = as_manager.get(reverse("report-pending-va"), {"dispositif": target.dispositif.code,
                                                         "couloir": target.dispositif.couloir_id}).content.decode()
    assert stat(html, "total") == "5"
    html = as_manager.get(reverse("report-pending-va"), {"couloir": "inexistant"}).content.decode()
    assert "Sélectionnez un choix valide" in html


def test_pending_va_paginates_the_rows(manager_membership, as_manager):
    deploy(manager_membership, [40 + i for i in range(27)])
    html = as_manager.get(reverse("report-pending-va")).content.decode()
    assert stat(html, "total") == "27"
    assert html.count('class="row--overdue"') == 25
    assert "Page 1 sur 2" in html
    html = as_manager.get(reverse("report-pending-va"), {"page": 2}).content.decode()
    assert html.count('class="row--overdue"') == 2


@pytest.mark.parametrize("params, message", [
    ({"solution": "abc"}, "Un nombre entier valide est requis."),
    ({"solution": "0"}, "Assurez-vous que cette valeur est supérieure ou égale à\xa01."),
    ({"solution": "999999999"}, "Sélectionnez un choix valide"),
])
def test_pending_va_bad_filters_are_a_400_in_french(deployed, as_manager, params, message):
    response = as_manager.get(reverse("report-pending-va"), params)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert "Les filtres ne sont pas valides" in html


def test_another_organisations_pending_va_is_absent(deployed, as_outsider, outsider_membership):
    mine = deploy(outsider_membership, [50])
    html = as_outsider.get(reverse("report-pending-va")).content.decode()
    assert stat(html, "total") == "1"
    assert f'href="/dossiers/{mine[0].pk}/"' in html
    for dossier in deployed:
        assert f'/dossiers/{dossier.pk}/' not in html
    # another organisation's solution is not a choice: 400, nothing of theirs shown
    response = as_outsider.get(reverse("report-pending-va"), {"solution": deployed[0].solution_id})
    assert response.status_code == 400
    assert deployed[0].reference not in response.content.decode()


def test_platform_staff_see_every_organisation_and_filter_on_one(deployed, admin_membership, outsider_membership,
                                                                 other_organisation):
    deploy(outsider_membership, [50])
    admin_membership.user.is_staff = True
    admin_membership.user.save()
    staff = signed_in(admin_membership)
    html = staff.get(reverse("report-pending-va")).content.decode()
    assert stat(html, "total") == "6"
    assert 'for="id_organisation"' in html and "Éditeur Bêta" in html
    html = staff.get(reverse("report-pending-va"), {"organisation": other_organisation.pk}).content.decode()
    assert stat(html, "total") == "1"
    pipeline = staff.get(reverse("report-pipeline")).content.decode()
    assert f'data-label="{State.DEPLOYED.label}" data-count="6"' in pipeline
    # members cannot widen their scope with the organisation filter
    member = signed_in(outsider_membership)
    html = member.get(reverse("report-pending-va"), {"organisation": admin_membership.organisation_id}).content.decode()
    assert stat(html, "total") == "1"
    assert 'id="id_organisation"' not in html


# --- background export jobs -------------------------------------------------------------------------------------------

def test_a_viewer_starts_a_background_export_and_follows_it(deployed, as_viewer, viewer_membership):
    target = deployed[0]
    response = as_viewer.post(reverse("report-export-create"), {"format": "xlsx", "solution": target.solution_id})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('report-pending-va')}?solution={target.solution_id}#export-status"
    job = ExportJob.objects.get()
    assert (job.organisation_id, job.user_id, job.kind, job.format, job.params) == (
        viewer_membership.organisation_id, viewer_membership.user_id, "pending_va", "xlsx",
        {"solution": target.solution_id})
    # the page shows the member's latest job, polling while it is queued
    html = as_viewer.get(reverse("report-pending-va")).content.decode()
    assert f'hx-get="{reverse("report-export-status", args=[job.pk])}" hx-trigger="every 2s"' in html
    status = as_viewer.get(reverse("report-export-status", args=[job.pk])).content.decode()
    assert "En attente" in status and "every 2s" in status
    run_export(job.pk)
    status = as_viewer.get(reverse("report-export-status", args=[job.pk])).content.decode()
    assert "every 2s" not in status
    assert f'href="{reverse("reports:export-download", args=[job.pk])}"' in status
    assert "1 ligne" in status
    download = as_viewer.get(reverse("reports:export-download", args=[job.pk]))
    assert download.status_code == 200


def test_the_htmx_export_answers_the_status_fragment(deployed, as_manager):
    response = as_manager.post(reverse("report-export-create"), {"format": "csv"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 202
    job = ExportJob.objects.get()
    html = response.content.decode()
    assert f'hx-get="{reverse("report-export-status", args=[job.pk])}"' in html
    assert "<html" not in html


def test_a_bad_export_request_is_a_400_in_french(as_manager):
    response = as_manager.post(reverse("report-export-create"), {"format": "pdf"})
    assert response.status_code == 400
    assert "n&#x27;est pas un choix valide" in response.content.decode()
    assert not ExportJob.objects.exists()


def test_another_organisations_export_job_is_404(deployed, as_manager, as_outsider):
    as_manager.post(reverse("report-export-create"), {"format": "csv"})
    job = ExportJob.objects.get()
    run_export(job.pk)
    assert as_outsider.get(reverse("report-export-status", args=[job.pk])).status_code == 404
    assert as_outsider.get(reverse("reports:export-download", args=[job.pk])).status_code == 404
    assert f"/rapports/exports/{job.pk}/" not in as_outsider.get(reverse("report-pending-va")).content.decode()


def test_posts_need_the_csrf_token(manager_membership):
    browser = signed_in(manager_membership, enforce_csrf_checks=True)
    Notification.objects.create(user=manager_membership.user, organisation=manager_membership.organisation,
                                message="Dossier X : déployé.")
    for url in (reverse("report-export-create"), reverse("notifications-read-all")):
        response = browser.post(url, {"format": "csv"})
        assert response.status_code == 403, url
        assert "jeton de sécurité" in response.content.decode()
    assert not ExportJob.objects.exists()
    assert Notification.objects.filter(read_at__isnull=True).count() == 1
    browser.get(reverse("notifications"))
    token = browser.cookies["csrftoken"].value
    assert browser.post(reverse("notifications-read-all"), {"csrfmiddlewaretoken": token}).status_code == 302
    assert browser.post(reverse("report-export-create"),
                        {"format": "csv", "csrfmiddlewaretoken": token}).status_code == 302


# --- pipeline ---------------------------------------------------------------------------------------------------------

def test_pipeline_shows_count_and_amount_per_state(deployed, manager_membership, as_viewer, outsider_membership):
    walk_to(State.AVANCE_PAID, membership=manager_membership)
    deploy(outsider_membership, [3, 4])   # not counted
    response = as_viewer.get(reverse("report-pipeline"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="img"' in html and '<title id="pipeline-chart-title">' in html
    assert f'data-label="{State.DEPLOYED.label}" data-count="5"' in html
    assert f'data-label="{State.AVANCE_PAID.label}" data-count="1"' in html
    assert f'data-label="{State.DRAFT.label}" data-count="0"' in html
    rows = {row["state"]: row for row in queries.pipeline(manager_membership.organisation_id)}
    assert money(rows[State.DEPLOYED]["declared_amount"]) in html
    assert "6 dossiers par état" in html
    narrowed = as_viewer.get(reverse("report-pipeline"), {"solution": deployed[0].solution_id}).content.decode()
    assert f'data-label="{State.DEPLOYED.label}" data-count="1"' in narrowed
    assert as_viewer.get(reverse("report-pipeline"), {"solution": "x"}).status_code == 400


# --- deadlines --------------------------------------------------------------------------------------------------------

def test_deadlines_soonest_first_overdue_highlighted_linked(deployed, as_viewer, outsider_membership):
    theirs = deploy(outsider_membership, [60])
    response = as_viewer.get(reverse("deadlines"), {"kind": "pending_va"})
    assert response.status_code == 200
    html = response.content.decode()
    # due = deployed_on + 30 days: the oldest deployment is the most overdue, listed first
    order = [html.index(f'<a href="/dossiers/{d.pk}/">') for d in sorted(deployed, key=lambda d: d.deployed_on)]
    assert order == sorted(order)
    assert html.count("row--overdue") == 3
    assert "en retard de 90 jours" in html and "dans 25 jours" in html
    assert f'href="/clients/{deployed[0].client_id}/"' in html
    assert f'href="/solutions/{deployed[0].solution_id}/"' in html
    assert f"/dossiers/{theirs[0].pk}/" not in html
    assert "5 échéances" in html


def test_deadlines_filter_on_a_date(deployed, as_viewer):
    until = (timezone.localdate() + timedelta(days=21)).isoformat()
    html = as_viewer.get(reverse("deadlines"), {"kind": "pending_va", "due_before": until}).content.decode()
    assert "4 échéances" in html   # the one due in 25 days is left out, overdue ones kept
    assert f'/dossiers/{deployed[0].pk}/"' not in html
    # the French date format is accepted too
    french = (timezone.localdate() + timedelta(days=21)).strftime("%d/%m/%Y")
    assert "4 échéances" in as_viewer.get(reverse("deadlines"), {"kind": "pending_va", "due_before": french}
                                          ).content.decode()


@pytest.mark.parametrize("params, message", [
    ({"due_before": "2024-13-45"}, "Saisissez une date valide, au format JJ/MM/AAAA ou AAAA-MM-JJ."),
    ({"due_before": "demain"}, "Saisissez une date valide"),
    ({"kind": "anniversaire"}, "Sélectionnez un choix valide"),
])
def test_deadlines_bad_input_is_a_400_in_french(as_viewer, params, message):
    response = as_viewer.get(reverse("deadlines"), params)
    assert response.status_code == 400
    assert message in response.content.decode()


# --- notifications ----------------------------------------------------------------------------------------------------

def test_notifications_newest_first_unread_highlighted_mark_all_read(deployed, manager_membership, viewer_membership,
                                                                     as_viewer):
    me, org = viewer_membership.user, viewer_membership.organisation
    old = Notification.objects.create(user=me, organisation=org, dossier=deployed[0], message="Ancienne",
                                      read_at=timezone.now())
    new = Notification.objects.create(user=me, organisation=org, dossier=deployed[1], message="Nouvelle")
    Notification.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    # A member since before both (only the notifications since a member joined are shown: dossiers.queries).
    type(viewer_membership).objects.filter(pk=viewer_membership.pk).update(
        created_at=timezone.now() - timedelta(days=3))
    someone_else = Notification.objects.create(user=manager_membership.user, organisation=org, message="Pas pour moi")
    html = as_viewer.get(reverse("notifications")).content.decode()
    assert html.index("Nouvelle") < html.index("Ancienne")
    assert html.count("notification--unread") == 1
    assert "1 non lue" in html and "Pas pour moi" not in html
    assert f'href="/dossiers/{deployed[1].pk}/"' in html
    assert "Tout marquer comme lu" in html
    badge = as_viewer.get(reverse("notifications-unread")).content.decode()
    assert '<span class="nav-badge">1' in badge
    # a viewer marks their own notifications as read (their own data)
    response = as_viewer.post(reverse("notifications-read-all"))
    assert response.status_code == 302
    new.refresh_from_db()
    someone_else.refresh_from_db()
    assert new.read_at is not None and someone_else.read_at is None
    html = as_viewer.get(reverse("notifications")).content.decode()
    assert "notification--unread" not in html and "Tout marquer comme lu" not in html
    assert as_viewer.get(reverse("notifications-unread")).content.decode().strip() == ""


def test_notifications_are_paginated_and_of_the_current_organisation(viewer_membership, outsider_membership,
                                                                     as_viewer):
    me = viewer_membership.user
    Notification.objects.bulk_create([Notification(user=me, organisation=viewer_membership.organisation,
                                                   message=f"Message {i}") for i in range(30)])
    Notification.objects.create(user=me, organisation=outsider_membership.organisation, message="Autre organisation")
    html = as_viewer.get(reverse("notifications")).content.decode()
    assert html.count('class="notification ') == 25 and "Page 1 sur 2" in html
    assert "30 non lues" in html and "Autre organisation" not in html
    assert as_viewer.get(reverse("notifications"), {"page": 2}).content.decode().count('class="notification ') == 5


def test_the_navigation_loads_the_unread_badge_without_a_query(as_viewer):
    html = as_viewer.get(reverse("home")).content.decode()
    assert f'hx-get="{reverse("notifications-unread")}" hx-trigger="load"' in html
    assert f'href="{reverse("deadlines")}"' in html and f'href="{reverse("report-pending-va")}"' in html


# --- queries ----------------------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_each_page_answers_in_a_fixed_number_of_queries(manager_membership, viewer_membership, as_viewer):

    def grow(n):
        have = Dossier.objects.filter(state=State.DEPLOYED).count()
        deploy(manager_membership, [(7 * i) % 130 for i in range(have, n)])
        Notification.objects.bulk_create([
            Notification(user=viewer_membership.user, organisation=viewer_membership.organisation,
                         dossier=dossier, message=f"Dossier {dossier.pk}", read_at=None if i % 2 else timezone.now())
            for i, dossier in enumerate(Dossier.objects.exclude(pk__in=Notification.objects.values("dossier_id")))])
        job = ExportJob.objects.create(organisation=viewer_membership.organisation, user=viewer_membership.user,
                                       kind=ExportJob.Kind.PENDING_VA)
        return job

    def urls(job):
        return {
            "deadlines": reverse("deadlines"), "pending-va": reverse("report-pending-va"),
            "pending-va-filtered": reverse("report-pending-va") + "?couloir=" + Dossier.objects.first().dispositif.couloir_id,
            "pipeline": reverse("report-pipeline"), "notifications": reverse("notifications"),
            "unread": reverse("notifications-unread"), "export-status": reverse("report-export-status", args=[job.pk]),
        }

    job = grow(2)
    small = {name: count_queries(as_viewer, url) for name, url in urls(job).items()}
    job = grow(20)
    large = {name: count_queries(as_viewer, url) for name, url in urls(job).items()}
    assert Dossier.objects.filter(state=State.DEPLOYED).count() == 20
    assert small == large
    print("queries per page:", large)


def test_platform_staff_without_a_membership_see_the_staff_reports_as_in_the_api(deployed, outsider_membership,
                                                                                django_assert_max_num_queries):
    from django.contrib.auth import get_user_model
    from django.test import Client

    deploy(outsider_membership, [50])
    staff_user = get_user_model().objects.create_user("plateforme", password="segur-test-pw", is_staff=True)
    staff = Client()
    staff.force_login(staff_user)
    with django_assert_max_num_queries(14):
        html = staff.get(reverse("report-pending-va")).content.decode()
    assert stat(html, "total") == "6"
    assert "Lancer un export en arrière-plan" not in html   # exports are jobs of an organisation
    api = staff.get(reverse("reports:pending-va")).json()
    assert api["total"] == 6
    pipeline = staff.get(reverse("report-pipeline"))
    assert pipeline.status_code == 200
    assert f'data-label="{State.DEPLOYED.label}" data-count="6"' in pipeline.content.decode()
    # Staff see reports, not the organisations' pages.
    assert staff.get(reverse("dossier-list")).status_code == 403
    assert staff.get(reverse("dossier-detail", args=[deployed[0].pk])).status_code == 403


def test_a_signed_in_user_who_is_neither_member_nor_staff_gets_403_on_the_reports(deployed):
    from django.contrib.auth import get_user_model
    from django.test import Client

    nobody = Client()
    nobody.force_login(get_user_model().objects.create_user("personne", password="segur-test-pw"))
    for name in ("report-pending-va", "report-pipeline"):
        response = nobody.get(reverse(name))
        assert response.status_code == 403
        assert deployed[0].reference not in response.content.decode()
