"""docs/integrations.md's openssl recipe agrees with the signature segurtrack sends (and the library's check)."""
import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from django.conf import settings
from standardwebhooks import Webhook

from webhooks.models import new_secret
from webhooks.sending import signed_headers


def shell_recipe() -> str:
    text = (Path(settings.BASE_DIR) / "docs" / "integrations.md").read_text()
    block = re.search(r"\*\*Shell\*\* with openssl.*?```sh\n(.*?)```", text, re.S).group(1)
    return block.replace("SECRET='whsec_…'\n", "")


def run_recipe(secret: str, headers: dict[str, str], body: str, tmp_path) -> str:
    (tmp_path / "body.json").write_text(body, encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "SECRET": secret, "WEBHOOK_ID": headers["webhook-id"],
           "WEBHOOK_TIMESTAMP": headers["webhook-timestamp"], "WEBHOOK_SIGNATURE": headers["webhook-signature"]}
    done = subprocess.run(["bash", "-c", shell_recipe()], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=10)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_documented_openssl_recipe_accepts_a_real_signature_and_refuses_a_changed_body(tmp_path):
    secret = new_secret()
    body = '{"type":"dossier.updated","data":{"dossier":{"reference":"SEG-000042","client":"Clinique Éléonore"}}}'
    headers = signed_headers(secret, "msg_doc", body, datetime.now(timezone.utc))
    Webhook(secret).verify(body, headers)
    assert run_recipe(secret, headers, body, tmp_path) == "valid"
    assert run_recipe(secret, headers, body.replace("42", "43"), tmp_path) == "INVALID"
    assert run_recipe(new_secret(), headers, body, tmp_path) == "INVALID"
