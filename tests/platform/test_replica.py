"""The read replica: exports read from it when DATABASE_REPLICA_URL is set, nothing else
does, nothing is written to it, and without the URL everything stays on the primary."""

import json
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.urls import reverse

from config.routers import ReplicaRouter
from core import replica
from tests.trials.helpers_forms import RP_WITH_FORMS
from trials.models import Study
from trials.protocol_file import parse_protocol
from trials.services import load_protocol

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def with_replica(monkeypatch):
    """As if settings had a `replica` alias (the tests have one database: no query runs)."""
    monkeypatch.setattr(replica, "has_replica", lambda: True)


def test_without_a_replica_every_read_stays_on_the_primary():
    router = ReplicaRouter()
    assert replica.reporting_alias() == "default"
    with replica.using_replica() as alias:
        assert alias == "default"
        assert router.db_for_read(Study) is None
        assert Study.objects.all().db == "default"
    assert router.allow_migrate("default", "trials") is None


def test_with_a_replica_only_reads_inside_using_replica_go_to_it(with_replica):
    router = ReplicaRouter()
    assert Study.objects.all().db == "default"
    with replica.using_replica() as alias:
        assert alias == "replica"
        assert router.db_for_read(Study) == "replica"
        assert Study.objects.all().db == "replica"
        # Writes never go there, even from inside the block.
        assert router.db_for_write(Study) is None
    assert router.db_for_read(Study) is None
    assert replica.reporting_alias() == "replica"


def test_an_object_read_from_the_replica_is_saved_to_the_primary(with_replica):
    router = ReplicaRouter()
    study = Study(code="RP")
    study._state.db = "replica"
    assert router.db_for_write(Study, instance=study) == "default"
    study._state.db = "owner"  # a migration's objects keep their own alias
    assert router.db_for_write(Study, instance=study) is None


def test_objects_of_the_primary_and_the_replica_may_be_related_and_the_replica_is_not_migrated(
    with_replica,
):
    router = ReplicaRouter()
    a, b = Study(code="A"), Study(code="B")
    a._state.db, b._state.db = "default", "replica"
    assert router.allow_relation(a, b) is True
    b._state.db = "owner"
    assert router.allow_relation(a, b) is None
    assert router.allow_migrate("replica", "trials") is False
    assert router.allow_migrate("default", "trials") is None


def test_using_replica_nests_and_restores(with_replica):
    with replica.using_replica():
        with replica.using_replica():
            assert replica.reads_from_replica()
        assert replica.reads_from_replica()
    assert not replica.reads_from_replica()


def settings_databases(**env_overrides) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_REPLICA_URL"}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", **env_overrides)
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps({a: {'NAME': d['NAME'], 'HOST': d['HOST'], 'TEST': d.get('TEST', {})}"
        " for a, d in settings.DATABASES.items()})); print(json.dumps(settings.DATABASE_ROUTERS))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    databases, routers = result.stdout.splitlines()
    return {"databases": json.loads(databases), "routers": json.loads(routers)}


def test_settings_build_the_replica_alias_from_database_replica_url():
    built = settings_databases(
        DATABASE_REPLICA_URL="postgres://reader:pw@standby.example:5432/ecrf"
    )
    replica_db = built["databases"]["replica"]
    assert (replica_db["HOST"], replica_db["NAME"]) == ("standby.example", "ecrf")
    # The test runner points it at the test database instead of creating a second one.
    assert replica_db["TEST"]["MIRROR"] == "default"
    assert built["routers"] == ["config.routers.ReplicaRouter"]


def test_settings_have_no_replica_without_the_url():
    assert "replica" not in settings_databases()["databases"]


@contextmanager
def spying(monkeypatch, module):
    """Record whether a view entered using_replica, and when."""
    entered = []
    original = module.using_replica

    @contextmanager
    def spy():
        entered.append(True)
        with original() as alias:
            yield alias

    monkeypatch.setattr(module, "using_replica", spy)
    yield entered


def test_the_data_dictionary_reads_the_replica_after_checking_access(
    study, sam, charlie, client_for, monkeypatch
):
    from trials import views

    load_protocol(parse_protocol(RP_WITH_FORMS), activate=True)
    url = reverse("trials:form-dictionary", args=["RP"])
    with spying(monkeypatch, views) as entered:
        assert client_for(charlie).get(url).status_code == 404
        assert entered == []
        response = client_for(sam).get(url)
        assert response.status_code == 200
        assert entered == [True]


def test_the_deviations_export_reads_the_replica_after_checking_access(
    study, sam, charlie, client_for, monkeypatch
):
    from assessments import views

    url = reverse("assessments:deviations_csv", args=[study.code])
    with spying(monkeypatch, views) as entered:
        assert client_for(charlie).get(url).status_code == 404
        assert entered == []
        response = client_for(sam).get(url)
        assert response.status_code == 200
        assert response.content.decode().startswith("study,site,subject_id")
        assert entered == [True]
