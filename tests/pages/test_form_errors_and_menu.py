"""Forms that fail open with an error summary linked to their fields (issue 16 pt 9, as the DSFR does); the menu
collapses behind a button on a phone and stays usable without JavaScript (pt 8)."""
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse

from dossiers.models import State

TEMPLATES = Path(settings.BASE_DIR) / "templates"
RENDERS_FIELDS = re.compile(r"_field\.html|\bfield\.errors|\bform\.errors|\{\{ ?form\.\w+ ?\}\}|\{\{ ?field ?\}\}")


def text(response) -> str:
    return unescape(response.content.decode()).replace("\xa0", " ")


class _Summary(HTMLParser):
    """The error summary's attributes, its links, and the ids present in the page."""

    def __init__(self):
        super().__init__()
        self.summaries: list[dict] = []
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if "data-error-summary" in attrs:
            self.summaries.append(attrs)
            self.depth = 1
        elif self.depth and tag == "div":
            self.depth += 1
        elif self.depth and tag == "a":
            self.links.append(attrs["href"])

    def handle_endtag(self, tag):
        if self.depth and tag == "div":
            self.depth -= 1


def summary_of(response) -> _Summary:
    parser = _Summary()
    parser.feed(response.content.decode())
    return parser


def assert_summary_links_its_fields(response, *field_ids):
    summary = summary_of(response)
    assert len(summary.summaries) == 1
    attrs = summary.summaries[0]
    assert attrs["role"] == "alert" and attrs["tabindex"] == "-1"   # announced, and focusable by the script
    assert summary.links == [f"#{field_id}" for field_id in field_ids]
    assert all(field_id in summary.ids for field_id in field_ids)   # each link lands on its field


# --- the error summary -------------------------------------------------------------------------------------------

def test_a_failed_upload_opens_with_a_summary_linked_to_each_field(dossier_at, as_manager):
    dossier = dossier_at(State.DRAFT)
    response = as_manager.post(reverse("dossier-document-upload", args=[dossier.pk]), {"kind": ""})
    assert response.status_code == 400
    assert_summary_links_its_fields(response, "id_kind", "id_file")
    assert "Le formulaire contient 2 erreurs" in text(response)


def test_a_page_whose_forms_did_not_fail_has_no_summary(dossier_at, as_manager):
    dossier = dossier_at(State.DRAFT)
    for url in (reverse("dossier-detail", args=[dossier.pk]), reverse("dossier-create"), reverse("dossier-list")):
        assert summary_of(as_manager.get(url)).summaries == [], url


def test_a_failed_creation_links_its_field(as_manager):
    response = as_manager.post(reverse("dossier-create"), {"client": "", "solution": "", "reference": ""})
    assert response.status_code == 400
    summary = summary_of(response)
    assert summary.links and all(link.startswith("#id_") and link[1:] in summary.ids for link in summary.links)


def test_a_failed_transition_summary_uses_the_prefixed_ids(dossier_at, as_manager):
    dossier = dossier_at(State.DRAFT)
    response = as_manager.post(reverse("dossier-transition", args=[dossier.pk, "sign_bdc"]), {
        "sign_bdc-signed_on": "pas une date", "sign_bdc-signer_name": "P", "sign_bdc-signature_type": "handwritten"})
    assert response.status_code == 400
    assert_summary_links_its_fields(response, "id_sign_bdc-signed_on")
    assert 'id="sign_bdc-error-summary"' in response.content.decode()


def test_a_wrong_password_is_summarised_without_saying_which_field(db, client):
    from ..factories import UserFactory

    UserFactory(username="marie")
    response = client.post(reverse("login"), {"username": "marie", "password": "faux"})
    summary = summary_of(response)
    assert len(summary.summaries) == 1 and summary.links == []
    assert "Identifiant ou mot de passe incorrect. Les majuscules comptent." in text(response)
    assert summary_of(client.get(reverse("login"))).summaries == []


def test_a_bad_filter_is_summarised_and_linked(as_manager):
    response = as_manager.get(reverse("deadlines"), {"due_before": "demain"})
    assert "Les filtres ne sont pas valides" in text(response)
    assert_summary_links_its_fields(response, "id_due_before")
    assert summary_of(as_manager.get(reverse("deadlines"))).summaries == []


def test_every_form_template_includes_the_error_summary():
    missing = []
    for path in TEMPLATES.rglob("*.html"):
        source = path.read_text()
        if "<form" in source and RENDERS_FIELDS.search(source) and "_form_errors.html" not in source:
            missing.append(str(path.relative_to(TEMPLATES)))
    assert missing == []


def test_the_summary_is_focused_by_a_static_script():
    script = Path(finders.find("js/segurtrack.js")).read_text()
    assert "[data-error-summary]" in script and ".focus()" in script


# --- the menu ----------------------------------------------------------------------------------------------------

def test_the_menu_has_a_toggle_that_controls_it_and_is_hidden_until_the_script_runs(as_manager):
    page = as_manager.get(reverse("home")).content.decode()
    toggle = re.search(r"<button[^>]*data-menu-toggle[^>]*>", page).group(0)
    assert 'aria-expanded="false"' in toggle and 'aria-controls="site-menu"' in toggle
    assert " hidden" in toggle       # without JavaScript the button is absent and the menu stays open
    assert 'id="site-menu"' in page and 'class="site-nav"' in page
    assert '<script src="/static/js/segurtrack.js" defer></script>' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)   # CSP: no inline script
    assert "style=" not in page and "<style" not in page


def test_a_signed_out_page_has_no_menu_toggle(client):
    page = client.get(reverse("login")).content.decode()
    assert "data-menu-toggle" not in page


def test_the_stylesheet_collapses_the_menu_on_narrow_screens_only_with_the_script():
    css = Path(finders.find("css/segurtrack.css")).read_text()
    assert ".site-header--js .site-menu { display: none; }" in css
    assert ".site-header--js.site-header--open .site-menu" in css
    script = Path(finders.find("js/segurtrack.js")).read_text()
    assert "site-header--js" in script and "aria-expanded" in script
