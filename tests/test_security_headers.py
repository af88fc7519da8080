"""The response headers of a page under production settings are the ones docs/security.md lists (this test
renders the table; the document must carry it between its markers)."""
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "security.md"
BEGIN, END = "<!-- headers:begin -->", "<!-- headers:end -->"

SCRIPT = """
import json, django
django.setup()
from django.core.management import call_command
call_command("collectstatic", "--noinput", verbosity=0)
from django.test import Client
response = Client(HTTP_HOST="segurtrack.example.fr").get("/login/", secure=True)
print(json.dumps({"status": response.status_code, "headers": dict(response.headers.items()),
                  "cookies": {name: dict(morsel.items()) for name, morsel in response.cookies.items()}}))
"""


def production_sign_in_page(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_DEBUG", "DJANGO_CSP"}}
    env.update({"DJANGO_PRODUCTION": "1", "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
                "HISTORY_ANCHOR_KEY": secrets.token_urlsafe(32),
                "DJANGO_ALLOWED_HOSTS": "segurtrack.example.fr", "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
                "DJANGO_SETTINGS_MODULE": "segurtrack.settings", "PYTHONPATH": str(ROOT)})
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def header_table(answer: dict) -> str:
    rows = []
    for name, value in sorted(answer["headers"].items()):
        if name == "Content-Length":
            continue
        if name == "Expires":
            value = "(the time of the response)"
        elif name == "Content-Security-Policy":
            value = "; ".join(sorted(part.strip() for part in value.split(";")))
        rows.append(f"| `{name}` | `{value}` |")
    for name, morsel in sorted(answer["cookies"].items()):
        flags = [flag for flag, on in (("Secure", morsel["secure"]), ("HttpOnly", morsel["httponly"])) if on]
        rows.append(f"| `Set-Cookie` | `{name}=…; Path={morsel['path']}; {'; '.join(flags)}; "
                    f"SameSite={morsel['samesite']}` |")
    return "\n".join(["| header | value |", "|---|---|", *rows])


@pytest.mark.slow
def test_the_documented_headers_are_the_production_ones(tmp_path):
    answer = production_sign_in_page(tmp_path)
    assert answer["status"] == 200
    table = header_table(answer)
    text = DOC.read_text(encoding="utf-8")
    documented = text[text.index(BEGIN) + len(BEGIN):text.index(END)].strip()
    assert documented == table, f"docs/security.md should list:\n{table}"


@pytest.mark.slow
def test_production_pages_carry_a_policy_without_inline_script(tmp_path):
    headers = production_sign_in_page(tmp_path)["headers"]
    policy = {part.split()[0]: part.split()[1:] for part in headers["Content-Security-Policy"].split("; ")}
    assert policy["script-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
