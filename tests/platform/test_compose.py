"""docker-compose.yml cannot run here (no Docker engine): check what can be checked of it."""

import importlib
import shutil
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_names_the_production_services_with_health_checks():
    services = compose()["services"]
    assert set(services) == {"postgres", "redis", "web", "worker", "beat"}
    for name, service in services.items():
        assert "healthcheck" in service, name


def test_the_app_services_use_postgres_and_redis_and_need_a_secret():
    services = compose()["services"]
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://"), name
        assert env["CELERY_BROKER_URL"].startswith("redis://"), name
        assert "SECRET_KEY:?" in env["SECRET_KEY"], name


def test_the_commands_the_services_run_exist():
    services = compose()["services"]
    assert "manage.py migrate" in services["web"]["command"]
    assert "manage.py install_schedules" in services["web"]["command"]
    assert "gunicorn config.wsgi" in services["web"]["command"]
    assert importlib.import_module("config.wsgi").application is not None
    assert shutil.which("gunicorn", path=str(Path(__import__("sys").executable).parent))
    for name in ("worker", "beat"):
        assert services[name]["command"].startswith("celery -A config "), name
    from config import celery_app

    assert celery_app.main == "il2_ecrf"
    assert (ROOT / "Dockerfile").exists()


def test_the_app_connects_as_its_own_role_and_only_web_migrates_as_the_owner():
    services = compose()["services"]
    owner = services["postgres"]["environment"]["POSTGRES_USER"]
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert not env["DATABASE_URL"].startswith(f"postgres://{owner}:"), name
        assert "REMINDER_SITE_URL:?" in env["REMINDER_SITE_URL"], name
    assert "DATABASE_OWNER_URL" not in services["worker"]["environment"]
    assert "DATABASE_OWNER_URL" not in services["beat"]["environment"]
    web = services["web"]
    assert web["environment"]["DATABASE_OWNER_URL"].startswith(f"postgres://{owner}:")
    steps = [step.strip() for step in web["command"].removesuffix('"').split("&&")]
    assert steps[0].endswith("manage.py migrate --database owner --noinput")
    assert steps[1] == "python manage.py setup_database_roles"
    # gunicorn (one line: the folded command keeps line breaks) runs without the owner's URL
    assert steps[-1].startswith("exec env -u DATABASE_OWNER_URL gunicorn config.wsgi ")
    assert "\n" not in steps[-1]
