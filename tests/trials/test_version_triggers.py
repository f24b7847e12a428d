"""The signed-version triggers: each migration's frozen columns, none dropped."""

import importlib

import pytest
from django.db import DatabaseError, connection, transaction

from trials import db_triggers
from trials.models import CriteriaVersion
from trials.services import version_active


def _migration(name):
    return importlib.import_module(f"trials.migrations.{name}")


def test_install_refuses_a_column_the_table_does_not_have(db):
    with pytest.raises(ValueError, match="'no_such_column'"):
        db_triggers.install(connection, fixed=(*db_triggers._FIXED, "no_such_column"))


def test_install_refuses_no_columns(db):
    with pytest.raises(ValueError, match="no fixed columns"):
        db_triggers.install(connection, fixed=())


def test_a_refused_install_leaves_the_triggers_in_place(trial):
    with pytest.raises(ValueError):
        db_triggers.install(connection, fixed=("label", "lable"))
    active = version_active(trial=trial)
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE trials_criteriaversion SET state = 'RETIRED', "
                "label = 'changed' WHERE id = %s",
                [active.pk],
            )


def test_the_newest_migration_passes_todays_fixed_columns():
    newest = _migration("0011_screening_window").FIXED
    assert len(newest) == len(set(newest))
    assert set(newest) == set(db_triggers._FIXED)


def test_every_version_column_but_state_is_fixed():
    columns = {
        field.column
        for field in CriteriaVersion._meta.concrete_fields
        if field.column not in ("id", "state")
    }
    assert set(db_triggers._FIXED) == columns


@pytest.mark.parametrize(
    ("name", "before", "added"),
    [
        (
            "0009_near_miss_margin",
            "0008_liver_failure_type_cause",
            "near_miss_margin_percent",
        ),
        ("0010_version_label_zh", "0009_near_miss_margin", "label_zh_hans"),
        ("0011_screening_window", "0010_version_label_zh", "screening_window_hours"),
    ],
)
def test_each_migration_freezes_its_own_columns(name, before, added):
    migration, previous = _migration(name), _migration(before)
    assert migration.FIXED_BEFORE == previous.FIXED
    assert migration.FIXED == (*previous.FIXED, added)
    assert "trials.db_triggers" not in repr(migration.FIXED)
