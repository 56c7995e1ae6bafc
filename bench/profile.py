"""Where one measured page's time goes, in-process, on a study `bench.generate` built in
DATABASE_URL's database:

    python -m bench.profile "home page"             # every query: ORM compile, database, SQL
    python -m bench.profile "AE review" --runs 20

The page (a part of its name in `bench.pages`) is asked for `--runs` times through Django's
test client, with the benchmark server's settings (DEBUG off, static files collected), as
the user the benchmark asks as; the median run is shown: its total, the time the ORM spent
writing SQL and the time spent waiting for the database, then each query. The rest of the
total is Python and the templates. `make bench` shows whether a page is slow; this shows
where. A POST enters data at each run: profile it on a copy of the database
(`createdb -T`).
"""

import argparse
import os
import sys
import tempfile
import time


def _settings(static_root: str) -> None:
    from .run import server_env

    if not os.environ.get("DATABASE_URL"):
        sys.exit("DATABASE_URL is not set: the database of a study bench.generate built.")
    env = server_env(os.environ["DATABASE_URL"], 8000, static_root)
    os.environ.update({k: v for k, v in env.items() if k != "PYTHONPATH"})


def _run(page, k: int, client) -> tuple[float, list]:
    """One request: its total ms and [(compile ms, database ms, sql)] of each query."""
    from django.db import connection
    from django.db.models.sql import compiler

    from .pages import path_of

    events, depth = [], [0]
    as_sql = compiler.SQLCompiler.as_sql

    def timed_as_sql(self, *args, **kwargs):
        depth[0] += 1
        started = time.perf_counter()
        try:
            return as_sql(self, *args, **kwargs)
        finally:
            depth[0] -= 1
            if not depth[0]:  # a subquery's compile is inside its query's
                events.append(("compile", (time.perf_counter() - started) * 1000, ""))

    def timed_execute(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            events.append(("execute", (time.perf_counter() - started) * 1000, sql))

    compiler.SQLCompiler.as_sql = timed_as_sql
    started = time.perf_counter()
    try:
        with connection.execute_wrapper(timed_execute):
            if page.method == "POST":
                client.post(path_of(page, k), page.data(k))
            else:
                client.get(page.path)
    finally:
        compiler.SQLCompiler.as_sql = as_sql
    total = (time.perf_counter() - started) * 1000
    queries, compiling = [], 0.0
    for kind, ms, sql in events:
        if kind == "compile":
            compiling += ms
        else:
            queries.append((compiling, ms, sql))
            compiling = 0.0
    return total, queries


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Where one benchmark page's time goes.")
    parser.add_argument("page", help='a part of the page\'s name, e.g. "home page"')
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--width", type=int, default=110, help="characters of SQL shown")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="il2-profile-static-") as static_root:
        _settings(static_root)
        import django

        django.setup()
        from django.core.management import call_command
        from django.test import Client

        from .generate import load_bench
        from .pages import LOGIN, measured_pages

        call_command("collectstatic", interactive=False, verbosity=0)
        pages = [p for p in measured_pages(load_bench()) if args.page in p.name]
        if len(pages) != 1 or pages[0].name == LOGIN:
            sys.exit(f"Name one page other than the login: {[p.name for p in pages]}")
        page = pages[0]
        client = Client()
        client.force_login(page.user)
        client.get(page.path if page.method == "GET" else "/")  # the session, as any page
        runs = sorted((_run(page, k, client) for k in range(args.runs)), key=lambda r: r[0])
        total, queries = runs[len(runs) // 2]
        compiling = sum(c for c, _ms, _sql in queries)
        waiting = sum(ms for _c, ms, _sql in queries)
        print(
            f"{page.name}, the median of {args.runs} runs: {total:.1f} ms; {len(queries)} "
            f"queries, ORM compile {compiling:.1f} ms, database {waiting:.1f} ms, the rest "
            f"{total - compiling - waiting:.1f} ms"
        )
        print(" compile    db  sql")
        for compile_ms, ms, sql in queries:
            print(f"{compile_ms:8.2f} {ms:5.2f}  {' '.join(sql.split())[: args.width]}")


if __name__ == "__main__":
    main()
