"""Who may see and do what, swept over every route of the pages' URLconfs (dossiers, organisations, reports).

A route added later is covered without being listed here, except routes taking an object id: the sweep then
fails until the route says which object its id names (OBJECT_OF).
"""
from datetime import date, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import URLPattern, reverse
from django.utils import timezone

import dossiers.urls
import organisations.urls
import reports.urls
from dossiers import services
from dossiers.models import (
    Amendment, Client as ClientModel, Document, Dossier, HistoryEntry, Notification, PvPilote, Solution, State,
)
from dossiers.models import AuditEntry, PortabilityRequest, SolutionChange
from organisations.models import ApiToken, Invitation, Membership, Role, hash_token
from reports.models import ExportJob

from ..factories import MembershipFactory, walk_to
from .conftest import signed_in

# The public calendar feed answers to its secret key, not to a session (tests/integrations/test_calendar_feed.py).
PATTERNS: list[URLPattern] = [*dossiers.urls.urlpatterns, *organisations.urls.urlpatterns,
                              *(p for p in reports.urls.urlpatterns if p.name != "calendar-feed")]

# The object an id in the route names; the world fixture builds one of each.
OBJECT_OF = {
    "dossier-detail": "dossier", "dossier-transition": "dossier", "dossier-document-upload": "dossier",
    "dossier-amendment-add": "dossier", "dossier-scenario": "dossier", "dossier-solde": "dossier",
    "dossier-solde-file": "dossier", "dossier-solde-json": "dossier",
    "amendment-status": "amendment", "client-edit": "client", "solution-detail": "solution",
    "pv-pilote-upload": "solution", "pv-pilote-status": "pv_pilote", "document-download": "document",
    "pv-pilote-download": "pv_pilote", "member-role": "membership", "member-remove": "membership",
    "report-export-status": "export_job", "invitation-revoke": "invitation",
    "dossier-settings": "dossier",
    "portability-request-add": "client", "portability-request-edit": "portability_request",
    "solution-change-add": "solution", "solution-change-edit": "solution_change",
}
OTHER_ARGS = {"name": "validate_solde", "token": "world-invitation", "uidb64": "MQ"}
# GET parameters a route needs to answer 200.
QUERY = {"client-identifier-check": "?siret=73282932000074"}
# Routes every signed-in user may post to, whatever the role.
ANY_ROLE_POSTS = {"login", "logout", "organisation-switch",
                  # one's own account: passwords, accepting an invitation (the world's, to another organisation)
                  "password_change", "password_reset", "password_reset_confirm", "invitation",
                  # exporting only reads (a viewer may, as in the API); marking read is the member's own data
                  "report-export-create", "notifications-read-all"}
# Routes only a POST reaches (a GET is 405).
POST_ONLY = {"dossier-transition", "dossier-document-upload", "dossier-amendment-add", "dossier-scenario",
             "dossier-solde-file", "amendment-status", "pv-pilote-upload", "pv-pilote-status", "member-role",
             "member-remove", "logout", "report-export-create", "notifications-read-all", "dossier-settings",
             "invitation-revoke",
             "portability-request-add", "portability-request-edit", "solution-change-add", "solution-change-edit"}
# Pages a viewer may not even open (creation forms, members): 403.
VIEWER_FORBIDDEN_PAGES = {"dossier-create", "client-create", "solution-create", "members"}
# Forms a viewer does see, beside the sign-out one: the writes open to every role (route name, button labels).
VIEWER_POST_FORMS = {"report-pending-va": [("report-export-create", ["Lancer un export en arrière-plan"])],
                     "password_change": [("password_change", ["Changer mon mot de passe"])],
                     "password_reset": [("password_reset", ["Recevoir le lien"])]}
# A member's own API tokens and calendar address: every role manages its own (the public feed is left out above).
OBJECT_OF["token-revoke"] = "api_token"
ANY_ROLE_POSTS |= {"tokens", "token-revoke", "calendar", "calendar-revoke"}
POST_ONLY |= {"token-revoke", "calendar-revoke"}
VIEWER_POST_FORMS |= {"tokens": [("tokens", ["Créer"])], "calendar": [("calendar", ["Créer mon adresse"])]}
# Bulk transitions (dossiers/views/bulk.py): the page opens on a selection; managers only; two POST-only steps.
QUERY["dossier-bulk"] = "?all=1"
POST_ONLY |= {"dossier-bulk-dry-run", "dossier-bulk-apply"}
VIEWER_FORBIDDEN_PAGES |= {"dossier-bulk", "dossier-bulk-statement"}
# A team's work (dossiers/views/team.py, notifications.py): a dossier's owner and notes, bulk reassignment
# (managers); opening one's own notification (it redirects to its dossier) and one's preferences (any role).
OBJECT_OF |= {"dossier-owner": "dossier", "dossier-note": "dossier", "notification-open": "notification"}
POST_ONLY |= {"dossier-owner", "dossier-note"}
QUERY["dossier-bulk-reassign"] = "?all=1"
VIEWER_FORBIDDEN_PAGES |= {"dossier-bulk-reassign"}
ANY_ROLE_POSTS |= {"notification-preferences"}
VIEWER_POST_FORMS |= {"notification-preferences": [("notification-preferences", ["Enregistrer"])]}
# Corrections (dossiers/views/corrections.py): managers only; each page says why when the ASP has the information.
OBJECT_OF |= {"dossier-correct-step": "dossier", "dossier-solde-draft-clear": "dossier", "document-replace": "document",
              "document-withdraw": "document"}
OTHER_ARGS["step"] = "sign_bdc"
VIEWER_FORBIDDEN_PAGES |= {"dossier-correct-step", "dossier-solde-draft-clear", "document-replace", "document-withdraw"}
# Routes that answer a signed-in member with a redirect.
REDIRECTING = {"login", "notification-open"}


def id_kwargs(pattern: URLPattern) -> list[str]:
    return [name for name, converter in pattern.pattern.converters.items() if converter.regex == "[0-9]+"]


def url_of(pattern: URLPattern, world: dict) -> str:
    kwargs = {}
    for name, converter in pattern.pattern.converters.items():
        kwargs[name] = world[OBJECT_OF[pattern.name]].pk if converter.regex == "[0-9]+" else OTHER_ARGS[name]
    return reverse(pattern.name, kwargs=kwargs) + QUERY.get(pattern.name, "")


@pytest.fixture
def world(organisation, manager_membership, viewer_membership, admin_membership):
    """One object of each kind in the organisation: a filed solde (its JSON can be built), an amendment,
    a document, a solution's PV pilote, a client and a membership."""
    dossier = walk_to(State.SOLDE_FILED, membership=manager_membership)
    open_dossier = walk_to(State.AVANCE_PAID, membership=manager_membership)
    amendment = services.add_amendment(open_dossier.pk, by=manager_membership.user, filed_on=open_dossier.avance_paid_on,
                                       amount=Decimal("12000.00"))
    return {
        "dossier": dossier, "amendment": amendment, "client": dossier.client, "solution": dossier.solution,
        "document": dossier.documents.first(), "pv_pilote": PvPilote.objects.get(solution=dossier.solution),
        "membership": viewer_membership, "open_dossier": open_dossier,
        "export_job": ExportJob.objects.create(organisation=dossier.organisation, user=manager_membership.user,
                                               kind=ExportJob.Kind.PENDING_VA),
        "invitation": Invitation.objects.create(
            organisation=organisation, email="invite@example.fr", role=Role.VIEWER,
            digest=hash_token(OTHER_ARGS["token"]), expires_at=timezone.now() + timedelta(days=1)),
        "portability_request": PortabilityRequest.objects.create(client=dossier.client, requested_on=date(2024, 6, 1)),
        "solution_change": SolutionChange.objects.create(solution=dossier.solution, changed_on=date(2024, 6, 1),
                                                         description="Nouveau module", affects_conformity=True),
        "api_token": ApiToken.issue(manager_membership)[0],
        "notification": Notification.objects.create(user=admin_membership.user, organisation=organisation,
                                                    dossier=dossier, message="SEG : note"),
    }


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self.button: list[str] | None = None
        self.in_form = False  # a button outside any form (the menu's toggle) posts nothing

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"method": (attrs.get("method") or "get").lower(), "action": attrs.get("action"),
                               "buttons": []})
            self.in_form = True
        elif self.in_form and (tag == "button" or (tag == "input" and attrs.get("type") == "submit")):
            self.button = []
            if tag == "input":
                self.forms[-1]["buttons"].append(attrs.get("value", ""))
                self.button = None

    def handle_data(self, data):
        if self.button is not None:
            self.button.append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False
        if tag == "button" and self.button is not None:
            self.forms[-1]["buttons"].append(" ".join("".join(self.button).split()))
            self.button = None


def post_forms(html: str) -> list[tuple[str, list[str]]]:
    """Each form that posts: its action and the labels of its buttons."""
    parser = _Forms()
    parser.feed(html)
    return [(form["action"], form["buttons"]) for form in parser.forms if form["method"] == "post"]


def snapshot() -> dict:
    """Counts of everything a page can write, and every dossier's state: to show that nothing changed."""
    return {
        "history": HistoryEntry.objects.count(), "documents": Document.objects.count(),
        "amendments": list(Amendment.objects.values_list("id", "status")),
        "clients": list(ClientModel.objects.values_list("id", "name", "finess_geo")),
        "solutions": list(Solution.objects.values_list("id", "name", "referenced_on")),
        "pv": list(PvPilote.objects.values_list("id", "status")),
        "members": list(Membership.objects.values_list("id", "role")),
        "portability": list(PortabilityRequest.objects.values_list("id", "requested_on", "fulfilled_on")),
        "changes": list(SolutionChange.objects.values_list("id", "changed_on", "ans_notified_on")),
        "audit": AuditEntry.objects.count(),
        "states": list(Dossier.objects.values_list("id", "state", "scenario", "solde_draft")),
        "installations": list(Dossier.objects.values_list("id", "declared_finess", "installed_version",
                                                         "maintenance_contract")),
    }


def test_every_route_with_an_id_says_which_object_it_names():
    with_ids = {p.name for p in PATTERNS if id_kwargs(p)}
    assert with_ids == set(OBJECT_OF)


def test_every_page_answers_200_to_a_member(world, as_admin):
    opened = []
    for pattern in PATTERNS:
        url = url_of(pattern, world)
        response = as_admin.get(url)
        if pattern.name in POST_ONLY:
            assert response.status_code == 405, url
        elif pattern.name in REDIRECTING:
            assert response.status_code == 302, url   # already signed in; a notification shows its dossier
        else:
            assert response.status_code == 200, (url, response.status_code)
            opened.append(pattern.name)
    assert {"home", "dossier-list", "dossier-detail", "dossier-solde", "client-list", "solution-list",
            "members"} <= set(opened)


def test_another_organisations_objects_are_404_on_every_route(world, as_outsider):
    before = snapshot()
    checked = 0
    for pattern in PATTERNS:
        if not id_kwargs(pattern):
            continue
        url = url_of(pattern, world)
        statuses = {method: getattr(as_outsider, method)(url).status_code for method in ("get", "post")}
        assert set(statuses.values()) <= {404, 405}, (url, statuses)
        assert 404 in statuses.values(), (url, statuses)
        checked += 1
    assert checked == len(OBJECT_OF)
    assert snapshot() == before


def test_a_viewer_is_refused_every_write(world, as_viewer):
    before = snapshot()
    for pattern in PATTERNS:
        if pattern.name in ANY_ROLE_POSTS:
            continue
        url = url_of(pattern, world)
        response = as_viewer.post(url, {"scenario": "X", "role": "admin", "status": "validated",
                                        "declared_finess": "legal", "installed_version": "9"})
        if response.status_code == 405:
            continue
        assert response.status_code == 403, (url, response.status_code)
        assert "Accès refusé" in response.content.decode()
    assert snapshot() == before


def test_a_viewer_sees_no_action_button_on_any_page(world, as_viewer):
    # The dossier whose state offers the most (transitions, amendments, scenario) shows the most buttons.
    target = {**world, "dossier": world["open_dossier"]}
    for pattern in PATTERNS:
        if pattern.name in POST_ONLY or pattern.name in {"login", "dossier-solde-json", "document-download",
                                                          "pv-pilote-download", "client-identifier-check",
                                                          "report-export-status", "notifications-unread",
                                                          "invitation", "notification-open",
                                                          "dossiers-export-csv", "dossiers-export-xlsx",
                                                          "deadlines-export-csv", "deadlines-export-xlsx"}:
            continue
        url = url_of(pattern, target)
        response = as_viewer.get(url)
        if pattern.name in VIEWER_FORBIDDEN_PAGES:
            assert response.status_code == 403, url
            continue
        assert response.status_code == 200, url
        # The sign-out form in the header is the only one that posts; the other buttons search or filter.
        expected = [(reverse(name), labels) for name, labels in VIEWER_POST_FORMS.get(pattern.name, [])]
        assert post_forms(response.content.decode()) == [(reverse("logout"), ["Se déconnecter"]), *expected], url


def test_the_dossier_page_shows_a_viewer_the_possible_steps_without_forms(world, as_viewer):
    html = as_viewer.get(reverse("dossier-detail", args=[world["open_dossier"].pk])).content.decode()
    assert "Marquer comme déployé" in html
    assert "Votre rôle (lecteur) ne permet pas de les effectuer." in html
    assert "/transitions/" not in html


def test_a_member_without_the_admin_role_gets_403_on_the_members_page(world, as_manager):
    assert as_manager.get(reverse("members")).status_code == 403
    assert as_manager.post(reverse("member-role", args=[world["membership"].pk]),
                           {f"m{world['membership'].pk}-role": "admin"}).status_code == 403
    assert Membership.objects.get(pk=world["membership"].pk).role == Role.VIEWER


def test_a_signed_out_visitor_is_sent_to_the_login_page(world, client):
    for name in ("home", "dossier-list"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    response = client.get(reverse("dossier-detail", args=[world["dossier"].pk]))
    assert response["Location"] == f"{reverse('login')}?next=/dossiers/{world['dossier'].pk}/"


def test_a_user_of_no_organisation_gets_403(db):
    loner = MembershipFactory().user
    Membership.objects.filter(user=loner).delete()
    browser = Client()
    browser.force_login(loner)
    response = browser.get(reverse("dossier-list"))
    assert response.status_code == 403
    assert "aucune organisation" in response.content.decode()


def test_a_post_without_csrf_token_is_refused(world, manager_membership):
    browser = signed_in(manager_membership, enforce_csrf_checks=True)
    dossier = world["open_dossier"]
    before = snapshot()
    for url, data in (
        (reverse("dossier-transition", args=[dossier.pk, "mark_deployed"]), {"mark_deployed-deployed_on": "2024-06-01"}),
        (reverse("dossier-scenario", args=[dossier.pk]), {"scenario": "Autre"}),
        (reverse("client-create"), {"name": "X", "kind": "ps", "department": "75"}),
    ):
        response = browser.post(url, data)
        assert response.status_code == 403, url
        assert "jeton de sécurité" in response.content.decode()
    assert snapshot() == before
    # With the token the same form goes through: the refusal above was the CSRF check.
    browser.get(reverse("dossier-detail", args=[dossier.pk]))
    token = browser.cookies["csrftoken"].value
    response = browser.post(reverse("dossier-scenario", args=[dossier.pk]),
                            {"scenario": "Autre", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
