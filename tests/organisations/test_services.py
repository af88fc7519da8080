"""`organisations.services`, the only writer of memberships: roles, removals, the last admin, invitations."""
import threading
import time

import pytest
from django.db import connection

from organisations import services
from organisations.models import Invitation, Membership, Role

from ..factories import MembershipFactory, OrganisationFactory


@pytest.mark.django_db
def test_a_role_change_and_a_removal_go_through(admin_membership, manager_membership):
    organisation = admin_membership.organisation
    assert services.change_role(membership_id=manager_membership.pk, organisation=organisation,
                                role=Role.ADMIN).role == Role.ADMIN
    services.change_role(membership_id=admin_membership.pk, organisation=organisation, role=Role.VIEWER)
    services.remove_member(membership_id=admin_membership.pk, organisation=organisation)
    assert list(Membership.objects.values_list("role", flat=True)) == [Role.ADMIN]


@pytest.mark.django_db
def test_the_last_admin_can_be_neither_demoted_nor_removed(admin_membership, manager_membership):
    organisation = admin_membership.organisation
    with pytest.raises(services.LastAdmin):
        services.change_role(membership_id=admin_membership.pk, organisation=organisation, role=Role.MANAGER)
    with pytest.raises(services.LastAdmin):
        services.remove_member(membership_id=admin_membership.pk, organisation=organisation)
    admin_membership.refresh_from_db()
    assert admin_membership.role == Role.ADMIN


@pytest.mark.django_db
def test_another_organisations_member_is_not_found(admin_membership, outsider_membership):
    with pytest.raises(Membership.DoesNotExist):
        services.remove_member(membership_id=outsider_membership.pk, organisation=admin_membership.organisation)
    assert Membership.objects.filter(pk=outsider_membership.pk).exists()


@pytest.mark.django_db
def test_an_unknown_role_is_refused(admin_membership, manager_membership):
    with pytest.raises(services.MembershipError):
        services.change_role(membership_id=manager_membership.pk, organisation=admin_membership.organisation,
                             role="owner")
    with pytest.raises(services.MembershipError):
        services.invite_member(organisation=admin_membership.organisation, email="x@example.fr", role="owner",
                               by=admin_membership.user, link=str)
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_inviting_the_same_address_again_replaces_the_pending_invitation(admin_membership):
    first = services.invite_member(organisation=admin_membership.organisation, email="x@example.fr",
                                   role=Role.VIEWER, by=admin_membership.user, link=str)
    second = services.invite_member(organisation=admin_membership.organisation, email="X@example.fr",
                                    role=Role.MANAGER, by=admin_membership.user, link=str)
    first.refresh_from_db()
    assert first.revoked_at is not None and second.revoked_at is None


def _at_once(*actions) -> list[str]:
    """Run the actions in threads released together; each returns the outcome's name."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[str] = []

    def run(action) -> None:
        try:
            barrier.wait(timeout=30)
            action()
            outcomes.append("done")
        except services.LastAdmin:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(outcomes)


@pytest.fixture
def slow_writes(monkeypatch):
    """Widen the window between the admin count and the write, as a loaded server would."""
    save, delete = Membership.save, Membership.delete

    def slow_save(self, *args, **kwargs):
        time.sleep(0.3)
        return save(self, *args, **kwargs)

    def slow_delete(self, *args, **kwargs):
        time.sleep(0.3)
        return delete(self, *args, **kwargs)

    monkeypatch.setattr(Membership, "save", slow_save)
    monkeypatch.setattr(Membership, "delete", slow_delete)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_two_admins_demoting_each_other_at_the_same_moment_leave_one_admin(slow_writes):
    organisation = OrganisationFactory(name="Éditeur Course")
    first = MembershipFactory(organisation=organisation, role=Role.ADMIN, user__username="a1")
    second = MembershipFactory(organisation=organisation, role=Role.ADMIN, user__username="a2")
    outcomes = _at_once(
        lambda: services.change_role(membership_id=second.pk, organisation=organisation, role=Role.VIEWER),
        lambda: services.change_role(membership_id=first.pk, organisation=organisation, role=Role.VIEWER))
    assert outcomes == ["done", "refused"]
    assert Membership.objects.filter(organisation=organisation, role=Role.ADMIN).count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_two_admins_removing_each_other_at_the_same_moment_leave_one_admin(slow_writes):
    organisation = OrganisationFactory(name="Éditeur Course")
    first = MembershipFactory(organisation=organisation, role=Role.ADMIN, user__username="a1")
    second = MembershipFactory(organisation=organisation, role=Role.ADMIN, user__username="a2")
    outcomes = _at_once(
        lambda: services.remove_member(membership_id=second.pk, organisation=organisation),
        lambda: services.remove_member(membership_id=first.pk, organisation=organisation))
    assert outcomes == ["done", "refused"]
    assert Membership.objects.filter(organisation=organisation, role=Role.ADMIN).count() == 1
