"""verify_audit hashes each decision once: in workers, then trusted by the ledger.

The chain's walk reads the rows back as values and hashes them again, in
worker processes when asked; the ledger's walk then reads the stored hash of
the trials the chain's walk has just checked, in the same snapshot, and hashes
the others itself.
"""

import pytest
from django.apps import apps
from django.core.management import CommandError
from django.db import connection, transaction

from screening import audit
from screening.ledger.content import AuditedDecision, audited
from screening.ledger.verification import _one_snapshot, verify_audit
from screening.models import EligibilityDecision
from tests.factories import eligible_candidate
from tests.ledger.conftest import triggers_off, verify
from tests.ledger.test_tampering import rechain

TAMPERINGS = {
    "an outcome's reason": (
        "UPDATE screening_criterionoutcome SET reason = 'tampered' "
        "WHERE decision_id = %s"
    ),
    "the decision's initials": (
        "UPDATE screening_eligibilitydecision SET initials = 'QQ' WHERE id = %s"
    ),
    "a JSON column": (
        "UPDATE screening_eligibilitydecision SET computed = '{}' WHERE id = %s"
    ),
    "the link": (
        "UPDATE screening_eligibilitydecision SET previous_hash = '"
        + "1" * 64
        + "' WHERE id = %s"
    ),
}


@pytest.fixture
def seven(record):
    return [
        record(eligible_candidate(screening_number=f"02-{n:03d}")) for n in range(7)
    ]


@pytest.fixture
def small_calls(monkeypatch):
    """Two decisions a worker call, so that seven make four calls."""
    monkeypatch.setattr(audit, "_CALL_SIZE", 2)


def test_an_intact_chain_verifies_alike_in_one_process_and_in_two(seven, small_calls):
    assert audit.verify_chains(batch_size=3, processes=1) == (7, 0, None)
    assert audit.verify_chains(batch_size=3, processes=2) == (7, 0, None)


@pytest.mark.parametrize("tampering", TAMPERINGS)
def test_workers_report_the_first_tampered_decision(seven, small_calls, tampering):
    target = seven[4]
    with triggers_off() as cursor:
        cursor.execute(TAMPERINGS[tampering], [target.pk])
    one = audit.verify_chains(batch_size=3, processes=1)
    two = audit.verify_chains(batch_size=3, processes=2)
    assert one == two
    checked, _signatures, problem = two
    assert checked == 5
    assert (problem.decision_id, problem.sequence) == (target.pk, target.sequence)
    with pytest.raises(CommandError, match=f"decision id {target.pk} "):
        verify()


def test_values_read_back_hash_as_the_model_instances_do(seven):
    batch, snapshot_texts = next(audit._chain_batches(seven[0].trial_id, 10))
    # One stored snapshot for the seven, sent once with the batch.
    assert len(snapshot_texts) == 1
    for (_id, _sequence, _previous, stored, now), decision in zip(
        audit._rehashed(batch, snapshot_texts), seven, strict=True
    ):
        assert now == stored == decision.content_hash


def _decision_spec() -> AuditedDecision:
    return next(s for s in audited(apps) if isinstance(s, AuditedDecision))


def test_the_ledger_reads_the_stored_hash_only_for_trials_rehashed(seven):
    target = seven[2]
    with triggers_off() as cursor:
        cursor.execute(TAMPERINGS["an outcome's reason"], [target.pk])
    spec = _decision_spec()
    (_obj, row) = spec.rows([target.pk])[target.pk]
    assert row["content_hash"] != target.content_hash  # hashed again: it moved
    (_obj, row) = spec.rows([target.pk], rehashed_trials=frozenset({0}))[target.pk]
    assert row["content_hash"] != target.content_hash  # another trial's rehash
    trusted = frozenset({target.trial_id})
    (_obj, row) = spec.rows([target.pk], rehashed_trials=trusted)[target.pk]
    assert row["content_hash"] == target.content_hash


def test_a_rechained_decision_is_caught_when_the_ledger_trusts_the_chain(
    audited_trial,
):
    """The chain's walk passes (hashes recomputed by someone without the key);
    the ledger's sealed hash then differs from the stored one."""
    flipped = audited_trial.decisions[1]
    rechain(flipped, outcome=EligibilityDecision.Result.ELIGIBLE)
    report = verify_audit(processes=2)
    assert report.chain_problem is None
    assert "the row does not match its entry: content_hash" in str(
        report.ledger.problem
    )
    assert f"id {flipped.pk}" in str(report.ledger.problem)


@pytest.mark.django_db(transaction=True)
def test_verify_audit_reads_one_snapshot(transactional_audit_db, audited_trial):
    """Outside a transaction verify_audit opens a snapshot on PostgreSQL (on
    SQLite a transaction would take the write lock: none is opened); inside
    one it trusts the chain only where that transaction reads a snapshot."""
    postgresql = connection.vendor == "postgresql"
    with _one_snapshot() as snapshot:
        assert snapshot is postgresql
        assert connection.in_atomic_block is postgresql
        if postgresql:
            with connection.cursor() as cursor:
                cursor.execute("SHOW transaction_isolation")
                assert cursor.fetchone() == ("repeatable read",)
    assert not connection.in_atomic_block
    with transaction.atomic(), _one_snapshot() as snapshot:
        # PostgreSQL's default, READ COMMITTED, reads each query afresh.
        assert snapshot is (connection.vendor == "sqlite")
    flipped = audited_trial.decisions[1]
    rechain(flipped, outcome=EligibilityDecision.Result.ELIGIBLE)
    with pytest.raises(CommandError, match=f"id {flipped.pk}: the row does not"):
        verify()
    assert verify_audit().ledger.problem is not None
