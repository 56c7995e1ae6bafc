"""Production settings refuse to start with a missing secret; `check --deploy` is clean."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args, **env_overrides):
    required = {"SECRET_KEY", "ALLOWED_HOSTS", "REMINDER_SITE_URL"}
    env = {k: v for k, v in os.environ.items() if k not in required}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", DEBUG="0", ALLOWED_HOSTS="ecrf.example.org")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = run_manage("check", DEBUG="0", SECRET_KEY="k" * 60)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS is not set" in result.stderr


def test_production_refuses_to_start_without_the_site_url_for_e_mail_links():
    result = run_manage("check", DEBUG="0", SECRET_KEY="k" * 60, ALLOWED_HOSTS="ecrf.example.org")
    assert result.returncode != 0
    assert "REMINDER_SITE_URL is not set" in result.stderr


def test_a_malformed_boolean_is_refused_by_name():
    result = run_manage("check", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY="a-production-secret-" + "q7Zr" * 15,
        ALLOWED_HOSTS="ecrf.example.org",
        REMINDER_SITE_URL="https://ecrf.example.org",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_serves_collected_static_files_under_hashed_names(tmp_path):
    """What the Dockerfile does: collect with DEBUG off, then pages link hashed files."""
    env = {
        "DEBUG": "0",
        "SECRET_KEY": "a-production-secret-" + "q7Zr" * 15,
        "ALLOWED_HOSTS": "ecrf.example.org",
        "REMINDER_SITE_URL": "https://ecrf.example.org",
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    collected = run_manage("collectstatic", "--noinput", **env)
    assert collected.returncode == 0, collected.stderr
    assert (tmp_path / "static" / "staticfiles.json").exists()
    script = (
        "import django, re; django.setup()\n"
        "from django.test import Client\n"
        "c = Client(HTTP_HOST='ecrf.example.org')\n"
        "page = c.get('/accounts/login/', secure=True)\n"
        "assert page.status_code == 200, page.status_code\n"
        "css = re.search(r'/static/vendor/bootstrap/bootstrap\\.min\\.[0-9a-f]{12}\\.css', "
        "page.content.decode()).group(0)\n"
        "print(css, c.get(css, secure=True).status_code)\n"
    )
    shell = run_manage("shell", "-c", script, **env)
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.strip().endswith(" 200")


def test_the_app_s_queries_are_never_jit_compiled(db):
    """PostgreSQL compiles a query whose estimated cost passes jit_above_cost, tens of
    milliseconds spent on a page's query that runs in a few: the app's connection turns JIT
    off (a page's queries are short by design; reports may run on the replica with it)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
