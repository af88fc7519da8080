"""dossiers.team (owners, notes, notifications read, preferences) and the reads of dossiers.queries."""
from datetime import datetime, time, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from dossiers import history, queries
from dossiers.services import team
from dossiers.identifiers import finess_department, finess_department_mismatch
from dossiers.models import Channel, Dossier, HistoryEntry, Notification, NotificationPreference, State
from organisations.models import Membership, Role
from reports import tasks as report_tasks
from reports.digests import build_digest
from segurtrack.errors import InvalidInput, NotPermitted

from ..factories import ClientFactory, MembershipFactory, walk_to


@pytest.fixture
def dossier(manager_membership):
    """A dossier nobody owns, as the importer's bulk path leaves one (a dossier created by a member is theirs)."""
    made = walk_to(State.BDC_SIGNED, membership=manager_membership)
    Dossier.objects.filter(pk=made.pk).update(owner=None)
    made.owner_id = None
    return made


@pytest.fixture
def colleague(organisation):
    return MembershipFactory(organisation=organisation, role=Role.MANAGER, user__username="camille",
                             user__first_name="Camille", user__last_name="Roux")


def rows(dossier, action):
    return list(HistoryEntry.objects.filter(dossier=dossier, action=action).order_by("seq"))


# --- owners ------------------------------------------------------------------------------------------------------

def test_assigning_an_owner_is_a_chained_history_row_and_tells_the_new_owner(dossier, manager, colleague):
    assert team.assign_owner(dossier.pk, by=manager, owner_id=colleague.pk) is True
    dossier.refresh_from_db()
    assert dossier.owner_id == colleague.pk
    entry, = rows(dossier, "assign_owner")
    assert (entry.username, entry.data) == ("manon", {"from": "", "to": "Camille Roux"})
    assert history.verify_chain(dossier.pk) == []
    note, = Notification.objects.filter(user=colleague.user)
    assert note.kind == "assignment" and note.history_entry_id == entry.pk and dossier.reference in note.message


def test_assigning_the_same_owner_again_changes_nothing(dossier, manager, colleague):
    team.assign_owner(dossier.pk, by=manager, owner_id=colleague.pk)
    assert team.assign_owner(dossier.pk, by=manager, owner_id=colleague.pk) is False
    assert len(rows(dossier, "assign_owner")) == 1


def test_taking_a_dossier_oneself_tells_nobody_and_unassigning_records_who_it_was(dossier, manager_membership, manager):
    team.assign_owner(dossier.pk, by=manager, owner_id=manager_membership.pk)
    assert not Notification.objects.exists()
    team.assign_owner(dossier.pk, by=manager, owner_id=None)
    dossier.refresh_from_db()
    assert dossier.owner_id is None
    assert rows(dossier, "assign_owner")[-1].data == {"from": "manon", "to": ""}


@pytest.mark.parametrize("who", ["viewer", "outsider", "unknown"])
def test_only_a_manager_or_admin_of_the_organisation_may_own_a_dossier(dossier, manager, viewer_membership,
                                                                      outsider_membership, who):
    owner_id = {"viewer": viewer_membership.pk, "outsider": outsider_membership.pk, "unknown": 999_999}[who]
    with pytest.raises(InvalidInput) as refused:
        team.assign_owner(dossier.pk, by=manager, owner_id=owner_id)
    assert "gestionnaire ou un administrateur" in refused.value.errors["owner"][0]
    dossier.refresh_from_db()
    assert dossier.owner_id is None and not rows(dossier, "assign_owner")


def test_a_viewer_may_not_reassign_nor_write_a_note(dossier, viewer_membership, manager_membership):
    with pytest.raises(NotPermitted):
        team.assign_owner(dossier.pk, by=viewer_membership.user, owner_id=manager_membership.pk)
    with pytest.raises(NotPermitted):
        team.add_note(dossier.pk, by=viewer_membership.user, text="Relancer le client")
    assert not rows(dossier, "assign_owner") and not rows(dossier, "note")


def test_reassigning_many_changes_each_dossier_of_the_organisation_once(manager_membership, manager, colleague,
                                                                       outsider_membership):
    mine = [walk_to(State.DRAFT, membership=manager_membership) for _ in range(3)]
    foreign = walk_to(State.DRAFT, membership=outsider_membership)
    team.assign_owner(mine[0].pk, by=manager, owner_id=colleague.pk)
    changed = team.assign_owner_many(manager_membership.organisation_id, [d.pk for d in mine] + [foreign.pk],
                                     by=manager, owner_id=colleague.pk)
    assert changed == 2
    assert set(Dossier.objects.filter(owner=colleague).values_list("pk", flat=True)) == {d.pk for d in mine}
    foreign.refresh_from_db()
    assert foreign.owner_id == outsider_membership.pk   # still its creator's


def test_reassigning_many_to_a_viewer_changes_nothing(manager_membership, manager, viewer_membership):
    mine = [walk_to(State.DRAFT, membership=manager_membership) for _ in range(2)]
    with pytest.raises(InvalidInput):
        team.assign_owner_many(manager_membership.organisation_id, [d.pk for d in mine], by=manager,
                               owner_id=viewer_membership.pk)
    assert not HistoryEntry.objects.filter(action="assign_owner").exists()


def test_an_owner_leaving_the_organisation_leaves_the_dossier_without_owner(dossier, manager, colleague):
    team.assign_owner(dossier.pk, by=manager, owner_id=colleague.pk)
    Membership.objects.filter(pk=colleague.pk).delete()
    dossier.refresh_from_db()
    assert dossier.owner_id is None


# --- notes -------------------------------------------------------------------------------------------------------

def test_a_note_is_a_history_row_with_who_and_when_and_tells_the_owner(dossier, manager, colleague):
    team.assign_owner(dossier.pk, by=manager, owner_id=colleague.pk)
    entry = team.add_note(dossier.pk, by=manager, text="  Le client rappelle lundi.  ")
    assert (entry.action, entry.username, entry.data) == ("note", "manon", {"text": "Le client rappelle lundi."})
    assert entry.at is not None and entry.from_state == entry.to_state == State.BDC_SIGNED
    assert history.verify_chain(dossier.pk) == []
    told = Notification.objects.get(user=colleague.user, kind="note")
    assert "Le client rappelle lundi." in told.message


def test_the_owner_writing_a_note_is_not_told_of_it(dossier, manager_membership, manager):
    team.assign_owner(dossier.pk, by=manager, owner_id=manager_membership.pk)
    team.add_note(dossier.pk, by=manager, text="Pour moi")
    assert not Notification.objects.filter(kind="note").exists()


@pytest.mark.parametrize("text, message", [("   ", "Écrivez la note"), ("x" * 2001, "2000 caractères au plus")])
def test_an_empty_or_too_long_note_is_refused_and_nothing_saved(dossier, manager, text, message):
    with pytest.raises(InvalidInput) as refused:
        team.add_note(dossier.pk, by=manager, text=text)
    assert message in refused.value.errors["text"][0]
    assert not rows(dossier, "note")


def test_a_note_is_announced_to_webhooks_as_a_dossier_update(dossier, manager):
    from webhooks.models import Delivery, Endpoint

    Endpoint.objects.create(organisation=dossier.organisation, url="https://crm.example.org/hook", events=["*"])
    entry = team.add_note(dossier.pk, by=manager, text="Relance")
    assert Delivery.objects.get(history_entry=entry).event == "dossier.updated"


# --- notifications -----------------------------------------------------------------------------------------------

def make(membership, *, kind="transition", ago=timedelta(0), read=False, dossier=None):
    notification = Notification.objects.create(user=membership.user, organisation=membership.organisation,
                                               kind=kind, dossier=dossier, message=f"{kind} {ago}",
                                               read_at=timezone.now() if read else None)
    Notification.objects.filter(pk=notification.pk).update(created_at=timezone.now() - ago)
    return notification


def test_a_new_member_counts_only_the_notifications_since_they_joined(viewer_membership):
    before = make(viewer_membership, ago=timedelta(days=2))
    after = make(viewer_membership)
    assert list(queries.notifications_of(viewer_membership)) == [after]
    assert queries.unread_count(viewer_membership) == 1
    Membership.objects.filter(pk=viewer_membership.pk).update(created_at=timezone.now() - timedelta(days=3))
    viewer_membership.refresh_from_db()
    assert set(queries.notifications_of(viewer_membership)) == {before, after}


def test_kinds_told_elsewhere_are_not_shown_in_the_application(viewer_membership):
    transition, note = make(viewer_membership), make(viewer_membership, kind="note")
    team.set_notification_preferences(viewer_membership, by=viewer_membership.user,
                                      channels={"transition": Channel.DIGEST, "note": Channel.IN_APP})
    assert list(queries.notifications_of(viewer_membership)) == [note]
    team.set_notification_preferences(viewer_membership, by=viewer_membership.user, channels={"transition": "in_app"})
    assert set(queries.notifications_of(viewer_membership)) == {transition, note}
    assert NotificationPreference.objects.filter(membership=viewer_membership).count() == 2


def test_channel_for_is_in_app_by_default_and_the_members_choice_otherwise(viewer_membership, manager_membership):
    assert queries.channel_for(viewer_membership, "transition") == Channel.IN_APP
    team.set_notification_preferences(viewer_membership, by=viewer_membership.user, channels={"transition": "none"})
    assert queries.channel_for(viewer_membership, "transition") == Channel.NONE
    assert queries.channel_for(manager_membership, "transition") == Channel.IN_APP


def test_preferences_are_ones_own_and_checked_before_anything_is_saved(viewer_membership, manager):
    with pytest.raises(NotPermitted):
        team.set_notification_preferences(viewer_membership, by=manager, channels={"transition": "none"})
    with pytest.raises(InvalidInput) as refused:
        team.set_notification_preferences(viewer_membership, by=viewer_membership.user,
                                          channels={"transition": "none", "note": "pigeon", "weather": "in_app"})
    assert set(refused.value.errors) == {"note", "weather"}
    assert not NotificationPreference.objects.exists()


def test_marking_read_is_for_the_addressee_only_and_once(viewer_membership, manager):
    notification = make(viewer_membership)
    with pytest.raises(NotPermitted):
        team.mark_read(notification, by=manager)
    assert team.mark_read(notification, by=viewer_membership.user) is True
    assert team.mark_read(notification, by=viewer_membership.user) is False
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_the_digest_lists_yesterdays_notices_of_the_kinds_chosen_for_it_only(organisation, viewer_membership):
    Membership.objects.filter(pk=viewer_membership.pk).update(created_at=timezone.now() - timedelta(days=5))
    viewer_membership.refresh_from_db()
    today = timezone.localdate()
    yesterday_noon = timezone.make_aware(datetime.combine(today - timedelta(days=1), time(12)))
    for kind in ("transition", "note", "assignment"):
        Notification.objects.filter(pk=make(viewer_membership, kind=kind).pk).update(created_at=yesterday_noon)
    make(viewer_membership, kind="transition")  # today's: in tomorrow's digest
    team.set_notification_preferences(viewer_membership, by=viewer_membership.user,
                                      channels={"transition": "digest", "note": "none", "assignment": "in_app"})
    digest = build_digest(organisation, today, viewer_membership)
    assert [n.split()[0] for n in digest.notices] == ["transition"]
    assert not digest.empty and "Vos notifications d'hier :" in digest.body()
    assert build_digest(organisation, today).notices == []


def test_a_member_who_wants_no_reminder_gets_none(settings, manager_membership):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    team.set_notification_preferences(manager_membership, by=manager_membership.user,
                                      channels={"deadline_reminder": "none"})
    assert report_tasks.send_deadline_reminder(manager_membership.pk, timezone.localdate().isoformat()) == "not wanted"
    assert mail.outbox == []


# --- FINESS and department -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("finess, department", [
    ("750000012", "75"),        # metropolitan: the first two digits
    ("75 000 001 2", "75"),     # typed with spaces
    ("010003820", "01"),
    ("2A0000001", "2A"),        # Corsica
    ("2b0000001", "2B"),
    ("970000001", "970"),       # overseas: three digits
    ("971000001", "971"),
    ("976000001", "976"),
])
def test_the_department_a_finess_names(finess, department):
    assert finess_department(finess) == department


@pytest.mark.parametrize("finess", ["", "75000001", "7500000123", "980000001", "985000001"])
def test_a_finess_that_names_no_comparable_department(finess):
    assert finess_department(finess) is None


@pytest.mark.parametrize("finess, department, mismatch", [
    ("750000012", "75", False), ("750000012", "13", True),
    ("2A0000001", "2A", False), ("2A0000001", "2B", True),
    ("971000001", "971", False), ("971000001", "972", True), ("972000001", "97", True),
    ("980000001", "976", False),   # no department to compare with
    ("", "75", False), ("750000012", "", False),
])
def test_a_finess_of_another_department_is_a_mismatch(finess, department, mismatch):
    assert finess_department_mismatch(finess, department) is mismatch


def test_the_client_flags_its_finess_geo_only(organisation):
    client = ClientFactory(organisation=organisation, department="13", finess_geo="750000012", finess_legal="")
    assert client.finess_department_mismatch is True
    client.department = "75"
    assert client.finess_department_mismatch is False
    client.finess_geo, client.finess_legal, client.department = "", "750000012", "13"
    assert client.finess_department_mismatch is False
