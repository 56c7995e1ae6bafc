"""docker-compose.yml cannot run here (no Docker engine): check what can be checked of it."""

import importlib
import re
import shutil
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("web", "worker", "beat")


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_names_the_production_services_with_health_checks():
    services = compose()["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web", "proxy", "worker", "beat"}
    for name, service in services.items():
        if name == "migrate":  # a one-shot step: it exits, it is not watched
            assert service["restart"] == "no"
            continue
        assert "healthcheck" in service, name


def test_the_app_services_use_postgres_and_redis_and_need_a_secret():
    services = compose()["services"]
    for name in (*APP_SERVICES, "migrate"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://"), name
        assert env["CELERY_BROKER_URL"].startswith("redis://"), name
        assert "SECRET_KEY:?" in env["SECRET_KEY"], name
        # Optional: exports read from a replica when the operator gives one (docs/DEPLOY.md).
        assert env["DATABASE_REPLICA_URL"] == "${DATABASE_REPLICA_URL:-}", name


def test_the_commands_the_services_run_exist():
    services = compose()["services"]
    migrate = services["migrate"]["command"]
    assert "manage.py migrate" in migrate and "manage.py install_schedules" in migrate
    assert services["web"]["command"].startswith("gunicorn config.wsgi ")
    assert importlib.import_module("config.wsgi").application is not None
    assert shutil.which("gunicorn", path=str(Path(sys.executable).parent))
    for name in ("worker", "beat"):
        assert services[name]["command"].startswith("celery -A config "), name
    from config import celery_app

    assert celery_app.main == "il2_ecrf"
    assert (ROOT / "Dockerfile").exists()


def test_the_app_connects_as_its_own_role_and_only_the_migrate_step_as_the_owner():
    services = compose()["services"]
    owner = services["postgres"]["environment"]["POSTGRES_USER"]
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert not env["DATABASE_URL"].startswith(f"postgres://{owner}:"), name
        assert "REMINDER_SITE_URL:?" in env["REMINDER_SITE_URL"], name
        assert "DATABASE_OWNER_URL" not in env, name
    migrate = services["migrate"]
    assert migrate["environment"]["DATABASE_OWNER_URL"].startswith(f"postgres://{owner}:")
    steps = [step.strip() for step in migrate["command"].removesuffix('"').split("&&")]
    assert steps[0].endswith("manage.py migrate --database owner --noinput")
    assert steps[1] == "python manage.py setup_database_roles"


def test_web_and_worker_scale_without_clashing():
    """`docker compose up --scale web=3 --scale worker=2`: no fixed name, no host port but
    the proxy's, and migrations run once, before any replica starts."""
    services = compose()["services"]
    for name, service in services.items():
        assert "container_name" not in service, name
        if name != "proxy":
            assert "ports" not in service, name
    assert services["proxy"]["ports"] == ["${WEB_PORT:-8000}:80"]
    for name in APP_SERVICES:
        after = services[name]["depends_on"]["migrate"]
        assert after == {"condition": "service_completed_successfully"}, name
    # The proxy finds every web replica by the service's name, looked up again as it scales.
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    mounted = services["proxy"]["volumes"][0].split(":")
    assert mounted[0] == "./deploy/nginx.conf"
    assert re.search(r"resolver 127\.0\.0\.11 valid=\d+s", conf)
    assert "set $web http://web:8000;" in conf and "proxy_pass $web;" in conf
    assert "X-Forwarded-Proto $http_x_forwarded_proto" in conf
    assert "8000" in services["web"]["command"]
