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
# Added by migration 0008_prescreen_purge: the tombstones of purged uploads.
PURGE_TABLES = ("screening_prescreenpurge",)
# Added by migration 0009_enrolment: enrolments of eligible, signed candidates.
ENROLMENT_TABLES = ("screening_enrolment",)
# Added by ledger migration 0004_audit_review: monitors' signed audit-trail
# reviews and refused self-signings.
REVIEW_TABLES = ("ledger_auditreview", "ledger_signaturerefusal")
# Added by labs migration 0001: the lab inbox (imports, values, reviews, and
# the sources of a decision's lab values).
LAB_TABLES = ("labs_labimport", "labs_labvalue", "labs_labreview", "labs_labsource")
# Added by migration 0014_criteria_snapshots: the criteria decisions reference.
SNAPSHOT_TABLES = ("screening_criteriasnapshot",)
APPEND_ONLY_TABLES = (
    SCREENING_TABLES
    + PRESCREEN_RESULT_TABLES
    + ACCOUNTS_TABLES
    + LEDGER_TABLES
    + PURGE_TABLES
    + ENROLMENT_TABLES
    + REVIEW_TABLES
    + LAB_TABLES
    + SNAPSHOT_TABLES
)

# A purge (screening/prescreen/services.py) is the one exception, allowed only
# once a tombstone for the upload exists: it deletes the upload's result rows and
# empties the upload's file. Any other UPDATE or DELETE is still refused. A
# migration that remakes the tombstone table on SQLite must remove these two
# tables' triggers first (they name it).
UPLOAD_TABLE = "screening_prescreenupload"
RESULT_TABLE = "screening_prescreenresult"
PURGE_TABLE = PURGE_TABLES[0]
PURGED_COLUMN = "content"

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'append-only audit table %: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


_PG_PURGE_FUNCTIONS = """
CREATE OR REPLACE FUNCTION prescreen_upload_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF EXISTS (SELECT 1 FROM screening_prescreenpurge WHERE upload_id = OLD.id)
           AND octet_length(NEW.content) = 0
           AND (to_jsonb(NEW) - 'content') = (to_jsonb(OLD) - 'content')
        THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'append-only audit table %: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION prescreen_result_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF EXISTS (SELECT 1 FROM screening_prescreenpurge
                   WHERE upload_id = OLD.upload_id) THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION 'append-only audit table %: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""
_PG_ROW_FUNCTIONS = {
    UPLOAD_TABLE: "prescreen_upload_append_only",
    RESULT_TABLE: "prescreen_result_append_only",
}


def _sqlite_when(table: str, operation: str, columns: list[str]) -> str:
    """The condition on which SQLite refuses: always, but for a purge's own writes."""
    no_tombstone = "NOT EXISTS (SELECT 1 FROM {purge} WHERE upload_id = OLD.{key})"
    if table == RESULT_TABLE and operation == "DELETE":
        return " WHEN " + no_tombstone.format(purge=PURGE_TABLE, key="upload_id")
    if table == UPLOAD_TABLE and operation == "UPDATE":
        changed = [
            f'NEW."{column}" IS NOT OLD."{column}"'
            for column in columns
            if column != PURGED_COLUMN
        ]
        conditions = [
            no_tombstone.format(purge=PURGE_TABLE, key="id"),
            f'coalesce(length(NEW."{PURGED_COLUMN}"), 1) <> 0',
            *changed,
        ]
        return " WHEN " + " OR ".join(conditions)
    return ""


def _statements(
    vendor: str,
    table: str,
    create: bool,
    purgeable: bool = False,
    columns: list[str] = (),
) -> list[str]:
    """``purgeable``: the tombstone table exists, so the purge's exception applies."""
    name = f"{table}_append_only"
    if vendor == "postgresql":
        if not create:
            return [
                f"DROP TRIGGER IF EXISTS {name} ON {table};",
                f"DROP TRIGGER IF EXISTS {name}_truncate ON {table};",
            ]
        function = "audit_append_only"
        if purgeable and table in _PG_ROW_FUNCTIONS:
            function = _PG_ROW_FUNCTIONS[table]
        return [
            f"DROP TRIGGER IF EXISTS {name} ON {table};",
            f"CREATE TRIGGER {name} BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}();",
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
            for operation in ("UPDATE", "DELETE"):
                when = _sqlite_when(table, operation, columns) if purgeable else ""
                statements.append(
                    f"CREATE TRIGGER {name}_{operation.lower()} BEFORE {operation} "
                    f"ON {table}{when} BEGIN "
                    f"SELECT RAISE(ABORT, 'append-only audit table {table}: "
                    f"{operation} refused'); END;"
                )
        return statements
    raise NotImplementedError(f"append-only triggers for {vendor}")


def install(connection, tables=APPEND_ONLY_TABLES) -> None:
    with connection.cursor() as cursor:
        # Before migration 0008 the tombstone table does not exist (yet): the
        # upload and result tables are then guarded without the purge exception.
        purgeable = PURGE_TABLE in connection.introspection.table_names(cursor)
        if connection.vendor == "postgresql":
            cursor.execute(_PG_FUNCTION)
            if purgeable:
                cursor.execute(_PG_PURGE_FUNCTIONS)
        for table in tables:
            columns = []
            if connection.vendor == "sqlite" and purgeable and table == UPLOAD_TABLE:
                # Every column but the file must stay as it is, even in a purge.
                cursor.execute(f"PRAGMA table_info({table})")
                columns = [row[1] for row in cursor.fetchall()]
            for statement in _statements(
                connection.vendor,
                table,
                create=True,
                purgeable=purgeable,
                columns=columns,
            ):
                cursor.execute(statement)


def remove(connection, tables=APPEND_ONLY_TABLES) -> None:
    with connection.cursor() as cursor:
        for table in tables:
            for statement in _statements(connection.vendor, table, create=False):
                cursor.execute(statement)
