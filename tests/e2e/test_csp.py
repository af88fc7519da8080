"""In a real browser, under the Content-Security-Policy: pages load and htmx swaps fragments with zero violations,
and an inline script is refused (so the check that counts violations can see one)."""
import pytest
from django.urls import reverse
from playwright.sync_api import expect

from dossiers.models import Notification, State
from reports.models import ExportJob

from ..factories import walk_to

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Recorded before any page script runs: every violation the browser reports on the page.
LISTEN = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', e => window.__violations.push(
    e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + e.sourceFile + ':' + e.lineNumber));
"""


def watch(page) -> list[str]:
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text)
            if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text else None)
    page.add_init_script(LISTEN)
    return console


def test_pages_and_htmx_work_under_the_policy_with_zero_violations(page, live_server, sign_in, manager_membership):
    walk_to(State.DEPLOYED, membership=manager_membership)
    Notification.objects.filter(user=manager_membership.user).delete()
    Notification.objects.create(user=manager_membership.user, organisation=manager_membership.organisation,
                                message="Une notification de test")
    console = watch(page)
    response = page.request.get(f"{live_server.url}/login/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    sign_in("manon")
    # The unread badge is an htmx fragment loaded after the page.
    expect(page.locator(".nav-unread .nav-badge")).to_contain_text("1")
    for name in ("home", "dossier-list", "client-list", "faqref:index", "report-pipeline", "deadlines",
                 "password_change"):
        page.goto(f"{live_server.url}{reverse(name)}")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__violations") == [], name
    page.goto(f"{live_server.url}{reverse('report-pending-va')}")
    expect(page.locator("#export-job")).to_contain_text("Aucun export en arrière-plan lancé.")
    page.get_by_role("button", name="Lancer un export en arrière-plan").click()
    # htmx posted the form and swapped the job's fragment in place (no page load).
    expect(page.locator("#export-job")).to_contain_text("Export en arrière-plan")
    assert ExportJob.objects.count() == 1
    assert page.evaluate("window.htmx.config.includeIndicatorStyles") is False
    assert page.evaluate("window.__violations") == []
    assert console == []


def test_an_inline_script_is_refused_and_reported(page, live_server, sign_in, manager_membership):
    console = watch(page)
    sign_in("manon")
    page.evaluate("""() => { const s = document.createElement('script');
                             s.textContent = 'window.__ran = true'; document.body.appendChild(s); }""")
    page.wait_for_timeout(200)
    assert page.evaluate("window.__ran") is None
    assert any(v.startswith("script-src") for v in page.evaluate("window.__violations"))
    assert console
