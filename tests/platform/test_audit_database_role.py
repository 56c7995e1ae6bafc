"""The app's database role may only append to the audit trail: past who and why are fixed.

The role is made the way production makes it (audit.roles.setup_app_role, which the
`setup_database_roles` command runs), then the test acts as it with SET ROLE. Roles belong
to the whole server, so the name carries the test database's, and creating it inside the
test's transaction means the rollback removes it.
"""

import contextlib
import json
import uuid

import pgtrigger
import pytest
from django.db import DatabaseError, connection, transaction
from pghistory.models import Context

from audit.history import history_for
from audit.roles import setup_app_role
from audit.tracking import acting


@pytest.fixture
def app_role(db):
    role = f"{connection.settings_dict['NAME']}_app"
    setup_app_role(connection, role, password=None)
    return role


@contextlib.contextmanager
def as_role(role):
    with connection.cursor() as cursor:
        cursor.execute(f'SET ROLE "{role}"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


def past_context(**metadata) -> uuid.UUID:
    """A context row as an earlier transaction left it (created before this one began)."""
    pk = uuid.uuid4()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO pghistory_context (id, metadata, created_at, updated_at) "
            "VALUES (%s, %s, now() - interval '1 day', now() - interval '1 day')",
            [pk, json.dumps(metadata)],
        )
    return pk


def refused(statement, params=()):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_the_app_role_cannot_delete_update_or_truncate_audit_contexts(app_role, study):
    pk = past_context(user=1, reason="Sponsor renamed the study")
    with as_role(app_role):
        refused("DELETE FROM pghistory_context")
        refused("UPDATE pghistory_context SET metadata = '{}' WHERE id = %s", [pk])
        refused("TRUNCATE pghistory_context")
        refused(
            "INSERT INTO pghistory_context (id, metadata, created_at, updated_at) "
            "VALUES (gen_random_uuid(), '{}', now(), now())"
        )
    assert Context.objects.get(pk=pk).metadata == {"user": 1, "reason": "Sponsor renamed the study"}


def test_the_app_role_cannot_edit_delete_or_unprotect_audit_events(app_role, study):
    table = type(study.events.first())._meta.db_table
    with as_role(app_role):
        refused(f"UPDATE {table} SET title = 'forged'")
        refused(f"DELETE FROM {table}")
        refused(f"TRUNCATE {table}")
        refused(f"ALTER TABLE {table} DISABLE TRIGGER ALL")
        refused("SET session_replication_role = replica")


def test_audited_writes_work_as_the_app_role_with_their_user_and_reason(app_role, sam, study):
    with as_role(app_role), acting(sam, "Sponsor renamed the study"):
        study.title = "Low-dose IL-2 in RP"
        study.save()
        with acting(None, "Typo"):
            study.phase = "2b"
            study.save()
    renamed, typo = history_for(study)[-2:]
    assert (renamed.user, renamed.reason) == ("sam", "Sponsor renamed the study")
    assert (typo.user, typo.reason) == ("sam", "Typo")


def test_reusing_a_past_context_id_cannot_rewrite_its_who_and_why(app_role, sam, study):
    """Through pghistory's own path: a statement naming an old context with new metadata."""
    pk = past_context(user=sam.pk, reason="Original reason")
    with as_role(app_role), connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pghistory.context_id', %s, true), "
            "set_config('pghistory.context_metadata', %s, true)",
            [str(pk), json.dumps({"user": sam.pk, "reason": "Forged reason"})],
        )
        cursor.execute("UPDATE trials_study SET sponsor = 'X' WHERE id = %s", [study.pk])
    assert Context.objects.get(pk=pk).metadata["reason"] == "Original reason"
    assert history_for(study)[-1].reason == "Forged reason"  # the new change, its own context


def test_not_even_the_owner_deletes_a_context_or_rewrites_a_past_one(db):
    pk = past_context(reason="Original reason")
    refused("DELETE FROM pghistory_context WHERE id = %s", [pk])
    refused("UPDATE pghistory_context SET metadata = '{}' WHERE id = %s", [pk])


@pytest.mark.django_db(transaction=True)
def test_a_request_context_spanning_transactions_keeps_each_transactions_who(sam):
    """The request middleware's context outlives a transaction, and its user may be set
    late (an API token): later changes are saved, with the later user, and the earlier
    change keeps the metadata it was written with."""
    import pghistory

    from tests.factories import StudyFactory

    with pghistory.context(url="/api/studies/"):
        with transaction.atomic():
            first = StudyFactory(code="T1")
        with transaction.atomic():
            second = StudyFactory(code="T2")  # same metadata: same context row
        pghistory.context(user=sam.pk)
        with transaction.atomic():
            third = StudyFactory(code="T3")
    assert history_for(first)[-1].user == history_for(second)[-1].user == "system"
    assert first.events.get().pgh_context_id == second.events.get().pgh_context_id
    assert history_for(third)[-1].user == "sam"
    assert first.events.get().pgh_context.metadata == {"url": "/api/studies/"}


def test_setup_database_roles_refuses_an_app_that_connects_as_the_owner():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="connects as the owner"):
        call_command("setup_database_roles")


def test_a_superuser_is_never_made_the_app_role(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
        me, superuser = cursor.fetchone()
    if not superuser:
        pytest.skip("the tests do not run as a superuser here")
    with pytest.raises(ValueError, match="superuser"):
        setup_app_role(connection, me, password=None)


def test_the_app_role_cannot_hard_delete_clinical_data_even_by_ignoring_the_trigger(app_role):
    """pgtrigger lets any session skip a trigger by name (`pgtrigger.ignore`), so the
    no-hard-delete rule on clinical tables must also be a privilege the app does not hold."""
    from psycopg.errors import InsufficientPrivilege

    from safety.models import AdverseEvent
    from signatures.models import Signature

    with as_role(app_role):
        for model in (AdverseEvent, Signature):
            uri = f"{model._meta.label}:no_hard_delete"
            for statement in ("DELETE FROM {}", "TRUNCATE {}"):
                with (
                    pgtrigger.ignore(uri),
                    pytest.raises(DatabaseError) as refusal,
                    transaction.atomic(),
                    connection.cursor() as cursor,
                ):
                    cursor.execute(statement.format(model._meta.db_table))
                assert isinstance(refusal.value.__cause__, InsufficientPrivilege)
