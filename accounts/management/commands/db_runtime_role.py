"""Grant a PostgreSQL runtime role exactly what the running app needs.

The owner role (the one in DATABASE_URL when migrating) owns the tables and runs
migrations. The runtime role owns nothing: on audit tables it may only SELECT
and INSERT, so it can never UPDATE, DELETE or TRUNCATE a record, nor ALTER,
DISABLE or DROP the triggers that guard them (only an owner can). The audit
ledger's chain heads it may also UPDATE (each append moves one on), never
DELETE. A purge of a pre-screening upload needs two more, which the triggers
allow only once the upload's tombstone exists: DELETE on the result rows and
UPDATE of the upload's file column alone. Run it after every migration, as the
owner:

    python manage.py db_runtime_role --role screening_app
"""

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from psycopg import sql

from screening.common.db_triggers import (
    APPEND_ONLY_TABLES,
    PURGED_COLUMN,
    RESULT_TABLE,
    UPLOAD_TABLE,
)

# Updated in place, never deleted: the audit ledger's chain heads, locked and moved
# on by each append (an UPDATE privilege also allows SELECT ... FOR UPDATE).
UPDATED_IN_PLACE = {"ledger_ledgerhead"}
# Derived data, not audit records: the funnel's summary, moved by each decision
# and rebuilt (deleted and inserted) by funnel_rebuild. Never audit tables.
DERIVED = {"screening_funnelcount", "screening_funnelblocking"}
# The purge of an upload (screening/prescreen/services.py): the triggers refuse
# these writes unless the upload's tombstone exists.
PURGE_PRIVILEGES = {
    RESULT_TABLE: "DELETE",
    UPLOAD_TABLE: f"UPDATE ({PURGED_COLUMN})",
}


def audit_tables() -> set[str]:
    """The append-only tables and the history tables of the criteria."""
    history = {
        model._meta.db_table
        for model in apps.get_models()
        if model._meta.db_table.startswith(("trials_historical",))
    }
    return set(APPEND_ONLY_TABLES) | history


class Command(BaseCommand):
    help = "Create or update the runtime role: least privilege on PostgreSQL."

    def add_arguments(self, parser):
        parser.add_argument("--role", required=True, help="the runtime role's name")
        parser.add_argument(
            "--password", default=None, help="set the role's password (LOGIN)"
        )

    def handle(self, *args, role, password, **options):
        if connection.vendor != "postgresql":
            raise CommandError("the runtime role is a PostgreSQL set-up")
        audit = audit_tables()
        if audit & DERIVED:
            raise CommandError("the funnel's summary tables must stay writable")
        tables = connection.introspection.table_names()
        name = sql.Identifier(role)
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE ROLE {} LOGIN").format(name))
            cursor.execute(
                sql.SQL(
                    "ALTER ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
                    "NOREPLICATION NOBYPASSRLS"
                ).format(name)
            )
            if password:
                cursor.execute(
                    sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                        name, sql.Literal(password)
                    )
                )
            cursor.execute(
                sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                    sql.Identifier(connection.settings_dict["NAME"]), name
                )
            )
            cursor.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(name))
            cursor.execute(
                sql.SQL("REVOKE CREATE ON SCHEMA public FROM {}").format(name)
            )
            for table in tables:
                ident = sql.Identifier(table)
                cursor.execute(
                    sql.SQL("REVOKE ALL ON TABLE {} FROM {}").format(ident, name)
                )
                if table in audit:
                    privileges = "SELECT, INSERT"
                elif table in UPDATED_IN_PLACE:
                    privileges = "SELECT, INSERT, UPDATE"
                else:
                    privileges = "SELECT, INSERT, UPDATE, DELETE"
                cursor.execute(
                    sql.SQL("GRANT " + privileges + " ON TABLE {} TO {}").format(
                        ident, name
                    )
                )
                if table in PURGE_PRIVILEGES:
                    cursor.execute(
                        sql.SQL(
                            "GRANT " + PURGE_PRIVILEGES[table] + " ON TABLE {} TO {}"
                        ).format(ident, name)
                    )
            cursor.execute(
                sql.SQL(
                    "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}"
                ).format(name)
            )
        in_place = UPDATED_IN_PLACE & set(tables)
        others = set(tables) - audit - in_place
        self.stdout.write(
            f"{role}: SELECT, INSERT on {len(audit & set(tables))} audit tables; "
            f"SELECT, INSERT, UPDATE on {len(in_place)} ledger heads; "
            f"SELECT, INSERT, UPDATE, DELETE on {len(others)} others; "
            "for purges of uploads, DELETE on their result rows and UPDATE of "
            "their file column; "
            "owns nothing."
        )
