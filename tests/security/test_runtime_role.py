"""Least privilege on PostgreSQL: the runtime role screens, and cannot tamper.

The role made by ``db_runtime_role`` owns nothing: it records a decision through
the real service, but cannot delete or update a record, truncate an audit table,
or disable or drop the triggers that guard it.
"""

import os
import subprocess
import sys

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from screening.ledger.models import LedgerEntry
from screening.models import EligibilityDecision

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a PostgreSQL role"
)
ROLE = f"screening_runtime_test_{os.getpid()}"

SCREEN = """
import django
django.setup()
from django.contrib.auth import get_user_model
from screening.decisions.services import decision_record
from tests.factories import eligible_candidate
from trials.models import Trial
decision = decision_record(
    trial=Trial.objects.get(),
    data=eligible_candidate(screening_number="09-001"),
    user=get_user_model().objects.get(username="coordinator"),
)
print(decision.outcome)
"""


PURGE = """
import json
import django
django.setup()
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction
from screening.prescreen.services import prescreen_upload_purge, prescreen_upload_record
from tests.factories import eligible_candidate
from trials.models import Trial
User = get_user_model()
records = [eligible_candidate(screening_number="09-101")]
upload = prescreen_upload_record(
    trial=Trial.objects.get(),
    user=User.objects.get(username="coordinator"),
    file_name="wrong.json",
    file_format="json",
    content=json.dumps(records).encode(),
    records=records,
)
for statement in [
    "DELETE FROM screening_prescreenresult WHERE upload_id = %s",
    "UPDATE screening_prescreenupload SET content = ''::bytea WHERE id = %s",
]:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [upload.pk])
    except DatabaseError:
        print("REFUSED")
    else:
        print("ALLOWED")
monitor = User.objects.get(username="monitor")
purge = prescreen_upload_purge(upload, monitor, "Wrong file")
print("PURGED", purge.upload_id)
"""


def conninfo(db) -> dict:
    return {
        "host": db["HOST"] or "127.0.0.1",
        "port": db["PORT"] or 5432,
        "dbname": db["NAME"],
        "user": ROLE,
    }


@pytest.fixture
def runtime_role(transactional_audit_db):
    call_command("db_runtime_role", "--role", ROLE, stdout=open(os.devnull, "w"))  # noqa: SIM115
    yield conninfo(connection.settings_dict)
    with connection.cursor() as cursor:
        cursor.execute(f'DROP OWNED BY "{ROLE}"')
        cursor.execute(f'DROP ROLE "{ROLE}"')


def test_the_runtime_role_screens_through_the_service(runtime_role, trial, coordinator):
    info = runtime_role
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": (
            f"postgres://{info['user']}@{info['host']}:{info['port']}/{info['dbname']}"
        ),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", SCREEN],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "ELIGIBLE"
    assert EligibilityDecision.unscoped.get().screening_number == "09-001"
    # Its ledger entry was appended (the head moved on) and verifies.
    decision = EligibilityDecision._base_manager.get()
    assert LedgerEntry.objects.filter(
        kind=LedgerEntry.Kind.DECISION, object_pk=decision.pk
    ).exists()
    call_command("verify_audit", stdout=open(os.devnull, "w"))  # noqa: SIM115


def _run_as(info, script):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": (
            f"postgres://{info['user']}@{info['host']}:{info['port']}/{info['dbname']}"
        ),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_runtime_role_purges_an_upload_through_the_service_only(
    runtime_role, trial, coordinator, monitor
):
    from screening.models import PrescreenPurge, PrescreenResult, PrescreenUpload

    result = _run_as(runtime_role, PURGE)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.strip().splitlines()
    # Without a tombstone, its grants alone do not delete rows or empty a file.
    assert lines[:2] == ["REFUSED", "REFUSED"]
    upload = PrescreenUpload.unscoped.get()
    assert lines[-1] == f"PURGED {upload.pk}"
    assert bytes(upload.content) == b""
    assert not PrescreenResult.unscoped.exists()
    assert PrescreenPurge.objects.get().reason == "Wrong file"
    call_command("verify_audit", stdout=open(os.devnull, "w"))  # noqa: SIM115


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM screening_eligibilitydecision",
        "UPDATE screening_eligibilitydecision SET outcome = 'ELIGIBLE'",
        "TRUNCATE screening_criterionoutcome",
        "DELETE FROM accounts_accessevent",
        "UPDATE trials_historicalcondition SET value_low = 1",
        "ALTER TABLE screening_eligibilitydecision DISABLE TRIGGER ALL",
        "ALTER TABLE screening_eligibilitydecision "
        "DISABLE TRIGGER screening_eligibilitydecision_append_only",
        "DROP TRIGGER screening_eligibilitydecision_append_only "
        "ON screening_eligibilitydecision",
        "CREATE TABLE sneaky (id int)",
        "DELETE FROM ledger_ledgerentry",
        "UPDATE ledger_ledgerentry SET mac = 'x'",
        "TRUNCATE ledger_ledgerentry",
        "DELETE FROM ledger_ledgerhead",
        "ALTER TABLE ledger_ledgerentry DISABLE TRIGGER ALL",
        "DROP TRIGGER ledger_ledgerentry_append_only ON ledger_ledgerentry",
        # A purge's grants cover the file column and result rows, nothing more.
        "UPDATE screening_prescreenupload SET file_name = 'x'",
        "UPDATE screening_prescreenupload SET content = '', file_sha256 = ''",
        "DELETE FROM screening_prescreenupload",
        "TRUNCATE screening_prescreenresult",
        "UPDATE screening_prescreenresult SET decision = 'ELIGIBLE'",
        "DELETE FROM screening_prescreenpurge",
        "UPDATE screening_prescreenpurge SET reason = 'typo'",
        "ALTER TABLE screening_prescreenresult DISABLE TRIGGER ALL",
        "DROP TRIGGER screening_prescreenresult_append_only "
        "ON screening_prescreenresult",
    ],
)
def test_the_runtime_role_cannot_tamper(runtime_role, statement):
    with psycopg.connect(**runtime_role, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)
        # It can still read.
        conn.execute("SELECT count(*) FROM screening_eligibilitydecision").fetchone()
