"""The lab inbox in the HMAC ledger: imports (with their values), reviews and
decisions' sources are sealed in the trial's chain, and verify_audit reports a
lab row changed behind the application's back (triggers removed)."""

import pytest
from django.core.management import CommandError
from django.db import connection

from screening.labs.models import LabImport, LabReview, LabSource, LabValue
from screening.ledger.models import LedgerEntry
from tests.labs.test_inbox import _client, _prefilled_post, _review_in_the_inbox
from tests.labs.test_inbox import _values as values_of
from tests.ledger.conftest import table, triggers_off, verify

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def reviewed(trial, coordinator, import_bundle):
    """The fixture bundle imported, three values approved, IL-6 rejected, and a
    decision recorded from the pre-filled form."""
    record = import_bundle()
    values = values_of(record)
    client = _client(coordinator)
    _review_in_the_inbox(client, values)
    url, _form, data = _prefilled_post(client, trial)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    return record, values


def entry_of(obj) -> LedgerEntry:
    return LedgerEntry.objects.get(object_table=table(type(obj)), object_pk=obj.pk)


def _update(model, assignment: str, pk: int) -> None:
    with triggers_off() as cursor:
        cursor.execute(
            f"UPDATE {table(model)} SET {assignment} WHERE id = %s",  # noqa: S608
            [pk],
        )


def _broken_at(obj, field: str):
    entry = entry_of(obj)
    return pytest.raises(
        CommandError,
        match=rf"chain {entry.chain}, sequence {entry.sequence}, {entry.kind} "
        rf"{table(type(obj))} id {obj.pk}: the row does not match its entry: "
        rf"{field}$",
    )


def test_the_inbox_is_sealed_in_the_trials_chain_without_patient_data(trial, reviewed):
    record, values = reviewed
    chain = f"trial:{trial.pk}"
    entry = entry_of(record)
    assert (entry.chain, entry.kind) == (chain, "UPLOAD")
    assert entry.content["row"]["values"] == 4
    assert entry.content["row"]["sha256"] == record.sha256
    assert "content" not in entry.content["row"]
    assert entry.content["users"]["imported_by"]["username"] == "coordinator"
    reviews = LabReview.objects.all()
    sources = LabSource.objects.all()
    assert len(reviews) == 4 and len(sources) == 3
    for row in [*reviews, *sources]:
        assert (entry_of(row).chain, entry_of(row).kind) == (chain, "DECISION")
    rejected = entry_of(LabReview.objects.get(value=values["il6"]))
    assert rejected.content["row"]["verdict"] == "REJECTED"
    assert "reason" not in rejected.content["row"]  # free text: its digest only
    assert "reason_sha256" in rejected.content["row"]
    # Values are covered by their import's digest, not one entry each.
    assert not LedgerEntry.objects.filter(object_table=table(LabValue)).exists()
    assert "Audit ledger intact" in verify()


def test_a_lab_review_flipped_by_sql_is_reported(reviewed):
    _record, values = reviewed
    review = LabReview.objects.get(value=values["il6"])
    _update(LabReview, "verdict = 'APPROVED', reason = ''", review.pk)
    with _broken_at(review, "reason_sha256, verdict"):
        verify()


def test_a_lab_value_changed_by_sql_is_reported_at_its_import(reviewed):
    record, values = reviewed
    _update(LabValue, "value_text = '18.53'", values["tbil"].pk)
    with _broken_at(record, "values_sha256"):
        verify()


def test_a_lab_value_deleted_by_sql_is_reported_at_its_import(reviewed):
    record, values = reviewed
    with triggers_off() as cursor:
        cursor.execute(
            f"DELETE FROM {table(LabReview)} WHERE value_id = %s",  # noqa: S608
            [values["il6"].pk],
        )
        cursor.execute(
            f"DELETE FROM {table(LabValue)} WHERE id = %s",  # noqa: S608
            [values["il6"].pk],
        )
    # The import comes first in the chain: its values no longer match.
    with _broken_at(record, "values, values_sha256"):
        verify()


def test_a_message_emptied_by_sql_is_reported(reviewed):
    record, _values = reviewed
    _update(LabImport, f"content = {_empty_bytes()}", record.pk)
    with _broken_at(record, "content_sha256"):
        verify()


def test_a_decisions_lab_source_edited_by_sql_is_reported(reviewed):
    source = LabSource.objects.get(input_key="inr")
    _update(LabSource, "source = 'TYPED'", source.pk)
    with _broken_at(source, "source"):
        verify()


def test_a_review_inserted_by_sql_is_reported(reviewed, coordinator):
    record, _values = reviewed
    extra = LabValue.unscoped.get(lab_import=record, input_key="il6")
    with triggers_off() as cursor:
        cursor.execute(
            f"DELETE FROM {table(LabReview)} WHERE value_id = %s",  # noqa: S608
            [extra.pk],
        )
    LabReview.objects.bulk_create(  # no signal: as if written by SQL
        [
            LabReview(
                value=extra,
                verdict="APPROVED",
                reviewed_by=coordinator,
                reviewed_at=record.imported_at,
            )
        ]
    )
    with pytest.raises(CommandError, match="labs_labreview id"):
        verify()


def _empty_bytes() -> str:
    return "'\\x'" if connection.vendor == "postgresql" else "X''"
