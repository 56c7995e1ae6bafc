"""Data migrations run on the migration's own connection, the owner's.

`make run` and docker compose migrate as the owner (`migrate --database owner`) while
DATABASE_URL names the app's role, which may not exist yet at that point. A data migration
reaching for the default connection (a bare `Model.objects`) then fails on a fresh machine,
although every test passes where both aliases are one role. Each project data migration is
run here with the default connection refusing every query.
"""

import pytest
from django.db import connections, transaction
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


@pytest.mark.django_db
def test_the_steroid_total_migration_fills_doses_entered_before_it_and_their_trail():
    """A database with steroid doses migrates: each dose and each event of its trail reads
    total = its drug's equivalent (the event table refuses updates: the migration lifts that
    for its own fill only)."""
    from importlib import import_module

    from assessments.models import SteroidDose
    from tests.assessments.helpers_capture import capture, participant, rp_cast

    cast = rp_cast()
    p = participant()
    dose = capture(
        p, "W0", "STEROID", {"drug": "prednisone", "mg_per_day": 20}, user=cast.cora
    ).record
    SteroidDose.objects.filter(pk=dose.pk).update(total_prednisone_eq_mg=0)  # as before it
    migration = import_module(
        "assessments.migrations.0007_steroid_total_with_concomitant_glucocorticoids"
    )
    state = MigrationLoader(connections["default"]).project_state(
        ("assessments", "0007_steroid_total_with_concomitant_glucocorticoids"), at_end=True
    )
    with connections["default"].schema_editor() as schema_editor:
        migration.drug_alone(state.apps, schema_editor)
    dose.refresh_from_db()
    assert dose.total_prednisone_eq_mg == dose.prednisone_eq_mg
    assert {e.total_prednisone_eq_mg for e in dose.events.all()} == {dose.prednisone_eq_mg}
    refused = pytest.raises(Exception, match="Cannot update")  # append-only again
    with refused, connections["default"].cursor() as cursor, transaction.atomic():
        cursor.execute("UPDATE assessments_steroiddoseevent SET drug = 'x'")


@pytest.mark.django_db
def test_the_forms_complete_migration_marks_the_visits_done_with_every_form_only():
    """Visits entered before the mark existed: the one with a record of every form it
    requires is marked (the missing-forms list skips it), the one lacking a form is not."""
    from importlib import import_module

    from patients.models import ScheduledVisit
    from tests.assessments.helpers_capture import (
        capture,
        enter_every_w0_form,
        participant,
        rp_cast,
    )

    cast = rp_cast()
    full, half = participant(subject_id="FULL"), participant(subject_id="HALF")
    enter_every_w0_form(full, cast.cora)
    capture(full, "W0", "MEDHIST", {"MH": []}, user=cast.cora)
    enter_every_w0_form(half, cast.cora)  # no medical history
    ScheduledVisit.objects.update(forms_complete=False)  # as before the migration
    name = "0008_mark_visits_with_every_form"
    migration = import_module(f"assessments.migrations.{name}")
    state = MigrationLoader(connections["default"]).project_state(
        ("assessments", name), at_end=True
    )
    with connections["default"].schema_editor() as schema_editor:
        migration.mark(state.apps, schema_editor)
    marked = ScheduledVisit.objects.filter(forms_complete=True)
    assert [(v.participant.subject_id, v.code) for v in marked] == [("FULL", "W0")]
