"""Two real `celery beat` processes on one Redis: only the lock holder sends; the other takes over when it dies.

Each beat is a subprocess of the venv with a probe entry that publishes one message a second to a queue no worker
consumes (SEGURTRACK_BEAT_PROBE_QUEUE, segurtrack/celery.py); the test counts the messages in Redis.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
CELERY = Path(sys.executable).with_name("celery")
LOCK_TIMEOUT = 3


def wait_for(predicate: Callable[[], Any], timeout: float = 40, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"Timed out after {timeout}s waiting for {what}")


class Beat:
    """A `celery beat` subprocess; its log (debug level) tells whether it holds the lock and what it sent."""

    def __init__(self, log: Path, env: dict[str, str], *extra: str):
        self.log = log
        with open(log, "wb") as out:
            self.process = subprocess.Popen([str(CELERY), "-A", "segurtrack", "beat", "-l", "info", *extra],
                                            cwd=settings.BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def holds_lock(self) -> bool:
        return "beat: Acquired lock" in self.text()

    def sent_probes(self) -> int:
        return self.text().count("Sending due task beat-probe")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def beats(tmp_path: Path) -> Iterator[tuple[Callable[..., Beat], redis.Redis, str]]:
    tag = uuid.uuid4().hex[:10]
    probe_queue = f"segurtrack-test-beat-probe-{tag}"
    prefix = f"segurtrack-test-redbeat-{tag}"
    env = {**os.environ, "CELERY_BROKER_URL": REDIS_URL, "CELERY_REDBEAT_KEY_PREFIX": prefix,
           "CELERY_REDBEAT_LOCK_TIMEOUT": str(LOCK_TIMEOUT), "SEGURTRACK_BEAT_PROBE_QUEUE": probe_queue,
           # The real entries (outbox drain…) go to a queue of their own, deleted after the test.
           "CELERY_TASK_DEFAULT_QUEUE": f"segurtrack-test-beat-default-{tag}",
           "DJANGO_SETTINGS_MODULE": "segurtrack.settings", "PYTHONPATH": str(settings.BASE_DIR)}
    env.pop("DATABASE_URL", None)  # beat only reads the schedule: no database needed
    client = redis.Redis.from_url(REDIS_URL)
    started: list[Beat] = []

    def start(name: str, *extra: str) -> Beat:
        beat = Beat(tmp_path / f"{name}.log", env, *extra)
        started.append(beat)
        return beat

    try:
        yield start, client, probe_queue
    finally:
        for beat in started:
            beat.stop(signal.SIGKILL)
        keys = client.keys(f"{prefix}*") + client.keys(f"segurtrack-test-beat-*-{tag}*")
        if keys:
            client.delete(*keys)
        client.close()


@pytest.mark.slow
def test_a_second_beat_sends_nothing_while_the_first_holds_the_lock_then_takes_over(beats):
    start, client, probe_queue = beats
    first = start("first")
    wait_for(lambda: first.sent_probes() >= 1 or first.process.poll() is not None, what="the first beat to send")
    assert first.holds_lock(), first.text()
    second = start("second")
    wait_for(lambda: "beat: Starting" in second.text() or second.process.poll() is not None,
             what="the second beat to start")
    assert second.process.poll() is None, second.text()

    # Both beats run: the queue gets one probe a second, not two.
    time.sleep(2)
    before, began = client.llen(probe_queue), time.monotonic()
    time.sleep(6)
    published, elapsed = client.llen(probe_queue) - before, time.monotonic() - began
    assert 3 <= published <= elapsed + 1.5, (published, elapsed)
    assert not second.holds_lock(), second.text()
    assert second.sent_probes() == 0, second.text()

    # The first beat dies without releasing the lock: the second takes over once the lock expires.
    first.stop(signal.SIGKILL)
    wait_for(second.holds_lock, timeout=LOCK_TIMEOUT + 20, what="the second beat to take the lock")
    resumed = client.llen(probe_queue)
    wait_for(lambda: client.llen(probe_queue) >= resumed + 2, timeout=20, what="probes from the second beat")
    assert second.sent_probes() >= 2


@pytest.mark.slow
def test_without_the_lock_two_beats_would_send_every_tick_twice(beats, tmp_path):
    """The control: Celery's default file scheduler has no lock, and the count above would catch it."""
    start, client, probe_queue = beats
    started = [start(name, "--scheduler", "celery.beat:PersistentScheduler", "--schedule", str(tmp_path / name))
               for name in ("lockless-a", "lockless-b")]
    wait_for(lambda: all(beat.sent_probes() >= 1 for beat in started), what="both lockless beats to send")
    time.sleep(1)
    before, began = client.llen(probe_queue), time.monotonic()
    time.sleep(6)
    published, elapsed = client.llen(probe_queue) - before, time.monotonic() - began
    assert published > elapsed + 1.5, (published, elapsed)
