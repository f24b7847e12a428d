"""Database triggers that make audit tables append-only (PostgreSQL and SQLite).

Installed by migration; the test suite removes them only around its own cleanup
of transactional tests (tests/conftest.py).
"""

SCREENING_TABLES = (
    "screening_eligibilitydecision",
    "screening_criterionoutcome",
    "screening_signature",
    "screening_screeninglogexport",
    "screening_prescreenupload",
)
# Added by migration 0005: each migration names the tables it protects.
PRESCREEN_RESULT_TABLES = ("screening_prescreenresult",)
ACCOUNTS_TABLES = ("accounts_accessevent",)
# The audit ledger's entries (screening/ledger); its heads are updated in place.
LEDGER_TABLES = ("ledger_ledgerentry",)
APPEND_ONLY_TABLES = (
    SCREENING_TABLES + PRESCREEN_RESULT_TABLES + ACCOUNTS_TABLES + LEDGER_TABLES
)

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'append-only audit table %: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def _statements(vendor: str, table: str, create: bool) -> list[str]:
    name = f"{table}_append_only"
    if vendor == "postgresql":
        if not create:
            return [
                f"DROP TRIGGER IF EXISTS {name} ON {table};",
                f"DROP TRIGGER IF EXISTS {name}_truncate ON {table};",
            ]
        return [
            f"DROP TRIGGER IF EXISTS {name} ON {table};",
            f"CREATE TRIGGER {name} BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION audit_append_only();",
            f"DROP TRIGGER IF EXISTS {name}_truncate ON {table};",
            f"CREATE TRIGGER {name}_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();",
        ]
    if vendor == "sqlite":
        statements = [
            f"DROP TRIGGER IF EXISTS {name}_update;",
            f"DROP TRIGGER IF EXISTS {name}_delete;",
        ]
        if create:
            statements += [
                f"CREATE TRIGGER {name}_update BEFORE UPDATE ON {table} BEGIN "
                f"SELECT RAISE(ABORT, 'append-only audit table {table}: "
                "UPDATE refused'); END;",
                f"CREATE TRIGGER {name}_delete BEFORE DELETE ON {table} BEGIN "
                f"SELECT RAISE(ABORT, 'append-only audit table {table}: "
                "DELETE refused'); END;",
            ]
        return statements
    raise NotImplementedError(f"append-only triggers for {vendor}")


def install(connection, tables=APPEND_ONLY_TABLES) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PG_FUNCTION)
        for table in tables:
            for statement in _statements(connection.vendor, table, create=True):
                cursor.execute(statement)


def remove(connection, tables=APPEND_ONLY_TABLES) -> None:
    with connection.cursor() as cursor:
        for table in tables:
            for statement in _statements(connection.vendor, table, create=False):
                cursor.execute(statement)
