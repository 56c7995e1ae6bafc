"""`make bench`: time the main pages on a synthetic study of each size, and compare sizes.

    python -m bench.run                         # 500 and 5,000 participants
    python -m bench.run --participants 200      # a quick run

For each size: a fresh database on DATABASE_URL's server (`<name>_bench_<size>`, dropped
at the end unless --keep), migrated and filled by `bench.generate`; gunicorn with DEBUG
off on loopback; p50 / p95 of each page over HTTP; the queries of each page (counted
in-process with Django's test client on the same database and settings: the server is
not changed to report them); the reminder sweep over the whole study, the sending of what
it recorded to a local SMTP sink (bench.smtp_sink: safety reminders one by one, routine
ones in digests), and the enrolment of fresh participants, timed in-process. The table goes
to stdout and to bench/results.md.

    python -m bench.run --tasks                 # the timed tasks alone, on DATABASE_URL

runs the tasks (sweep, sending, enrolment) once on a study `bench.generate` already built
in DATABASE_URL's database, and prints their table without writing bench/results.md.
"""

import argparse
import http.client
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results.md"
SECRET = "bench-only-secret-key-" + "k" * 40


# HTTP ---------------------------------------------------------------------------------------


class Session:
    """A browser's cookies over plain HTTP (the server's cookies are marked Secure, which a
    cookie jar would refuse to send back over loopback HTTP)."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None):
        headers = {"Host": "127.0.0.1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            form = {**form, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")}
            body = urllib.parse.urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        with closing(http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)) as conn:
            started = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            content = response.read()
            elapsed = time.perf_counter() - started
            for header in response.headers.get_all("Set-Cookie") or ():
                name, _, rest = header.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, content, elapsed

    def login(self, username: str, password: str) -> float:
        """Log in as a browser does; returns the time of the POST alone."""
        self.request("GET", "/accounts/login/")
        status, content, elapsed = self.request(
            "POST", "/accounts/login/", {"username": username, "password": password}
        )
        if status != 302:
            raise RuntimeError(f"login of {username} failed: HTTP {status} {content[:300]!r}")
        return elapsed


def free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            status, _, _ = Session(port).request("GET", "/accounts/login/")
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer on port {port}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))
    return ordered[index]


# Measuring (in the child process, Django set up on the size's database) -------------------


def measure(*, port: int, requests: int, seconds: float) -> dict:
    import django

    django.setup()
    from bench.generate import PASSWORD, load_bench
    from bench.pages import LOGIN, measured_pages, path_of, query_counts

    bench = load_bench()
    pages = measured_pages(bench)
    post = next(p for p in pages if p.method == "POST" and p.name != LOGIN)
    # Timed POSTs use the first targets; the query count uses the last one.
    counts = query_counts(bench, post_index=(post.limit or 1) - 1)
    rows = []
    for page in pages:
        times = []
        deadline = time.monotonic() + seconds
        budget = requests if page.limit is None else min(requests, page.limit - 1)
        if page.name == LOGIN:
            for _ in range(budget):
                times.append(Session(port).login(page.user.username, PASSWORD))
                if time.monotonic() > deadline:
                    break
        else:
            session = Session(port)
            session.login(page.user.username, PASSWORD)
            if page.method == "GET":
                for _ in range(2):  # warm the worker processes' caches
                    session.request("GET", page.path)
            for k in range(budget):
                form = page.data(k) if page.data else None
                status, content, elapsed = session.request(page.method, path_of(page, k), form)
                if status not in page.expect:
                    raise RuntimeError(f"{page.name}: HTTP {status} {content[:300]!r}")
                times.append(elapsed)
                if time.monotonic() > deadline:
                    break
        rows.append(
            {
                "page": page.name,
                "n": len(times),
                "p50": percentile(times, 0.5) * 1000 if times else None,
                "p95": percentile(times, 0.95) * 1000 if times else None,
                "queries": counts[page.name],
            }
        )
    return {"pages": rows, "tasks": [_password_check(pages[0].user), *_tasks(bench)]}


def _password_check(user) -> dict:
    """What a login pays on purpose: Argon2 is memory-hard (~0.1 s a check on a quiet core),
    as the targets set enrolment apart from its e-signature's check. Timed in this process
    on the login page's user, so the login's row can be read as this plus the page."""
    from django.contrib.auth.hashers import check_password

    from bench.generate import PASSWORD

    checks = []
    for _ in range(10):
        with timed() as timing:
            check_password(PASSWORD, user.password)
        checks.append(timing)
    return {
        "task": f"password check of a login (Argon2, p50 / p95 of {len(checks)})",
        "ms": percentile([t["ms"] for t in checks], 0.5),
        "p95": percentile([t["ms"] for t in checks], 0.95),
        "cpu_ms": percentile([t["cpu_ms"] for t in checks], 0.5),
        "db_ms": 0.0,
        "queries": 0,
    }


@contextmanager
def timed():
    """The block's wall-clock time, this process's CPU time and the database's (the sum of
    its queries' durations as the client saw them), and its queries. On a machine whose
    cores are busy with other work, wall-clock time mostly measures the wait for a core:
    CPU and database time say what the task itself costs."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timing: dict = {}
    started, cpu = time.perf_counter(), time.process_time()
    with CaptureQueriesContext(connection) as queries:
        yield timing
    timing.update(
        ms=(time.perf_counter() - started) * 1000,
        cpu_ms=(time.process_time() - cpu) * 1000,
        db_ms=sum(float(q["time"]) for q in queries.captured_queries) * 1000,
        queries=len(queries),
    )


def _tasks(bench) -> list[dict]:
    """Reminder sweep and send over the whole study, and enrolment, timed in-process."""
    from django.utils import timezone

    from bench.generate import PASSWORD
    from demo.participants import RP_ANSWERS
    from notifications.models import Notification
    from notifications.services import sweep
    from patients import services

    rows = []
    with timed() as timing:
        result = sweep(now=timezone.now(), dispatch=False)
    recorded = Notification.objects.pending().count()  # the generator's are all sent
    rows.append({"task": f"reminder sweep ({result.due} reminders due, {recorded} new)", **timing})
    rows.extend(_sending())
    site, coordinator = bench.sites[0], bench.coordinators[0]
    run = datetime.now(UTC).strftime("%H%M%S")  # --tasks may run again on the same study
    timings = []
    for n in range(10):
        participant = services.screen(
            study=bench.study,
            site=site,
            screening_number=f"ENROL-{run}-{n + 1:03d}",
            year_of_birth=1970,
            sex="F",
            user=coordinator,
        )
        today = site.today()
        services.record_eligibility(
            participant=participant, answers=RP_ANSWERS, assessed_on=today, user=coordinator
        )
        # The investigator's signature hashes a password: not part of enrolment's time.
        services.confirm_eligibility(
            participant=participant, user=bench.investigator, password=PASSWORD
        )
        with timed() as timing:
            services.enrol(
                participant=participant, baseline_date=today, consent_date=today, user=coordinator
            )
        timings.append(timing)
    rows.append(
        {
            "task": f"enrolment (p50 / p95 of {len(timings)}, signature excluded)",
            "ms": percentile([t["ms"] for t in timings], 0.5),
            "p95": percentile([t["ms"] for t in timings], 0.95),
            "cpu_ms": percentile([t["cpu_ms"] for t in timings], 0.5),
            "db_ms": percentile([t["db_ms"] for t in timings], 0.5),
            "queries": max(t["queries"] for t in timings),
        }
    )
    return rows


def _sending() -> list[dict]:
    """What the sweep recorded, sent to a local SMTP sink through Django's SMTP backend:
    the safety reminders one by one (as their tasks do), then the routine ones as digests
    (every recipient's hour taken as come), batch by batch over one connection each."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, override_settings
    from django.utils import timezone

    from bench.smtp_sink import SmtpSink
    from notifications import digests
    from notifications.models import Notification
    from notifications.services import send_notification

    rows = []
    with SmtpSink() as sink:
        smtp = override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST=sink.host,
            EMAIL_PORT=sink.port,
            REMINDER_DIGEST_HOUR=0,
        )
        with smtp:
            immediate = list(
                Notification.objects.pending()
                .immediate()
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            started = time.perf_counter()
            with CaptureQueriesContext(connection) as queries:
                for pk in immediate:
                    send_notification(notification_id=pk)
            elapsed = (time.perf_counter() - started) * 1000
            rows.append(
                {
                    "task": f"safety reminder send ({len(immediate)}, one by one, SMTP sink)",
                    "ms": elapsed,
                    "per_item_ms": elapsed / len(immediate) if immediate else None,
                    "queries": len(queries) / len(immediate) if immediate else 0,
                }
            )
            routine = Notification.objects.pending().routine().count()
            connections = sink.connections
            with timed() as timing:
                run = digests.send_digests(now=timezone.now())
            sent = run.outcomes.get("sent", 0)
            per_second = sent / timing["ms"] * 1000 if timing["ms"] else 0
            rows.append(
                {
                    "task": f"digest send ({sent} digests of {routine} reminders, "
                    f"{sink.connections - connections} SMTP connection(s), "
                    f"{per_second:.0f} digests/s)",
                    **timing,
                    "per_item_ms": timing["ms"] / sent if sent else None,
                }
            )
    return rows


# One size, end to end (in the parent) ------------------------------------------------------


def server_env(database_url: str, port: int, static_root: str) -> dict:
    env = dict(os.environ)
    env.pop("DATABASE_OWNER_URL", None)
    env.update(
        DATABASE_URL=database_url,
        DEBUG="0",
        SECRET_KEY=SECRET,
        ALLOWED_HOSTS="127.0.0.1,testserver",
        REMINDER_SITE_URL=f"http://127.0.0.1:{port}",
        SECURE_SSL_REDIRECT="0",
        STATIC_ROOT=static_root,
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONPATH=str(ROOT),
    )
    return env


def with_database(url: str, name: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


def admin_sql(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(sql)


def run_size(size: int, args, static_root: str) -> dict:
    base_url = os.environ["DATABASE_URL"]
    base_name = urllib.parse.urlsplit(base_url).path.lstrip("/") or "il2"
    name = f"{base_name}_bench_{size}"
    url = with_database(base_url, name)
    port = free_port()
    env = server_env(url, port, static_root)
    py = sys.executable
    print(f"\n== {size} participants: database {name}", flush=True)
    admin_sql(base_url, f'DROP DATABASE IF EXISTS "{name}"')
    admin_sql(base_url, f'CREATE DATABASE "{name}"')
    server = None
    try:
        manage = [py, "manage.py"]
        subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        if not Path(static_root, "staticfiles.json").exists():
            command = [*manage, "collectstatic", "--noinput", "-v0"]
            subprocess.run(command, cwd=ROOT, env=env, check=True)
        started = time.monotonic()
        subprocess.run(
            [py, "-m", "bench.generate", "--participants", str(size), "--sites", str(args.sites)],
            cwd=ROOT,
            env=env,
            check=True,
        )
        generated = time.monotonic() - started
        server = subprocess.Popen(
            [py, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2"],
            cwd=ROOT,
            env=env,
        )
        wait_for(port)
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            subprocess.run(
                [
                    py,
                    "-m",
                    "bench.run",
                    "--measure",
                    str(port),
                    "--requests",
                    str(args.requests),
                    "--seconds",
                    str(args.seconds),
                    "--out",
                    out.name,
                ],
                cwd=ROOT,
                env=env,
                check=True,
            )
            result = json.loads(Path(out.name).read_text())
        result.update(size=size, generated_s=generated)
        return result
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if not args.keep:
            admin_sql(base_url, f'DROP DATABASE IF EXISTS "{name}"')


# Report -----------------------------------------------------------------------------------


def _ms(value) -> str:
    return "–" if value is None else f"{value:.1f}"


def table(result: dict) -> str:
    floor = next(r for r in result["pages"] if r["page"] == "floor")["p95"]
    lines = [
        f"### {result['size']:,} participants (generated in {result['generated_s']:.0f} s)",
        "",
        "| page | requests | p50 ms | p95 ms | p95 / floor | queries |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in result["pages"]:
        ratio = "–" if r["p95"] is None else f"{r['p95'] / floor:.1f}×"
        lines.append(
            f"| {r['page']} | {r['n']} | {_ms(r['p50'])} | {_ms(r['p95'])} | {ratio} "
            f"| {r['queries']} |"
        )
    return "\n".join([*lines, "", tasks_table(result["tasks"])])


def tasks_table(tasks: list[dict]) -> str:
    lines = ["| task | ms | CPU ms / database ms | queries |", "|---|---:|---:|---:|"]
    for t in tasks:
        ms = _ms(t["ms"])
        if t.get("p95") is not None:
            ms += f" / {_ms(t['p95'])}"
        if t.get("per_item_ms") is not None:
            ms += f" ({_ms(t['per_item_ms'])} each)"
        queries = t["queries"]
        queries = f"{queries:.1f} each" if isinstance(queries, float) else str(queries)
        split = "–" if t.get("cpu_ms") is None else f"{t['cpu_ms']:.0f} / {t['db_ms']:.0f}"
        lines.append(f"| {t['task']} | {ms} | {split} | {queries} |")
    return "\n".join(lines)


def comparison(results: list[dict]) -> str:
    small, large = results[0], results[-1]
    factor = large["size"] / small["size"]
    lines = [
        f"### {small['size']:,} → {large['size']:,} participants ({factor:g}× the data)",
        "",
        f"| page | queries @{small['size']} | queries @{large['size']} "
        f"| p95 ms @{small['size']} | p95 ms @{large['size']} | p95 growth |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for a, b in zip(small["pages"], large["pages"], strict=True):
        growth = "–" if not (a["p95"] and b["p95"]) else f"{b['p95'] / a['p95']:.2f}×"
        lines.append(
            f"| {a['page']} | {a['queries']} | {b['queries']} | {_ms(a['p95'])} "
            f"| {_ms(b['p95'])} | {growth} |"
        )
    return "\n".join(lines)


def report(results: list[dict], args) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "# Benchmark results",
        "",
        f"`make bench` on {when}; {os.cpu_count()} CPU(s), Python {platform.python_version()}, "
        f"gunicorn -w 2 with DEBUG off on loopback; up to {args.requests} requests per page "
        f"(at most {args.seconds:g} s each), {args.sites} sites. Times are wall-clock per "
        'request as the client sees them; "p95 / floor" divides by the p95 of the floor page '
        "(login required, a template, nothing else) measured in the same run. Queries are "
        "counted with Django's test client on the same database. The ODM export is not "
        "measured: exports do not exist yet.",
    ]
    for result in results:
        parts += ["", table(result)]
    if len(results) > 1:
        parts += ["", comparison(results)]
    return "\n".join(parts) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Benchmark il2-ecrf (issue 13).")
    parser.add_argument("--participants", type=int, nargs="+", default=[500, 5000])
    parser.add_argument("--sites", type=int, default=20)
    # A p95 of 40 requests is their second slowest: one hiccup of a shared machine moved it.
    parser.add_argument("--requests", type=int, default=100, help="per page, at most")
    parser.add_argument("--seconds", type=float, default=20, help="per page, at most")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument(
        "--tasks", action="store_true", help="only the timed tasks, on DATABASE_URL"
    )
    parser.add_argument("--measure", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.tasks:
        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        django.setup()
        from django.conf import settings
        from django.urls import reverse
        from django.utils import translation

        from bench.generate import load_bench

        # What a long-running worker has ready (the full run times the tasks after the
        # pages, in a warm process): the URL resolver and every language's catalogue.
        reverse("notifications:inbox")
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                translation.gettext("Open: %(url)s")
        print(tasks_table(_tasks(load_bench())))
        return
    if args.measure:
        result = measure(port=args.measure, requests=args.requests, seconds=args.seconds)
        Path(args.out).write_text(json.dumps(result))
        return
    if not os.environ.get("DATABASE_URL"):
        sys.exit("DATABASE_URL is not set (use `make bench`, which starts PostgreSQL if needed).")
    with tempfile.TemporaryDirectory(prefix="il2-bench-static-") as static_root:
        results = [run_size(size, args, static_root) for size in sorted(args.participants)]
    text = report(results, args)
    RESULTS.write_text(text, encoding="utf-8")
    print("\n" + text)
    print(f"Written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
