"""Sign-in is rate-limited: repeated failures lock one username from one address, on the pages and the admin."""
import pytest
from django.test import Client
from django.urls import reverse

from ..factories import MembershipFactory

pytestmark = pytest.mark.django_db
PASSWORD = "segur-test-pw"


def _login(client, username, password, url=None, ip="203.0.113.7"):
    return client.post(url or reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_five_failures_lock_the_account_for_that_address_even_with_the_right_password(client, settings):
    membership = MembershipFactory(user__username="lea")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, "lea", "wrong").status_code == 200  # the form again, with its error
    locked = _login(client, "lea", "wrong")
    assert locked.status_code == 429
    assert "Connexion temporairement suspendue" in locked.content.decode()
    assert _login(client, "lea", PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session
    assert membership.user.username == "lea"


def test_the_lock_does_not_spill_over_to_other_users_or_addresses(client, settings):
    MembershipFactory(user__username="lea")
    MembershipFactory(user__username="marc")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "lea", "wrong")
    assert _login(client, "marc", PASSWORD).status_code == 302
    client.logout()
    assert _login(client, "lea", PASSWORD, ip="198.51.100.4").status_code == 302


def test_a_success_resets_the_failure_count(client, settings):
    MembershipFactory(user__username="lea")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "lea", "wrong")
    assert _login(client, "lea", PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, "lea", "wrong").status_code == 200


def test_the_admin_sign_in_is_limited_too(client, settings):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("root", "r@example.fr", PASSWORD)
    url = reverse("admin:login")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "root", "wrong", url=url)
    assert _login(client, "root", PASSWORD, url=url).status_code == 429


# Behind one reverse proxy: REMOTE_ADDR is the proxy's; the proxy appends the address it saw to X-Forwarded-For.
PROXY = "10.0.0.2"


def _via_proxy(client, username, password, *, seen_by_proxy: str, forged: str | None = None):
    header = f"{forged}, {seen_by_proxy}" if forged else seen_by_proxy
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=PROXY,
                       HTTP_X_FORWARDED_FOR=header)


def test_behind_a_proxy_one_attacker_cannot_lock_a_user_out_for_everybody(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    MembershipFactory(user__username="lea")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _via_proxy(client, "lea", "wrong", seen_by_proxy="203.0.113.66")
    assert _via_proxy(client, "lea", PASSWORD, seen_by_proxy="203.0.113.66").status_code == 429
    # Léa, from her own address through the same proxy, signs in.
    assert _via_proxy(Client(), "lea", PASSWORD, seen_by_proxy="198.51.100.4").status_code == 302


def test_a_forged_forwarded_for_changes_nothing(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    MembershipFactory(user__username="lea")
    # The attacker writes Léa's address into the header: the proxy appends theirs, and theirs is what counts.
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _via_proxy(client, "lea", "wrong", seen_by_proxy="203.0.113.66", forged="198.51.100.4")
    assert _via_proxy(Client(), "lea", PASSWORD, seen_by_proxy="198.51.100.4").status_code == 302
    # Nor does a fresh forged address each time let the attacker escape their own lock.
    assert _via_proxy(client, "lea", PASSWORD, seen_by_proxy="203.0.113.66", forged="192.0.2.99").status_code == 429


def test_without_a_trusted_proxy_the_header_is_ignored(client, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    MembershipFactory(user__username="lea")
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "lea", "password": "wrong"}, REMOTE_ADDR="203.0.113.66",
                    HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    locked = client.post(reverse("login"), {"username": "lea", "password": PASSWORD}, REMOTE_ADDR="203.0.113.66",
                         HTTP_X_FORWARDED_FOR="192.0.2.200")
    assert locked.status_code == 429


def test_the_proxy_count_comes_from_the_environment():
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = "import django; django.setup(); from django.conf import settings; print(settings.TRUSTED_PROXY_COUNT)"
    env = {k: v for k, v in os.environ.items() if k not in {"TRUSTED_PROXY_COUNT", "DJANGO_PROXY_COUNT"}}
    env["DJANGO_SETTINGS_MODULE"] = "segurtrack.settings"
    root = Path(__file__).resolve().parents[2]
    run = lambda extra: subprocess.run([sys.executable, "-c", code], cwd=root, env={**env, **extra},  # noqa: E731
                                       capture_output=True, text=True, timeout=60).stdout.strip()
    assert run({}) == "0"
    assert run({"TRUSTED_PROXY_COUNT": "2"}) == "2"
