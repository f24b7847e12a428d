"""Database triggers that keep signed criteria versions immutable (both databases).

A version that is active or retired, or a draft whose activation has been
signed, cannot change, and neither can its criteria or conditions: no UPDATE,
INSERT or DELETE reaches them, whatever the code path (admin, ORM, bulk update,
raw SQL). The only changes the triggers let through are the state moves the
activation makes: a signed draft becomes active, an active version retired.
Impact reports and activations are append-only.
"""

from screening.common import db_triggers

APPEND_ONLY = ("trials_impactreport", "trials_versionactivation")

_LOCKED = (
    "(v.state <> 'DRAFT' OR EXISTS (SELECT 1 FROM trials_versionactivation a "
    "WHERE a.version_id = v.id))"
)
# Columns that never change once a version is signed; only ``state`` moves.
_FIXED = (
    "trial_id",
    "number",
    "label",
    "label_zh_hans",
    "ethics_reference",
    "ethics_approved_on",
    "effective_from",
    "based_on_id",
    "created_by_id",
    "created_at",
    "default_lookback_hours",
    "near_miss_margin_percent",
    "screening_window_hours",
)

_PG_TEMPLATE = """
CREATE OR REPLACE FUNCTION criteria_version_locked(vid bigint) RETURNS boolean AS $$
    SELECT EXISTS (SELECT 1 FROM trials_criteriaversion v WHERE v.id = vid AND {locked})
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION trials_criterion_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND criteria_version_locked(OLD.version_id) THEN
        RAISE EXCEPTION 'criteria version % is signed: % of a criterion refused',
            OLD.version_id, TG_OP USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND criteria_version_locked(NEW.version_id) THEN
        RAISE EXCEPTION 'criteria version % is signed: % of a criterion refused',
            NEW.version_id, TG_OP USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION trials_condition_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND criteria_version_locked(
        (SELECT version_id FROM trials_criterion WHERE id = OLD.criterion_id)
    ) THEN
        RAISE EXCEPTION 'criteria version is signed: % of a condition refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND criteria_version_locked(
        (SELECT version_id FROM trials_criterion WHERE id = NEW.criterion_id)
    ) THEN
        RAISE EXCEPTION 'criteria version is signed: % of a condition refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION trials_version_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF criteria_version_locked(OLD.id) THEN
            RAISE EXCEPTION 'criteria version % is signed: DELETE refused', OLD.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN OLD;
    END IF;
    IF criteria_version_locked(OLD.id) AND NOT (
        ({fixed_new}) IS NOT DISTINCT FROM ({fixed_old})
        AND (
            (OLD.state = 'DRAFT' AND NEW.state = 'ACTIVE')
            OR (OLD.state = 'ACTIVE' AND NEW.state = 'RETIRED')
        )
    ) THEN
        RAISE EXCEPTION 'criteria version % is signed: UPDATE refused', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def _pg(fixed) -> str:
    return _PG_TEMPLATE.format(
        locked=_LOCKED,
        fixed_new=", ".join(f"NEW.{c}" for c in fixed),
        fixed_old=", ".join(f"OLD.{c}" for c in fixed),
    )


_PG_TRIGGERS = (
    ("trials_criterion", "trials_criterion_guard"),
    ("trials_condition", "trials_condition_guard"),
    ("trials_criteriaversion", "trials_version_guard"),
)


def _sqlite_statements(create: bool, fixed=_FIXED) -> list[str]:
    names = [
        f"{table}_signed_{op}"
        for table in ("trials_criterion", "trials_condition", "trials_criteriaversion")
        for op in ("insert", "update", "delete")
    ]
    statements = [f"DROP TRIGGER IF EXISTS {name};" for name in names]
    if not create:
        return statements

    def locked(version_ids: str) -> str:
        return (
            "EXISTS (SELECT 1 FROM trials_criteriaversion v "  # noqa: S608
            f"WHERE v.id IN ({version_ids}) AND {_LOCKED})"
        )

    def refuse(name, when, what):
        table, _sep, op = name.rpartition("_signed_")
        event = op.upper()
        return (
            f"CREATE TRIGGER {name} BEFORE {event} ON {table} WHEN {when} BEGIN "
            f"SELECT RAISE(ABORT, 'criteria version is signed: {event} of {what} "
            "refused'); END;"
        )

    criterion_of = "SELECT version_id FROM trials_criterion WHERE id = {}"
    same = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in fixed)
    statements += [
        refuse(
            "trials_criterion_signed_insert", locked("NEW.version_id"), "a criterion"
        ),
        refuse(
            "trials_criterion_signed_update",
            locked("OLD.version_id, NEW.version_id"),
            "a criterion",
        ),
        refuse(
            "trials_criterion_signed_delete", locked("OLD.version_id"), "a criterion"
        ),
        refuse(
            "trials_condition_signed_insert",
            locked(criterion_of.format("NEW.criterion_id")),
            "a condition",
        ),
        refuse(
            "trials_condition_signed_update",
            locked(
                criterion_of.format("OLD.criterion_id")
                + " UNION "
                + criterion_of.format("NEW.criterion_id")
            ),
            "a condition",
        ),
        refuse(
            "trials_condition_signed_delete",
            locked(criterion_of.format("OLD.criterion_id")),
            "a condition",
        ),
        refuse(
            "trials_criteriaversion_signed_update",
            f"{locked('OLD.id')} AND NOT ({same} AND ((OLD.state = 'DRAFT' AND "
            "NEW.state = 'ACTIVE') OR (OLD.state = 'ACTIVE' AND "
            "NEW.state = 'RETIRED')))",
            "a version",
        ),
        refuse("trials_criteriaversion_signed_delete", locked("OLD.id"), "a version"),
    ]
    return statements


def install(connection, fixed=_FIXED) -> None:
    """Install the triggers; ``fixed``: the version's columns that never change
    once signed, as the calling migration knows them (each migration passes its
    own frozen tuple; the newest passes what ``_FIXED`` is today).

    A column the table does not have is refused (``ValueError`` naming it):
    protection is never dropped silently because a name is wrong.
    """
    fixed = tuple(fixed)
    if not fixed:
        raise ValueError("install: no fixed columns given for trials_criteriaversion")
    with connection.cursor() as cursor:
        present = {
            column.name
            for column in connection.introspection.get_table_description(
                cursor, "trials_criteriaversion"
            )
        }
        missing = [c for c in fixed if c not in present]
        if missing:
            raise ValueError(
                "install: trials_criteriaversion has no column "
                + ", ".join(repr(c) for c in missing)
            )
        if connection.vendor == "postgresql":
            cursor.execute(_pg(fixed))
            for table, function in _PG_TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_signed ON {table};")
                cursor.execute(
                    f"CREATE TRIGGER {table}_signed BEFORE INSERT OR UPDATE OR DELETE "
                    f"ON {table} FOR EACH ROW EXECUTE FUNCTION {function}();"
                )
        elif connection.vendor == "sqlite":
            for statement in _sqlite_statements(create=True, fixed=fixed):
                cursor.execute(statement)
        else:
            raise NotImplementedError(connection.vendor)
    db_triggers.install(connection, APPEND_ONLY)


def remove(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table, _function in _PG_TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_signed ON {table};")
        elif connection.vendor == "sqlite":
            for statement in _sqlite_statements(create=False):
                cursor.execute(statement)
    db_triggers.remove(connection, APPEND_ONLY)
