"""The processes of a deployment past one machine, started on this one for a test: PgBouncer (transaction pooling)
in front of the test database, moto's S3 server, gunicorn web processes and a Celery worker, all subprocesses on
free loopback ports, each with its own log in a temporary directory, all stopped by `stop_all`."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from ..reports.test_worker import wait_for

START_SECONDS = 90  # a Django process starting on a busy shared machine

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
BUCKET = "segurtrack-cluster"
S3_KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_S3_REGION_NAME": "us-east-1"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5):
            return True
    except urllib.error.HTTPError:
        return True  # it answered, whatever it said
    except OSError:
        return False


def pgbouncer_binary() -> str:
    """Debian's pgbouncer; installed on the spot when missing and this runs as root (as CI does)."""
    found = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None)
    if found is None and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-qq", "pgbouncer"], check=False, capture_output=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, timeout=600)
        if not Path("/usr/sbin/pgbouncer").exists():
            subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True, timeout=600)
            subprocess.run(["apt-get", "install", "-y", "-qq", "pgbouncer"], check=True, capture_output=True,
                           env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, timeout=600)
        found = "/usr/sbin/pgbouncer"
    if found is None:
        raise AssertionError("pgbouncer is required: apt-get install pgbouncer")
    return found


class Process:
    def __init__(self, name: str, command: list[str], log: Path, env: dict[str, str] | None = None):
        self.name, self.log = name, log
        with open(log, "wb") as out:
            self.popen = subprocess.Popen(command, cwd=ROOT, env=env or dict(os.environ), stdout=out,
                                          stderr=subprocess.STDOUT, start_new_session=True)

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)


class Cluster:
    """Start the parts one by one; `stop_all` ends each process this cluster started, and only those."""

    def __init__(self, database: dict[str, Any], redis_url: str):
        self.database, self.redis_url = database, redis_url
        # Not under pytest's tmp_path: PgBouncer, run as root, drops to the postgres user, who must read its files.
        self.dir = Path(tempfile.mkdtemp(prefix="segurtrack-cluster-"))
        self.dir.chmod(0o755)
        self.processes: list[Process] = []
        self.queue = f"segurtrack-cluster-{uuid.uuid4().hex[:10]}"
        self.pgbouncer_port = self.s3_port = 0

    def start(self, name: str, command: list[str], env: dict[str, str] | None = None) -> Process:
        process = Process(name, command, self.dir / f"{name}.log", env)
        self.processes.append(process)
        return process

    def start_pgbouncer(self) -> Process:
        self.pgbouncer_port = free_port()
        db = self.database
        (self.dir / "userlist.txt").write_text(f'"{db["USER"]}" ""\n')
        lines = [
            "[databases]",
            f"{db['NAME']} = host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} dbname={db['NAME']}",
            "[pgbouncer]",
            "listen_addr = 127.0.0.1", f"listen_port = {self.pgbouncer_port}", "unix_socket_dir =",
            "auth_type = trust", f"auth_file = {self.dir / 'userlist.txt'}",
            "pool_mode = transaction", "default_pool_size = 8", "max_client_conn = 100",
            "server_reset_query =", "ignore_startup_parameters = extra_float_digits",
            f"logfile = {self.dir / 'pgbouncer-own.log'}", f"pidfile = {self.dir / 'pgbouncer.pid'}",
        ]
        if os.geteuid() == 0:
            lines.append("user = postgres")
        ini = self.dir / "pgbouncer.ini"
        ini.write_text("\n".join(lines) + "\n")
        if os.geteuid() == 0:
            shutil.chown(self.dir, user="postgres")
            for path in self.dir.iterdir():
                shutil.chown(path, user="postgres")
        process = self.start("pgbouncer", [pgbouncer_binary(), str(ini)])
        wait_for(lambda: self._listening(self.pgbouncer_port) or not process.alive(),
                 timeout=START_SECONDS, what="PgBouncer to listen")
        assert process.alive(), process.text() + (self.dir / "pgbouncer-own.log").read_text(errors="replace")
        return process

    def start_s3(self) -> Process:
        self.s3_port = free_port()
        process = self.start("s3", [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(self.s3_port)])
        wait_for(lambda: answers(self.s3_url) or not process.alive(),
                 timeout=START_SECONDS, what="the S3 server to answer")
        assert process.alive(), process.text()
        self.s3_client().create_bucket(Bucket=BUCKET)
        return process

    def s3_client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.s3_url, region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    @property
    def s3_url(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    @staticmethod
    def _listening(port: int) -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    def env(self, **extra: str) -> dict[str, str]:
        """What every web and worker process of the deployment reads (docs/deployment.md)."""
        db = self.database
        keep = {k: v for k, v in os.environ.items()
                if not k.startswith(("AWS_", "DATABASE_", "CELERY_", "STORAGE_", "SENTRY_", "CACHE_URL", "REDIS_URL"))}
        return {**keep, "DJANGO_SETTINGS_MODULE": "segurtrack.settings", "PYTHONPATH": str(ROOT),
                "DATABASE_URL": f"postgres://{db['USER']}@127.0.0.1:{self.pgbouncer_port}/{db['NAME']}",
                "DATABASE_DISABLE_SERVER_SIDE_CURSORS": "1",
                "STORAGE_BACKEND": "s3", "AWS_S3_ENDPOINT_URL": self.s3_url, "AWS_STORAGE_BUCKET_NAME": BUCKET,
                **S3_KEYS, "REDIS_URL": self.redis_url, "CELERY_BROKER_URL": self.redis_url,
                "CELERY_TASK_DEFAULT_QUEUE": self.queue, "LOG_FORMAT": "json",
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1", "WEBHOOK_EAGER_THREADS": "0",
                "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend", **extra}

    def start_web(self, name: str, workers: int = 1) -> str:
        port = free_port()
        process = self.start(name, [str(BIN / "gunicorn"), "segurtrack.wsgi", "--bind", f"127.0.0.1:{port}",
                                    "--workers", str(workers), "--timeout", "120"], self.env())
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: answers(f"{base}/health/") or not process.alive(),
                 timeout=START_SECONDS, what=f"{name} to answer")
        assert process.alive(), process.text()
        return base

    def start_worker(self) -> Process:
        process = self.start("worker", [str(BIN / "celery"), "-A", "segurtrack", "worker", "-P", "solo", "-c", "1",
                                        "--without-heartbeat", "--without-mingle", "--without-gossip",
                                        "-Q", self.queue, "-n", f"{self.queue}@%h", "-l", "info"], self.env())
        wait_for(lambda: "ready" in process.text() or not process.alive(),
                 timeout=START_SECONDS, what="the worker to start")
        assert process.alive(), process.text()
        return process

    def pgbouncer_log(self) -> str:
        path = self.dir / "pgbouncer-own.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def log(self, name: str) -> str:
        return next(process for process in self.processes if process.name == name).text()

    def stop_all(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        import redis

        client = redis.Redis.from_url(self.redis_url)
        keys = client.keys(f"*{self.queue}*")
        client.delete(self.queue, *keys)
        client.close()
        shutil.rmtree(self.dir, ignore_errors=True)
