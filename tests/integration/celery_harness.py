"""Real Celery workers on a real Redis broker, for the reminder integration tests.

Workers and sweeps run as separate processes on the pytest test database (the tests are
transactional, so those processes see committed rows), with:
- the broker on a Redis database of their own (REDIS_DB, flushed around each test);
- Django's file-based e-mail backend writing into a temporary folder, so the test counts
  the messages each notification produced (by the X-Il2-Ecrf-Notification header);
- settings `tests.integration.worker_settings`, which read the reminder tunables from the
  environment.

Every process is killed at teardown (SIGKILL of its process group: a warm shutdown would
wait for a blocked send) and every wait is bounded.
"""

import contextlib
import email
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
import redis
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
REDIS_DB = 14
#: Nothing listens on port 1: connections are refused at once.
DEAD_BROKER = "redis://127.0.0.1:1/0"
WAIT_SECONDS = 60
SEPARATOR = b"-" * 79


def wait_until(predicate, what: str, timeout: float = WAIT_SECONDS, interval: float = 0.2):
    """Poll `predicate` until it returns something true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout:.0f} s waiting for {what}.")
        time.sleep(interval)


def redis_url() -> str:
    """CI's broker (CELERY_BROKER_URL) with a database number kept for these tests."""
    base = os.environ.get("CELERY_BROKER_URL", "")
    if not base.startswith("redis://"):
        base = "redis://127.0.0.1:6379/0"
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, f"/{REDIS_DB}", "", ""))


def database_url() -> str:
    """The test database, as a URL the child processes' settings can parse."""
    s = connection.settings_dict
    auth = quote(s["USER"] or "", safe="")
    if s["PASSWORD"]:
        auth += ":" + quote(s["PASSWORD"], safe="")
    socket_or_host = s["HOST"] or s.get("OPTIONS", {}).get("host") or "localhost"
    host = quote(socket_or_host, safe="")  # a socket folder is %-encoded
    port = f":{s['PORT']}" if s["PORT"] else ""
    return f"postgres://{auth + '@' if auth else ''}{host}{port}/{quote(s['NAME'], safe='')}"


class Mailbox:
    """The messages Django's file-based backend wrote (one file per connection)."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def messages(self) -> list[email.message.Message]:
        found = []
        for path in sorted(self.folder.iterdir()):
            for chunk in path.read_bytes().split(SEPARATOR):
                if chunk.strip():
                    found.append(email.message_from_bytes(chunk.strip()))
        return found

    def count_for(self, notification_id: int) -> int:
        return sum(
            1 for m in self.messages() if m["X-Il2-Ecrf-Notification"] == str(notification_id)
        )


class Processes:
    """Workers and one-off Django processes sharing one environment; all killed at the end."""

    def __init__(self, env: dict, folder: Path):
        self.env = env
        self.folder = folder
        self.running: list[subprocess.Popen] = []

    def start_worker(self, name: str, **env) -> subprocess.Popen:
        log = self.folder / f"worker-{name}.log"
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--loglevel=INFO",
            "--pool=prefork",
            "--concurrency=2",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"{name}-{uuid.uuid4().hex[:8]}@%h",
        ]
        with log.open("wb") as out:
            worker = subprocess.Popen(
                command,
                cwd=ROOT,
                env={**self.env, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the pool dies with it
            )
        worker.log = log
        self.running.append(worker)
        wait_until(
            lambda: worker.poll() is not None or b" ready." in log.read_bytes(),
            f"worker {name} to start",
        )
        if worker.poll() is not None:
            raise AssertionError(f"Worker {name} exited:\n{log.read_text()}")
        return worker

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL the process and its children, as an OOM killer or a power cut would."""
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=WAIT_SECONDS)

    def kill_all(self) -> None:
        for process in self.running:
            self.kill(process)

    def django(self, code: str, **env) -> subprocess.Popen:
        """Start `code` in a fresh Django process (collect it with `finish`)."""
        process = subprocess.Popen(
            [sys.executable, "-c", "import django\ndjango.setup()\n" + textwrap.dedent(code)],
            cwd=ROOT,
            env={**self.env, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.running.append(process)
        return process

    def finish(self, process: subprocess.Popen) -> str:
        try:
            out, err = process.communicate(timeout=WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill(process)
            raise
        assert process.returncode == 0, err
        return out + err

    def run(self, code: str, **env) -> str:
        return self.finish(self.django(code, **env))


@dataclass
class Rig:
    processes: Processes
    mailbox: Mailbox
    broker: redis.Redis


def require_redis(url: str):
    """A client for the tests' Redis database; skip without Redis (fail on CI)."""
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        reason = f"Redis is unreachable at {url} ({exc}); the Celery tests need it."
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return client


@contextmanager
def celery_rig(folder: Path):
    """An empty broker database, a mailbox, and a spawner whose processes die at the end.

    Use it inside a fixture that depends on `transactional_db`, so that every process is
    gone before the test database is flushed.
    """
    url = redis_url()
    broker = require_redis(url)
    broker.flushdb()
    mailbox = Mailbox(folder / "mail")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.integration.worker_settings",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": url,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mailbox.folder),
        "DEBUG": "1",
        "PYTHONUNBUFFERED": "1",
    }
    processes = Processes(env, folder)
    try:
        yield Rig(processes=processes, mailbox=mailbox, broker=broker)
    finally:
        processes.kill_all()
        broker.flushdb()


def broker_idle(client) -> bool:
    """No message waiting in the queue, and none delivered but not yet acknowledged."""
    return client.llen("celery") == 0 and client.hlen("unacked") == 0
