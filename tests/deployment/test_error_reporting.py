"""Error reporting: with SENTRY_DSN set, an unhandled error of a request reaches the Sentry server the DSN names;
without it, the SDK is not even initialised and nothing is sent."""
from __future__ import annotations

import gzip
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# A request to a view that raises, through the whole middleware stack, in a fresh process (settings read the DSN once).
FAILING_REQUEST = """
import django, sentry_sdk
django.setup()
from django.conf import settings
from django.test import Client
settings.ROOT_URLCONF = "tests.deployment.boom_urls"
status = Client(raise_request_exception=False).get("/boom/").status_code
sentry_sdk.flush(timeout=10)
print(status, sentry_sdk.get_client().is_active())
"""


class Collector(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.received.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        return None


@pytest.fixture
def sentry_server():
    Collector.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], Collector.received
    finally:
        server.shutdown()
        server.server_close()


def failing_request(env_extra: dict[str, str]) -> str:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
    env.update({"DJANGO_SETTINGS_MODULE": "segurtrack.settings", "PYTHONPATH": str(ROOT), "LOG_LEVEL": "CRITICAL",
                **env_extra})
    result = subprocess.run([sys.executable, "-c", FAILING_REQUEST], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.strip().splitlines()[-1]


def test_with_a_dsn_an_unhandled_error_is_reported_without_personal_data(sentry_server):
    port, received = sentry_server
    assert failing_request({"SENTRY_DSN": f"http://publickey@127.0.0.1:{port}/1",
                            "SENTRY_ENVIRONMENT": "test"}) == "500 True"
    events = [body for body in received if b"boom-for-error-reporting" in body]
    assert events, received
    assert b'"environment":"test"' in events[0].replace(b" ", b"")
    assert b"REMOTE_ADDR" not in events[0] and b"Cookie" not in events[0]


def test_without_a_dsn_nothing_is_initialised_nor_sent(sentry_server):
    port, received = sentry_server
    assert failing_request({}) == "500 False"
    assert received == []
