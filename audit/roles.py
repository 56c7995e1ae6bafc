"""Who may touch the audit trail in the database: the owner migrates, the app only appends.

Two roles share one database. The owner (DATABASE_OWNER_URL) owns the tables and runs the
migrations. The app (DATABASE_URL) reads and writes the study's data but may only append to
the trail: no UPDATE, DELETE or TRUNCATE on any event table (nor DELETE or TRUNCATE on a
clinical table: those records are voided, never deleted), only SELECT on
pghistory_context (who and why). Not being the owner, it cannot disable a trigger or drop a
table either.

pghistory writes pghistory_context from its trigger function `_pgh_attach_context()`, with
an upsert: the first change of a context inserts the row, and a later one whose metadata
differs (the user became known mid-request) updates it. That function is replaced here by a
SECURITY DEFINER one, so that the app's writes reach the table only through it, and it
never rewrites a row written by an earlier transaction: a change whose context metadata
differs from such a row gets a context row of its own (derived from the old id and this
transaction, so all of the transaction's changes share it). A trigger on the table refuses
any DELETE and any UPDATE of an earlier transaction's row, whoever asks, short of the owner
disabling it.
"""

import pgtrigger
from django.apps import apps
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from pghistory.models import Context, Event
from psycopg import sql

from .tracking import NO_HARD_DELETE

CONTEXT_TABLE = Context._meta.db_table


def _context_sql(schema: str) -> list[str]:
    table = sql.Identifier(CONTEXT_TABLE).as_string()
    path = sql.Identifier(schema).as_string()
    return [
        f"""
        CREATE OR REPLACE FUNCTION _pgh_attach_context() RETURNS uuid
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = {path}, pg_temp AS $$
        DECLARE
            _id uuid;
            _metadata jsonb;
            _created timestamptz;
            _stored jsonb;
        BEGIN
            BEGIN
                _id := current_setting('pghistory.context_id');
                _metadata := current_setting('pghistory.context_metadata');
            EXCEPTION WHEN OTHERS THEN
            END;
            IF _id IS NULL OR _metadata IS NULL THEN
                RETURN NULL;
            END IF;
            SELECT created_at, metadata INTO _created, _stored FROM {table} WHERE id = _id;
            IF FOUND AND _created <> now() AND _stored IS DISTINCT FROM _metadata THEN
                _id := md5(_id::text || ':' || txid_current()::text)::uuid;
            END IF;
            INSERT INTO {table} (id, metadata, created_at, updated_at)
                VALUES (_id, _metadata, now(), now())
                ON CONFLICT (id) DO UPDATE
                    SET metadata = EXCLUDED.metadata, updated_at = EXCLUDED.updated_at
                    WHERE {table}.metadata IS DISTINCT FROM EXCLUDED.metadata
                      AND {table}.created_at = now();
            RETURN _id;
        END;
        $$
        """,
        """
        CREATE OR REPLACE FUNCTION audit_context_is_history() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' OR OLD.created_at <> now() THEN
                RAISE EXCEPTION 'The audit context % is history: it cannot be changed.', OLD.id
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            RETURN NEW;
        END;
        $$
        """,
        f"DROP TRIGGER IF EXISTS audit_context_is_history ON {table}",
        f"""
        CREATE TRIGGER audit_context_is_history BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION audit_context_is_history()
        """,
    ]


def install_context_guard(connection: BaseDatabaseWrapper) -> None:
    """Put the guarded context function and trigger in place (after every migrate, since
    pghistory reinstalls its own function then)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = cursor.fetchone()[0]
        for statement in _context_sql(schema):
            cursor.execute(statement)


def audit_tables() -> list[str]:
    """pghistory_context and every event table: the trail the app may only append to."""
    events = [
        model._meta.db_table
        for model in apps.get_models()
        if issubclass(model, Event) and model._meta.managed and not model._meta.proxy
    ]
    return [CONTEXT_TABLE, *sorted(events)]


def clinical_tables() -> list[str]:
    """Tables of clinical records (`audit.tracking.clinical_record`): never hard-deleted.

    Their `no_hard_delete` trigger stops a DELETE from any path, but pgtrigger lets any
    session skip a trigger by name (`SET pgtrigger.ignore`), so for the app the rule is also
    a privilege it does not hold.
    """
    return sorted(
        {
            model._meta.db_table
            for model, trigger in pgtrigger.registered()
            if trigger.name == NO_HARD_DELETE
        }
    )


def setup_app_role(connection: BaseDatabaseWrapper, role: str, password: str | None) -> None:
    """Create the app's role if needed and give it exactly the rights it needs.

    Run as the owner, after every migrate: grants are given table by table, so a table a
    migration added is reachable only once this has run again.
    """
    name = sql.Identifier(role)
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
        existing = cursor.fetchone()
        if existing and existing[0]:
            # A superuser can rewrite anything; demoting one could lock an operator out.
            raise ValueError(f"The role {role!r} is a superuser: give the app a role of its own.")
        verb = "ALTER" if existing else "CREATE"
        statement = sql.SQL(
            "{} ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION"
        ).format(sql.SQL(verb), name)
        if password:
            statement = sql.SQL("{} PASSWORD {}").format(statement, sql.Literal(password))
        cursor.execute(statement)
        cursor.execute("SELECT current_schema()")
        schema = sql.Identifier(cursor.fetchone()[0])
        for template in (
            "GRANT CONNECT ON DATABASE {database} TO {role}",
            "GRANT USAGE ON SCHEMA {schema} TO {role}",
            "REVOKE CREATE ON SCHEMA {schema} FROM {role}",
            "REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
            "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
        ):
            database = sql.Identifier(connection.settings_dict["NAME"])
            cursor.execute(sql.SQL(template).format(database=database, schema=schema, role=name))
        tables = audit_tables()
        cursor.execute(
            sql.SQL("REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {} FROM {}").format(
                sql.Identifier(tables[0]), name
            )
        )
        for table in tables[1:]:
            cursor.execute(
                sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {} FROM {}").format(
                    sql.Identifier(table), name
                )
            )
        for table in clinical_tables():
            cursor.execute(
                sql.SQL("REVOKE DELETE, TRUNCATE ON {} FROM {}").format(sql.Identifier(table), name)
            )


def install_on_migrate(using, **kwargs) -> None:
    install_context_guard(connections[using])
