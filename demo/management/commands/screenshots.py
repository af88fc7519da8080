"""Save PNG screenshots of the main pages (Playwright on Debian's Chromium) for the README.

By default the pages are served from a throwaway SQLite database filled by `import_faq` and `seed_demo`, so
the pictures are the same on every machine and the working database is left alone; `--current-db` serves
the current database instead (running `seed_demo` first when its organisation is missing).
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--lang=fr-FR"]
DEMO_DOSSIERS = 60


class Command(BaseCommand):
    help = "Enregistre des captures d'écran PNG des pages principales (accueil, dossiers, dossier, solde, client, FAQ)."

    def add_arguments(self, parser):
        parser.add_argument("--output", default=str(settings.BASE_DIR / "docs" / "screenshots"),
                            help="Dossier des PNG (défaut : docs/screenshots).")
        parser.add_argument("--width", type=int, default=1280)
        parser.add_argument("--height", type=int, default=900)
        parser.add_argument("--current-db", action="store_true",
                            help="Utiliser la base courante (seed_demo est lancé si la démo manque).")
        parser.add_argument("--chromium", default=CHROMIUM, help="Exécutable de Chromium (défaut /usr/bin/chromium).")

    def handle(self, *args, output: str, width: int, height: int, current_db: bool, chromium: str, **options):
        if not Path(chromium).exists():
            raise CommandError(f"Chromium introuvable : {chromium} (apt-get install chromium).")
        output_dir = Path(output).resolve()
        output_dir.mkdir(parents=True, exist_ok=True)
        if not current_db:
            self._run_in_throwaway_database(output_dir, width, height, chromium)
            return
        self._prepare_current_database()
        shots = capture(output_dir, width=width, height=height, chromium=chromium, log=self.stdout.write)
        self.stdout.write(self.style.SUCCESS(f"{len(shots)} captures dans {output_dir}"))

    def _run_in_throwaway_database(self, output_dir: Path, width: int, height: int, chromium: str) -> None:
        """Re-run this command with --current-db against a fresh SQLite file (documents in a temp dir too)."""
        with tempfile.TemporaryDirectory(prefix="segurtrack-shots-") as tmp:
            env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/demo.sqlite3", "DOCUMENT_ROOT": f"{tmp}/documents",
                   "CELERY_BROKER_URL": "", "DJANGO_DEBUG": "0"}
            manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
            for step in (["migrate", "--no-input", "-v0"], ["screenshots", "--current-db", "--output", str(output_dir),
                                                            "--width", str(width), "--height", str(height),
                                                            "--chromium", chromium]):
                completed = subprocess.run([*manage, *step], env=env, cwd=settings.BASE_DIR)
                if completed.returncode:
                    raise CommandError(f"Échec de : manage.py {' '.join(step)}")

    def _prepare_current_database(self) -> None:
        from faqref.models import Entry
        from organisations.models import Organisation

        from demo.seed.data import DEMO_ORGANISATION

        if not Entry.objects.exists():
            try:
                call_command("import_faq", stdout=self.stdout, stderr=self.stderr)
            except CommandError as error:  # the FAQ seeds may be absent: the FAQ page is then empty
                self.stderr.write(f"import_faq : {error}")
        if not Organisation.objects.filter(name=DEMO_ORGANISATION).exists():
            call_command("seed_demo", dossiers=DEMO_DOSSIERS, stdout=self.stdout)


def _demo_session() -> tuple[str, dict[str, int]]:
    """A session cookie for the demo manager, and the dossiers each screenshot shows (read before the browser)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from dossiers.models import Dossier, State
    from organisations.current import SESSION_KEY
    from organisations.models import Membership, Organisation, Role

    from demo.seed.data import DEMO_ORGANISATION

    organisation = Organisation.objects.get(name=DEMO_ORGANISATION)
    membership = (Membership.objects.filter(organisation=organisation, role=Role.MANAGER).select_related("user")
                  .order_by("user__username").first())
    if membership is None:
        raise CommandError("Aucun gestionnaire dans l'organisation de démo.")
    client = Client()
    client.force_login(get_user_model().objects.get(pk=membership.user_id))
    session = client.session
    session[SESSION_KEY] = organisation.pk
    session.save()
    dossiers = Dossier.objects.filter(organisation=organisation)
    blocked_va = dossiers.filter(state=State.VA_SIGNED).order_by("id")
    picks = {
        # a dossier with a long path and a blocked next step shows the most of the diagram
        "detail": (dossiers.filter(state=State.VA_SIGNED, blockers__isnull=False).order_by("id").first()
                   or dossiers.filter(state=State.DEPLOYED).order_by("id").first() or dossiers.order_by("id").first()),
        "solde": blocked_va.filter(blockers__isnull=False).first() or blocked_va.first(),
        "draft": dossiers.filter(state=State.DRAFT, blockers__rule="bdc.document").order_by("id").first(),
    }
    return session.session_key, {name: dossier.pk for name, dossier in picks.items() if dossier is not None}


def capture(output_dir: Path, *, width: int, height: int, chromium: str, log=print) -> list[Path]:
    """Serve the site from a live server thread and screenshot each page; returns the files written."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread
    from django.test.utils import override_settings
    from playwright.sync_api import sync_playwright

    session_key, picks = _demo_session()
    server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    server.daemon = True
    # The live server wraps the site in a media-files handler built from MEDIA_URL, which this project leaves
    # unset (documents have no public URL); give it a path nothing uses while the thread builds its handlers.
    with override_settings(MEDIA_URL="/_no-media/"):
        server.start()
        server.is_ready.wait()
    if server.error:
        raise server.error
    base = f"http://127.0.0.1:{server.port}"
    shots: list[Path] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            anonymous = browser.new_context(viewport={"width": width, "height": height}, locale="fr-FR")
            page = anonymous.new_page()

            def shoot(name: str, path: str, prepare=None) -> None:
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                if prepare:
                    prepare()
                target = output_dir / f"{name}.png"
                page.screenshot(path=str(target))
                shots.append(target)
                log(f"  {target.name}  ←  {path}")

            shoot("00-connexion", "/login/")
            context = browser.new_context(viewport={"width": width, "height": height}, locale="fr-FR")
            context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session_key, "url": base}])
            page = context.new_page()
            shoot("01-accueil", "/")
            shoot("02-dossiers", "/dossiers/")
            if "detail" in picks:
                shoot("03-dossier-diagramme", f"/dossiers/{picks['detail']}/")
            if "solde" in picks:
                shoot("04-liste-solde", f"/dossiers/{picks['solde']}/solde/")
            if "draft" in picks:
                def refuse_signature() -> None:
                    page.locator("#action-sign_bdc > summary").click()
                    form = page.locator("form[data-transition='sign_bdc']")
                    form.get_by_label("Signataire").fill("Claire Dubois")
                    form.get_by_label("Type de signature").select_option("handwritten")
                    form.get_by_role("button").click()
                    page.wait_for_load_state("networkidle")
                    page.locator("#refusal").scroll_into_view_if_needed()
                shoot("05-transition-refusee", f"/dossiers/{picks['draft']}/", refuse_signature)

            def type_identifiers() -> None:
                page.get_by_label("Raison sociale").fill("Centre hospitalier de Lourdes")
                page.get_by_label("FINESS géographique").press_sequentially("010003820", delay=20)
                page.get_by_label("SIRET").press_sequentially("12345678901234", delay=20)
                page.get_by_label("SIRET").blur()
                page.wait_for_timeout(700)
            shoot("06-client", "/clients/new/", type_identifiers)
            shoot("07-faq", "/faq/?q=bon+de+commande+signature")
            shoot("08-va-en-attente", "/rapports/va-en-attente/")
            # On a phone (390 px): the list with its menu opened, and a dossier page (no sideways scrolling).
            phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR", device_scale_factor=2)
            phone.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session_key, "url": base}])
            page = phone.new_page()
            shoot("11-telephone-menu", "/dossiers/", lambda: page.get_by_role("button", name="Menu").click())
            if "detail" in picks:
                shoot("12-telephone-dossier", f"/dossiers/{picks['detail']}/",
                      lambda: page.locator("#steps").scroll_into_view_if_needed())
            browser.close()
    finally:
        server.terminate()
    return shots
