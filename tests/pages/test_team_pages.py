"""The pages of a team's work: « mes dossiers », reassignment (single and bulk), notes, the activity page."""
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from dossiers.services import team
from dossiers.models import Dossier, HistoryEntry, State
from organisations.models import Role

from ..factories import MembershipFactory, walk_to
from .conftest import signed_in


@pytest.fixture
def colleague(organisation):
    return MembershipFactory(organisation=organisation, role=Role.MANAGER, user__username="camille",
                             user__first_name="Camille", user__last_name="Roux")


@pytest.fixture
def dossiers(manager_membership, colleague):
    """Two of the manager's dossiers, one of the colleague's, one of nobody's."""
    made = [walk_to(State.DRAFT, membership=manager_membership) for _ in range(4)]
    # Each is its creator's (the manager's) until given to another or to nobody.
    for dossier, owner in zip(made, [manager_membership, manager_membership, colleague, None]):
        team.assign_owner(dossier.pk, by=manager_membership.user, owner_id=owner.pk if owner else None)
    return made


def listed(response) -> set[int]:
    return {d.pk for d in response.context["page"].object_list}


def count_queries(browser, url, data=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert browser.get(url, data or {}).status_code == 200
    return len(captured.captured_queries)


# --- « mes dossiers » ------------------------------------------------------------------------------------------------

def test_a_manager_who_owns_dossiers_sees_theirs_first_and_can_see_all(dossiers, as_manager):
    response = as_manager.get(reverse("dossier-list"))
    assert listed(response) == {dossiers[0].pk, dossiers[1].pk}
    html = response.content.decode()
    assert "Mes dossiers</a>" in html and 'aria-current="page">Mes dossiers' in html
    assert "Camille Roux" not in html.split("<tbody>")[1]
    everyone = as_manager.get(response.context["owner"].all_url)
    assert listed(everyone) == {d.pk for d in dossiers}
    assert 'aria-current="page">Tous les dossiers' in everyone.content.decode()


def test_a_manager_who_owns_none_and_a_viewer_see_all_dossiers(dossiers, colleague, as_viewer, organisation):
    newcomer = signed_in(MembershipFactory(organisation=organisation, role=Role.MANAGER))
    assert listed(newcomer.get(reverse("dossier-list"))) == {d.pk for d in dossiers}
    assert listed(as_viewer.get(reverse("dossier-list"))) == {d.pk for d in dossiers}
    assert listed(as_viewer.get(reverse("dossier-list"), {"owner": "me"})) == set()


def test_the_owner_filter_shows_a_colleagues_dossiers_or_those_of_nobody(dossiers, colleague, as_manager):
    assert listed(as_manager.get(reverse("dossier-list"), {"owner": colleague.pk})) == {dossiers[2].pk}
    assert listed(as_manager.get(reverse("dossier-list"), {"owner": "none"})) == {dossiers[3].pk}


@pytest.mark.parametrize("value", ["abc", "999999"])
def test_an_unknown_owner_is_said_in_french_and_all_dossiers_are_shown(dossiers, as_manager, value):
    response = as_manager.get(reverse("dossier-list"), {"owner": value})
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in response.content.decode()
    assert listed(response) == {d.pk for d in dossiers}


def test_another_organisations_member_is_no_owner_choice(dossiers, outsider_membership, as_manager):
    response = as_manager.get(reverse("dossier-list"), {"owner": outsider_membership.pk})
    assert "oscar" not in response.content.decode() and listed(response) == {d.pk for d in dossiers}


def test_selecting_all_filtered_dossiers_for_a_bulk_action_keeps_to_mine(dossiers, as_manager):
    response = as_manager.get(reverse("dossier-bulk"), {"all": "1"})
    assert response.context["count"] == 2
    response = as_manager.get(reverse("dossier-bulk"), {"all": "1", "owner": "all"})
    assert response.context["count"] == 4


def test_the_list_answers_in_the_same_number_of_queries_whatever_the_dossiers_owned(
        dossiers, manager_membership, colleague, as_manager, django_assert_num_queries):
    url = reverse("dossier-list")
    few = count_queries(as_manager, url)
    for _ in range(6):
        dossier = walk_to(State.DRAFT, membership=manager_membership)
        team.assign_owner(dossier.pk, by=manager_membership.user, owner_id=manager_membership.pk)
    with django_assert_num_queries(few):
        response = as_manager.get(url)
    assert len(listed(response)) == 8


# --- reassignment and notes on the dossier page ----------------------------------------------------------------------

def test_a_manager_reassigns_a_dossier_from_its_page(dossiers, colleague, as_manager):
    dossier = dossiers[0]
    response = as_manager.post(reverse("dossier-owner", args=[dossier.pk]), {"owner": colleague.pk})
    assert response.status_code == 302 and response["Location"].endswith("#team")
    dossier.refresh_from_db()
    assert dossier.owner_id == colleague.pk
    html = as_manager.get(reverse("dossier-detail", args=[dossier.pk])).content.decode()
    assert '<strong id="owner-name">Camille Roux</strong>' in html
    assert "Responsable changé" in html and "Nouveau responsable" in html


def test_reassigning_to_a_viewer_is_refused_in_french_and_nothing_changes(dossiers, viewer_membership, as_manager):
    dossier = dossiers[0]
    before = HistoryEntry.objects.count()
    response = as_manager.post(reverse("dossier-owner", args=[dossier.pk]), {"owner": viewer_membership.pk})
    assert response.status_code == 400
    assert "Choisissez un gestionnaire ou un administrateur" in response.content.decode()
    dossier.refresh_from_db()
    assert dossier.owner.user.username == "manon" and HistoryEntry.objects.count() == before


def test_a_note_goes_into_the_history_with_who_and_when(dossiers, as_manager):
    dossier = dossiers[0]
    response = as_manager.post(reverse("dossier-note", args=[dossier.pk]), {"text": "Client injoignable, relance J+7"})
    assert response.status_code == 302 and response["Location"].endswith("#history")
    html = as_manager.get(reverse("dossier-detail", args=[dossier.pk])).content.decode()
    history = html.split('id="history"')[1]
    assert "Client injoignable, relance J+7" in history and "manon" in history
    entry = HistoryEntry.objects.get(dossier=dossier, action="note")
    assert f'<time datetime="{timezone.localtime(entry.at).isoformat()}">' in history
    assert date_format(timezone.localtime(entry.at), "j F Y, H:i") in history


def test_an_empty_note_is_refused_in_french_and_nothing_saved(dossiers, as_manager):
    response = as_manager.post(reverse("dossier-note", args=[dossiers[0].pk]), {"text": "   "})
    assert response.status_code == 400
    assert "Écrivez la note avant de l" in response.content.decode()
    assert not HistoryEntry.objects.filter(action="note").exists()


def test_a_viewer_sees_the_owner_but_no_form_and_may_not_write(dossiers, colleague, as_viewer):
    dossier = dossiers[0]
    html = as_viewer.get(reverse("dossier-detail", args=[dossier.pk])).content.decode()
    assert '<strong id="owner-name">manon</strong>' in html and reverse("dossier-note", args=[dossier.pk]) not in html
    assert as_viewer.post(reverse("dossier-owner", args=[dossier.pk]), {"owner": colleague.pk}).status_code == 403
    assert as_viewer.post(reverse("dossier-note", args=[dossier.pk]), {"text": "x"}).status_code == 403
    dossier.refresh_from_db()
    assert dossier.owner.user.username == "manon" and not HistoryEntry.objects.filter(action="note").exists()


def test_another_organisations_dossier_is_404_to_reassign_or_annotate(dossiers, as_outsider, outsider_membership):
    dossier = dossiers[0]
    assert as_outsider.post(reverse("dossier-owner", args=[dossier.pk]),
                            {"owner": outsider_membership.pk}).status_code == 404
    assert as_outsider.post(reverse("dossier-note", args=[dossier.pk]), {"text": "x"}).status_code == 404
    assert not HistoryEntry.objects.filter(action="note").exists()


def test_the_dossier_page_reads_its_owner_in_a_fixed_number_of_queries(
        dossiers, organisation, manager, as_manager, django_assert_num_queries):
    url = reverse("dossier-detail", args=[dossiers[0].pk])
    few = count_queries(as_manager, url)
    for _ in range(5):
        MembershipFactory(organisation=organisation, role=Role.MANAGER)
        team.add_note(dossiers[0].pk, by=manager, text="encore")
    with django_assert_num_queries(few):
        as_manager.get(url)


def test_the_dossier_pages_team_panel_reads_its_members_without_their_dossiers(dossiers, as_manager):
    """The panel shows the owner and the members to reassign to, never whether each owns a dossier: its members'
    query does not look into the dossiers (an EXISTS over them cost ~0.8-1.7 ms a page in the largest organisation)."""
    with CaptureQueriesContext(connection) as captured:
        response = as_manager.get(reverse("dossier-detail", args=[dossiers[0].pk]))
    assert response.status_code == 200
    members = [q["sql"] for q in captured.captured_queries
               if 'FROM "organisations_membership"' in q["sql"] and '"auth_user"' in q["sql"]]
    assert members and not any('"dossiers_dossier"' in sql for sql in members)
    html = response.content.decode()
    assert 'id="owner-name">' in html and "Camille Roux" in html  # the colleague is still offered


# --- bulk reassignment -------------------------------------------------------------------------------------------------

def test_the_lists_selection_is_reassigned_in_one_go(dossiers, colleague, as_manager):
    picked = [dossiers[0].pk, dossiers[3].pk]
    response = as_manager.get(reverse("dossier-bulk-reassign"), {"dossier": picked})
    assert response.status_code == 200 and "2 dossiers sélectionnés." in response.content.decode()
    response = as_manager.post(reverse("dossier-bulk-reassign"),
                               {"token": response.context["token"], "owner": colleague.pk})
    assert response.status_code == 302
    assert set(Dossier.objects.filter(owner=colleague).values_list("pk", flat=True)) == {*picked, dossiers[2].pk}
    assert "2 dossiers réassignés." in as_manager.get(response["Location"]).content.decode()


def test_the_list_offers_the_reassignment_beside_the_bulk_action(dossiers, as_manager):
    html = as_manager.get(reverse("dossier-list")).content.decode()
    assert f'formaction="{reverse("dossier-bulk-reassign")}"' in html


def test_a_bulk_reassignment_to_a_viewer_is_refused_and_nothing_changes(dossiers, viewer_membership, as_manager):
    token = as_manager.get(reverse("dossier-bulk-reassign"), {"dossier": [dossiers[3].pk]}).context["token"]
    response = as_manager.post(reverse("dossier-bulk-reassign"), {"token": token, "owner": viewer_membership.pk})
    assert response.status_code == 400
    assert "Choisissez un gestionnaire ou un administrateur" in response.content.decode()
    assert Dossier.objects.get(pk=dossiers[3].pk).owner_id is None


def test_an_empty_selection_goes_back_to_the_list_with_a_message(dossiers, as_manager):
    response = as_manager.get(reverse("dossier-bulk-reassign"), follow=True)
    assert "Cochez au moins un dossier" in response.content.decode()


def test_bulk_reassignment_is_for_managers_and_for_ones_own_selection(dossiers, colleague, as_manager, as_viewer,
                                                                     as_outsider):
    assert as_viewer.get(reverse("dossier-bulk-reassign"), {"dossier": [dossiers[3].pk]}).status_code == 403
    token = as_manager.get(reverse("dossier-bulk-reassign"), {"dossier": [dossiers[3].pk]}).context["token"]
    response = as_outsider.post(reverse("dossier-bulk-reassign"), {"token": token, "owner": colleague.pk})
    assert response.status_code == 404
    # An outsider's own selection never holds this organisation's dossiers.
    assert as_outsider.get(reverse("dossier-bulk-reassign"), {"dossier": [dossiers[3].pk]}).status_code == 302
    assert Dossier.objects.get(pk=dossiers[3].pk).owner_id is None


# --- activity ----------------------------------------------------------------------------------------------------------

def test_the_activity_page_says_who_did_what_on_which_dossier(dossiers, colleague, outsider_membership, as_viewer):
    team.add_note(dossiers[2].pk, by=colleague.user, text="Appel au client")
    foreign = walk_to(State.DRAFT, membership=outsider_membership)
    response = as_viewer.get(reverse("activity"))
    html = response.content.decode()
    assert response.status_code == 200
    first = response.context["items"][0]
    assert (first["row"].action, first["row"].username, first["label"]) == ("note", "camille", "Note")
    assert f'href="/dossiers/{dossiers[2].pk}/"' in html and "Appel au client" in html and "Dossier créé" in html
    assert foreign.reference not in html
    assert response.context["page"].paginator.count == HistoryEntry.objects.filter(
        dossier__organisation=dossiers[0].organisation).count()


def test_the_activity_is_filtered_by_person_dossier_and_period(dossiers, colleague, as_viewer):
    team.add_note(dossiers[2].pk, by=colleague.user, text="Appel")
    by_person = as_viewer.get(reverse("activity"), {"person": colleague.user_id}).context["items"]
    assert [i["row"].action for i in by_person] == ["note"]
    by_dossier = as_viewer.get(reverse("activity"), {"reference": dossiers[1].reference}).context["items"]
    assert {i["row"].dossier_id for i in by_dossier} == {dossiers[1].pk}
    today = timezone.localdate()
    assert as_viewer.get(reverse("activity"), {"start": today.isoformat(), "end": today.isoformat()}
                         ).context["page"].paginator.count > 0
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert as_viewer.get(reverse("activity"), {"start": tomorrow}).context["page"].paginator.count == 0
    yesterday = (today - timedelta(days=1)).isoformat()
    assert as_viewer.get(reverse("activity"), {"end": yesterday}).context["page"].paginator.count == 0


@pytest.mark.parametrize("params, message", [
    ({"start": "2024-06-10", "end": "2024-06-01"}, "La fin de la période précède son début."),
    ({"start": "hier"}, "Date invalide"),
    ({"person": "999999"}, "n'est pas membre de l'organisation"),
])
def test_bad_activity_filters_are_a_400_in_french(dossiers, as_viewer, params, message):
    response = as_viewer.get(reverse("activity"), params)
    assert response.status_code == 400
    assert message in response.content.decode().replace("&#x27;", "'")


def test_another_organisations_member_is_not_a_person_to_filter_on(dossiers, outsider_membership, as_viewer):
    response = as_viewer.get(reverse("activity"), {"person": outsider_membership.user_id})
    assert response.status_code == 400 and response.context["items"] == []


def test_the_activity_page_answers_in_a_fixed_number_of_queries(dossiers, manager, as_viewer,
                                                               django_assert_num_queries):
    few = count_queries(as_viewer, reverse("activity"))
    for dossier in dossiers:
        for _ in range(3):
            team.add_note(dossier.pk, by=manager, text="suivi")
    with django_assert_num_queries(few):
        response = as_viewer.get(reverse("activity"))
    assert len(response.context["items"]) == HistoryEntry.objects.count()
