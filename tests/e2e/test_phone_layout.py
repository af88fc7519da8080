"""At 1280 px and on a phone (390 px): the dossier list, the dossier page and the pre-solde checklist fit the screen
(no horizontal scrolling of the page; wide tables scroll inside their own box), amounts stay whole, and on the phone
the menu collapses behind a button."""
import pytest
from django.urls import reverse
from playwright.sync_api import expect

from dossiers.models import State

from ..factories import walk_to
from .test_accessibility import serious_violations

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
OVERFLOW = "document.documentElement.scrollWidth <= window.innerWidth"
# Elements that stick out of the screen, for a readable failure (a table in its own scrolling box does not).
CULPRITS = """() => [...document.querySelectorAll('body *')].filter(el => {
    const box = el.getBoundingClientRect();
    if (box.right <= window.innerWidth + 1 || box.width === 0) return false;
    for (let up = el.parentElement; up; up = up.parentElement) {
        const style = getComputedStyle(up);
        if (['auto', 'scroll', 'hidden'].includes(style.overflowX) && up.getBoundingClientRect().right <= window.innerWidth + 1)
            return false;
    }
    return true;
}).slice(0, 5).map(el => el.tagName + '.' + el.className + ' ' + Math.round(el.getBoundingClientRect().right))"""


@pytest.fixture
def dossiers(manager_membership):
    """A dossier ready for its solde (the checklist has something in each section) and one far along."""
    ready = walk_to(State.VA_SIGNED, membership=manager_membership)
    walk_to(State.SOLDE_PAID, membership=manager_membership)
    walk_to(State.DEPLOYED, membership=manager_membership)
    return ready


def pages(dossier) -> dict[str, str]:
    return {"list": reverse("dossier-list"), "detail": reverse("dossier-detail", args=[dossier.pk]),
            "checklist": reverse("dossier-solde", args=[dossier.pk])}


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280px", "390px"])
def test_the_list_the_dossier_page_and_the_checklist_fit_the_screen(page, live_server, sign_in, dossiers, viewport):
    page.set_viewport_size(viewport)
    sign_in("manon")
    for name, path in pages(dossiers).items():
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        assert page.evaluate(OVERFLOW), (name, page.evaluate(CULPRITS))
        assert page.evaluate(CULPRITS) == [], name


def test_amounts_on_the_dossier_page_are_whole_and_on_screen_on_a_phone(page, live_server, sign_in, dossiers):
    page.set_viewport_size(PHONE)
    sign_in("manon")
    page.goto(f"{live_server.url}{reverse('dossier-detail', args=[dossiers.pk])}")
    amount = page.locator("#steps dd", has_text="10\u202f000,00\u202f€").first
    amount.scroll_into_view_if_needed()
    box = amount.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    # On one line: an amount broken over two lines ("10 000," / "00 €") is as bad as one cut off.
    lines = """el => { const range = document.createRange(); range.selectNodeContents(el);
                       return new Set([...range.getClientRects()].map(rect => Math.round(rect.top))).size; }"""
    for cell in page.locator("#steps dd").all():
        if "€" in cell.inner_text():
            assert cell.evaluate(lines) == 1, cell.inner_text()


def test_on_a_phone_the_menu_collapses_behind_a_button(page, live_server, sign_in, dossiers):
    page.set_viewport_size(PHONE)
    sign_in("manon")
    toggle = page.get_by_role("button", name="Menu")
    nav = page.get_by_role("navigation", name="Navigation principale")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()
    header = page.locator(".site-header").bounding_box()
    assert header["height"] < PHONE["height"] / 8   # the closed menu no longer takes a third of the screen

    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(nav).to_be_visible()
    assert page.evaluate(OVERFLOW)
    nav.get_by_role("link", name="Dossiers", exact=True).click()
    page.wait_for_url(f"{live_server.url}{reverse('dossier-list')}")
    expect(page.get_by_role("heading", name="Dossiers", level=1)).to_be_visible()

    toggle.click()
    page.keyboard.press("Escape")   # closes it and gives the focus back to the button
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()


def test_at_1280_px_the_menu_is_open_and_there_is_no_toggle(page, live_server, sign_in, dossiers):
    page.set_viewport_size(DESKTOP)
    sign_in("manon")
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(page.get_by_role("navigation", name="Navigation principale")).to_be_visible()


def test_without_javascript_the_phone_menu_stays_open(browser, live_server, manager_membership):
    context = browser.new_context(java_script_enabled=False, viewport=PHONE, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Identifiant").fill("manon")
    page.get_by_label("Mot de passe").fill("segur-test-pw")
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server.url}/")
    expect(page.get_by_role("navigation", name="Navigation principale")).to_be_visible()
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    assert page.evaluate(OVERFLOW)
    context.close()


def test_the_phone_pages_have_no_serious_accessibility_violation(page, live_server, sign_in, dossiers):
    page.set_viewport_size(PHONE)
    sign_in("manon")
    for name, path in pages(dossiers).items():
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        assert serious_violations(page) == [], name
