"""Data migrations run on the migration's own connection, the owner's.

`make run` and docker compose migrate as the owner (`migrate --database owner`) while
DATABASE_URL names the app's role, which may not exist yet at that point. A data migration
reaching for the default connection (a bare `Model.objects`) then fails on a fresh machine,
although every test passes where both aliases are one role. Each project data migration is
run here with the default connection refusing every query.
"""

import pytest
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations.special import RunPython

PROJECT_APPS = {
    "accounts",
    "audit",
    "signatures",
    "trials",
    "patients",
    "assessments",
    "safety",
    "notifications",
}


def data_migrations():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for (app, name), migration in sorted(loader.disk_migrations.items()):
        if app not in PROJECT_APPS:
            continue
        for operation in migration.operations:
            if isinstance(operation, RunPython):
                yield pytest.param(app, name, operation, id=f"{app}.{name}")


def refuse(execute, sql, params, many, context):
    raise AssertionError(f"a data migration used the default connection: {sql}")


@pytest.mark.django_db(databases=["default", "owner"])
@pytest.mark.parametrize(("app", "name", "operation"), list(data_migrations()))
def test_each_data_migration_uses_the_connection_it_is_given(app, name, operation):
    owner = connections["owner"]
    state = MigrationLoader(owner).project_state((app, name), at_end=True)
    with owner.schema_editor() as schema_editor, connections["default"].execute_wrapper(refuse):
        operation.code(state.apps, schema_editor)


@pytest.mark.django_db(databases=["default", "owner"])
def test_a_data_migration_s_changes_carry_its_reason_in_the_audit_trail():
    from audit.tracking import reason_in_migration
    from trials.models import Study

    # In tests the two aliases are two sessions of one database, each in its own test
    # transaction: the study is made and read on the owner's, as a migration would.
    owner = connections["owner"]
    study = Study.objects.using("owner").create(code="HARMONY", title="Old title")
    with owner.schema_editor() as schema_editor:
        reason_in_migration(schema_editor, "Titles harmonised with the registry")
        Study.objects.using("owner").filter(pk=study.pk).update(title="Harmonised title")
    # The owner's connection sees its own (test-transaction) writes; the default one not.
    event = study.events.using("owner").order_by("pgh_id").last()
    assert event.title == "Harmonised title"
    assert event.pgh_context.metadata == {"reason": "Titles harmonised with the registry"}
