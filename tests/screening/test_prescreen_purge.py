"""Purging a mistaken pre-screening upload: content gone, a sealed tombstone kept.

A monitor or trial admin of the upload's trial purges it with a reason: its
result rows are deleted and its file emptied, in one transaction with the
tombstone (who, when, why, the file's name, SHA-256 and row count). The
database refuses those writes without a tombstone, and any other write even
with one; verify_audit holds after a purge and reports an unlogged removal.
"""

import io
import json
from contextlib import contextmanager
from datetime import UTC
from http import HTTPStatus

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from accounts import roles
from accounts.models import Membership
from screening.common import db_triggers
from screening.ledger.models import LedgerEntry
from screening.models import PrescreenPurge, PrescreenResult, PrescreenUpload
from screening.prescreen.services import prescreen_upload_purge, prescreen_upload_record
from tests.factories import UserFactory, eligible_candidate
from trials.models import Site, Trial

REASON = "Wrong file: the candidates of another study"


def _upload(trial, user, numbers=("P-001", "P-002")) -> PrescreenUpload:
    records = [eligible_candidate(screening_number=n) for n in numbers]
    return prescreen_upload_record(
        trial=trial,
        user=user,
        file_name="candidates.json",
        file_format="json",
        content=json.dumps(records).encode(),
        records=records,
    )


@pytest.fixture
def upload(trial, coordinator):
    return _upload(trial, coordinator)


def purge_url(upload) -> str:
    return reverse("screening:prescreen_purge", args=[upload.pk])


def stored(upload) -> PrescreenUpload:
    return PrescreenUpload.unscoped.get(pk=upload.pk)


def verify() -> str:
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


@contextmanager
def triggers_off():
    """As someone with database access who bypasses the append-only triggers."""
    db_triggers.remove(connection)
    try:
        with connection.cursor() as cursor:
            yield cursor
    finally:
        db_triggers.install(connection)


def refused(sql: str, params=()) -> bool:
    """Whether the database refuses the statement (its triggers or privileges)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError:
        return True
    return False


def assert_purged(upload, user, reason=REASON):
    tombstone = PrescreenPurge.objects.get(upload=upload)
    assert tombstone.purged_by == user
    assert tombstone.reason == reason
    assert tombstone.purged_at.utcoffset().total_seconds() == 0
    assert tombstone.file_sha256 == upload.file_sha256
    assert tombstone.file_name == upload.file_name == "candidates.json"
    assert tombstone.row_count == upload.row_count == 2
    after = stored(upload)
    assert bytes(after.content) == b""
    assert not PrescreenResult.unscoped.filter(upload_id=upload.pk).exists()
    # Hash, counts and summary stay.
    assert after.file_sha256 == upload.file_sha256
    assert (after.row_count, after.error_count) == (2, upload.error_count)
    assert after.summary == upload.summary
    # Sealed as its own ledger entry, in the trial's chain.
    entry = LedgerEntry.objects.get(kind=LedgerEntry.Kind.PURGE, object_pk=tombstone.pk)
    assert entry.chain == f"trial:{upload.trial_id}"
    assert entry.content["row"]["reason"] == reason
    assert entry.content["row"]["file_sha256"] == upload.file_sha256
    return tombstone


# --- who may purge ---------------------------------------------------------------


def test_a_monitor_purges_from_the_upload_log(client, monitor, upload):
    client.force_login(monitor)
    log = reverse("screening:audit_log", args=[upload.trial.slug, "uploads"])
    page = client.get(log)
    assert purge_url(upload).encode() in page.content  # the log's purge button

    asked = client.post(purge_url(upload))  # the button: no reason yet
    assert asked.status_code == HTTPStatus.OK
    assert b'name="reason"' in asked.content
    assert not PrescreenPurge.objects.exists()

    response = client.post(purge_url(upload), {"reason": f"  {REASON} "})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == log
    assert_purged(upload, monitor)

    # The upload log shows the purge: when, who, why.
    page = client.get(log)
    row = next(r for r in page.context["page"] if r[3] == upload.file_sha256)
    assert monitor.get_full_name() in row[6]
    assert row[7] == REASON
    assert purge_url(upload).encode() not in page.content
    csv = b"".join(client.get(log + "?format=csv").streaming_content).decode()
    assert REASON in csv


def test_a_trial_admin_purges(client, trial_admin, upload):
    client.force_login(trial_admin)
    response = client.post(purge_url(upload), {"reason": REASON})
    assert response.status_code == HTTPStatus.OK
    assert REASON in response.content.decode()
    assert upload.file_sha256 in response.content.decode()
    assert_purged(upload, trial_admin)


@pytest.mark.parametrize("role", ["coordinator", "investigator"])
def test_a_coordinator_or_investigator_may_not_purge(client, request, role, upload):
    user = request.getfixturevalue(role)
    client.force_login(user)
    assert client.post(purge_url(upload), {"reason": REASON}).status_code == 403
    with pytest.raises(PermissionDenied):
        prescreen_upload_purge(upload, user, REASON)
    assert not PrescreenPurge.objects.exists()
    assert bytes(stored(upload).content) != b""
    assert PrescreenResult.unscoped.filter(upload_id=upload.pk).count() == 2


@pytest.fixture
def other_trial():
    other = Trial.objects.create(
        slug="other-trial",
        title="Another liver trial",
        registry_id="NCT00000000",
        sponsor="Someone else",
        site="Elsewhere",
    )
    Site.objects.create(trial=other, code="01", name="Elsewhere")
    return other


@pytest.mark.parametrize("role", [roles.MONITOR, roles.TRIAL_ADMIN])
def test_another_trials_monitor_or_admin_gets_404(client, role, upload, other_trial):
    outsider = UserFactory(username="outsider")
    Membership.objects.create(user=outsider, trial=other_trial, role=role)
    client.force_login(outsider)
    assert client.post(purge_url(upload), {"reason": REASON}).status_code == 404
    with pytest.raises(PermissionDenied):
        prescreen_upload_purge(upload, outsider, REASON)
    assert not PrescreenPurge.objects.exists()


def test_a_monitor_of_another_site_gets_404(client, trial, upload):
    assert upload.site_id is not None
    second = Site.objects.create(trial=trial, code="02", name="Second site")
    elsewhere = UserFactory(username="monitor-02")
    Membership.objects.create(
        user=elsewhere, trial=trial, site=second, role=roles.MONITOR
    )
    client.force_login(elsewhere)
    assert client.post(purge_url(upload), {"reason": REASON}).status_code == 404


def test_the_purge_page_is_post_only(client, monitor, upload):
    client.force_login(monitor)
    assert client.get(purge_url(upload)).status_code == 405


@pytest.mark.parametrize("reason", ["", "   \n "])
def test_a_reason_is_required(client, monitor, upload, reason):
    client.force_login(monitor)
    response = client.post(purge_url(upload), {"reason": reason})
    assert response.status_code == HTTPStatus.OK
    assert response.context["form"].errors["reason"]
    with pytest.raises(ValidationError) as error:
        prescreen_upload_purge(upload, monitor, reason)
    assert error.value.code == "reason_required"
    assert not PrescreenPurge.objects.exists()
    assert PrescreenResult.unscoped.filter(upload_id=upload.pk).count() == 2


def test_an_upload_is_purged_once(monitor, trial_admin, upload):
    prescreen_upload_purge(upload, monitor, REASON)
    with pytest.raises(ValidationError) as error:
        prescreen_upload_purge(upload, trial_admin, "again")
    assert error.value.code == "already_purged"
    assert PrescreenPurge.objects.get().purged_by == monitor


# --- the pages after a purge ---------------------------------------------------


def test_after_a_purge_the_pages_show_the_tombstone(
    client, coordinator, monitor, upload
):
    client.force_login(coordinator)
    before = client.get(reverse("screening:prescreen_results", args=[upload.pk]))
    assert before.context["purge_form"] is None  # a coordinator may not purge
    assert b"P-001" in before.content

    prescreen_upload_purge(upload, monitor, REASON)

    page = client.get(reverse("screening:prescreen_results", args=[upload.pk]))
    assert page.status_code == HTTPStatus.OK
    text = page.content.decode()
    assert "P-001" not in text and "P-002" not in text
    assert "prescreen-tombstone" in text
    for shown in (REASON, upload.file_sha256, monitor.get_full_name()):
        assert shown in text
    assert page.context["purge"].purged_at.tzinfo is not None

    download = client.get(reverse("screening:prescreen_results_csv", args=[upload.pk]))
    assert download.status_code == HTTPStatus.GONE
    assert REASON in download.content.decode()

    prefill = client.post(
        reverse("screening:prescreen_prefill", args=[upload.pk, 1]), follow=True
    )
    assert "prefill" not in client.session
    assert any("purged" in str(m) for m in prefill.context["messages"])


def test_the_results_page_offers_the_purge_to_who_may(client, superuser, upload):
    client.force_login(superuser)
    page = client.get(reverse("screening:prescreen_results", args=[upload.pk]))
    assert page.context["purge_form"] is not None
    assert purge_url(upload).encode() in page.content
    response = client.post(purge_url(upload), {"reason": REASON})
    assert response["Location"] == reverse(
        "screening:prescreen_results", args=[upload.pk]
    )


# --- the database -------------------------------------------------------------


def test_without_a_tombstone_the_database_refuses_the_purges_writes(upload):
    results = "DELETE FROM screening_prescreenresult WHERE upload_id = %s"
    content = "UPDATE screening_prescreenupload SET content = %s WHERE id = %s"
    assert refused(results, [upload.pk])
    assert refused(content, [b"", upload.pk])
    assert PrescreenResult.unscoped.filter(upload_id=upload.pk).count() == 2
    assert bytes(stored(upload).content) != b""


def test_with_a_tombstone_the_database_still_refuses_every_other_write(
    trial, coordinator, monitor, upload
):
    other = _upload(trial, coordinator, numbers=("P-101",))
    prescreen_upload_purge(upload, monitor, REASON)
    pk = upload.pk
    for sql, params in [
        ("UPDATE screening_prescreenupload SET file_name = 'x' WHERE id = %s", [pk]),
        ("UPDATE screening_prescreenupload SET row_count = 0 WHERE id = %s", [pk]),
        (
            "UPDATE screening_prescreenupload SET content = %s, summary = %s "
            "WHERE id = %s",
            [b"", "{}", pk],
        ),
        ("UPDATE screening_prescreenupload SET content = %s WHERE id = %s", [b"x", pk]),
        ("DELETE FROM screening_prescreenupload WHERE id = %s", [pk]),
        ("DELETE FROM screening_prescreenpurge", []),
        ("UPDATE screening_prescreenpurge SET reason = 'typo'", []),
        # Another upload's rows and file: it has no tombstone.
        ("DELETE FROM screening_prescreenresult WHERE upload_id = %s", [other.pk]),
        ("UPDATE screening_prescreenresult SET decision = 'ELIGIBLE'", []),
        (
            "UPDATE screening_prescreenupload SET content = %s WHERE id = %s",
            [b"", other.pk],
        ),
    ]:
        assert refused(sql, params), sql
    # Emptying the purged upload's file again changes nothing and is allowed.
    assert not refused(
        "UPDATE screening_prescreenupload SET content = %s WHERE id = %s", [b"", pk]
    )
    assert PrescreenResult.unscoped.filter(upload_id=other.pk).count() == 1
    assert PrescreenPurge.objects.get().reason == REASON
    verify()


# --- the audit ledger ----------------------------------------------------------


def test_verify_audit_holds_after_a_purge(trial, coordinator, monitor, upload):
    _upload(trial, coordinator, numbers=("P-101",))
    assert "intact" in verify()
    prescreen_upload_purge(upload, monitor, REASON)
    assert "intact" in verify()


def test_an_unlogged_deletion_of_results_is_reported(upload):
    with triggers_off() as cursor:
        cursor.execute(
            "DELETE FROM screening_prescreenresult WHERE upload_id = %s AND row = 2",
            [upload.pk],
        )
    with pytest.raises(CommandError, match="result_rows"):
        verify()


def test_an_unlogged_emptying_of_the_file_is_reported(upload):
    with triggers_off() as cursor:
        cursor.execute(
            "UPDATE screening_prescreenupload SET content = %s WHERE id = %s",
            [b"", upload.pk],
        )
    with pytest.raises(CommandError, match="content_sha256"):
        verify()


def test_a_purge_by_sql_with_a_forged_tombstone_is_reported(monitor, upload):
    with triggers_off() as cursor:
        cursor.execute(
            "INSERT INTO screening_prescreenpurge (upload_id, purged_by_id, "
            "purged_at, reason, file_sha256, file_name, row_count) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [
                upload.pk,
                monitor.pk,
                upload.uploaded_at.astimezone(UTC),
                "forged",
                upload.file_sha256,
                upload.file_name,
                2,
            ],
        )
        cursor.execute(
            "DELETE FROM screening_prescreenresult WHERE upload_id = %s", [upload.pk]
        )
        cursor.execute(
            "UPDATE screening_prescreenupload SET content = %s WHERE id = %s",
            [b"", upload.pk],
        )
    with pytest.raises(CommandError, match="no ledger entry"):
        verify()


def test_removing_the_tombstone_of_a_purge_is_reported(monitor, upload):
    tombstone = prescreen_upload_purge(upload, monitor, REASON)
    with triggers_off() as cursor:
        cursor.execute(
            "DELETE FROM screening_prescreenpurge WHERE id = %s", [tombstone.pk]
        )
    with pytest.raises(CommandError, match="missing|content_sha256|result_rows"):
        verify()
