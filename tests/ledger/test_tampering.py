"""With the append-only triggers bypassed, verify_audit reports each tampering.

Each test changes the database as someone with database access could (raw SQL,
or an ORM call that sends no signal) and checks that verify_audit names the
first entry or row that no longer matches: chain, sequence, kind, object, and
what differs. Truncations are caught by an anchor file.
"""

import pytest
from django.core.management import CommandError
from django.utils import timezone

from accounts.models import AccessEvent
from screening import audit
from screening.ledger.models import LedgerEntry, LedgerHead
from screening.models import (
    CriterionOutcome,
    EligibilityDecision,
    Signature,
)
from tests.factories import eligible_candidate
from tests.ledger.conftest import anchor, decisions_of, table, triggers_off, verify


def entry_of(obj) -> LedgerEntry:
    return LedgerEntry.objects.get(
        object_table=table(type(obj)), object_pk=obj.pk, kind__in=_kinds()
    )


def _kinds():
    return [k for k in LedgerEntry.Kind if k != LedgerEntry.Kind.IDENTITY]


def test_a_clean_record_is_intact_with_its_anchors(audited_trial, tmp_path):
    anchors = tmp_path / "anchors.jsonl"
    anchor(anchors)
    output = verify(anchors)
    assert "Audit chain intact: 3 decisions, 2 signatures." in output
    assert "Audit ledger intact" in output
    assert "anchors" in output


def test_every_audited_write_is_sealed_in_its_chain(audited_trial, coordinator):
    t = audited_trial
    chain = f"trial:{t.trial.pk}"
    for obj in [*t.decisions, *t.signatures, t.export, t.upload]:
        assert entry_of(obj).chain == chain
    history = t.condition.history.latest()
    assert entry_of(history).kind == LedgerEntry.Kind.HISTORY
    assert entry_of(history).chain == chain
    event = AccessEvent.objects.filter(user=coordinator).first()
    assert entry_of(event).chain == "site"
    sequences = list(
        LedgerEntry.objects.filter(chain=chain)
        .order_by("sequence")
        .values_list("sequence", flat=True)
    )
    assert sequences == list(range(1, len(sequences) + 1))
    assert LedgerHead.objects.get(chain=chain).sequence == len(sequences)
    decision_entry = entry_of(t.decisions[0])
    assert decision_entry.content["row"]["content_hash"] == t.decisions[0].content_hash
    assert decision_entry.content["users"]["recorded_by"] == {
        "id": coordinator.pk,
        "username": "coordinator",
        "first_name": coordinator.first_name,
        "last_name": coordinator.last_name,
    }
    # The ledger keeps no patient data: a decision is sealed by its hash.
    assert "screening_number" not in decision_entry.content["row"]


def test_the_recording_users_identity_is_kept_as_it_was(audited_trial, coordinator):
    coordinator.username = "coordinator-renamed"
    coordinator.save()
    entry = entry_of(audited_trial.decisions[0])
    assert entry.content["users"]["recorded_by"]["username"] == "coordinator"
    identities = LedgerEntry.objects.filter(
        kind=LedgerEntry.Kind.IDENTITY, object_pk=coordinator.pk
    )
    assert [e.content["row"]["username"] for e in identities.order_by("sequence")] == [
        "coordinator",
        "coordinator-renamed",
    ]
    assert "Audit ledger intact" in verify()


def test_deleting_a_trials_last_decision_is_reported(audited_trial):
    last = audited_trial.decisions[-1]
    with triggers_off() as cursor:
        cursor.execute(
            "DELETE FROM screening_criterionoutcome WHERE decision_id = %s", [last.pk]
        )
        cursor.execute(
            "DELETE FROM screening_eligibilitydecision WHERE id = %s", [last.pk]
        )
    entry = entry_of(last)
    with pytest.raises(
        CommandError,
        match=rf"chain {entry.chain}, sequence {entry.sequence}, DECISION "
        rf"screening_eligibilitydecision id {last.pk}: the audited row is missing",
    ):
        verify()


def test_cutting_a_trials_last_decision_with_its_entry_is_caught_by_the_anchor(
    audited_trial, record, tmp_path
):
    last = record(eligible_candidate(screening_number="01-004"))
    anchors = tmp_path / "anchors.jsonl"
    anchor(anchors)
    entry = entry_of(last)
    previous = LedgerEntry.objects.get(chain=entry.chain, sequence=entry.sequence - 1)
    with triggers_off() as cursor:
        cursor.execute(
            "DELETE FROM screening_criterionoutcome WHERE decision_id = %s", [last.pk]
        )
        cursor.execute(
            "DELETE FROM screening_eligibilitydecision WHERE id = %s", [last.pk]
        )
        cursor.execute("DELETE FROM ledger_ledgerentry WHERE id = %s", [entry.pk])
        cursor.execute(
            "UPDATE ledger_ledgerhead SET sequence = %s, mac = %s WHERE chain = %s",
            [previous.sequence, previous.mac, entry.chain],
        )
    # Inside the database everything is consistent again: only the anchor knows.
    assert "Audit ledger intact" in verify()
    with pytest.raises(
        CommandError,
        match=rf"chain {entry.chain}, sequence {entry.sequence}: the head anchored "
        r".* is no longer in the chain, which ends at sequence "
        rf"{previous.sequence}",
    ):
        verify(anchors)


def test_deleting_a_whole_trials_chain_is_caught_by_the_anchor(audited_trial, tmp_path):
    trial = audited_trial.trial
    chain = f"trial:{trial.pk}"
    anchors = tmp_path / "anchors.jsonl"
    anchor(anchors)
    ids = [d.pk for d in decisions_of(trial)]
    marks = ", ".join(["%s"] * len(ids))
    with triggers_off() as cursor:
        for model, column in (
            (Signature, "decision_id"),
            (CriterionOutcome, "decision_id"),
            (EligibilityDecision, "id"),
        ):
            cursor.execute(
                f"DELETE FROM {table(model)} WHERE {column} IN ({marks})",  # noqa: S608
                ids,
            )
        cursor.execute("DELETE FROM ledger_ledgerentry WHERE chain = %s", [chain])
        cursor.execute("DELETE FROM ledger_ledgerhead WHERE chain = %s", [chain])
    with pytest.raises(
        CommandError,
        match=rf"chain {chain}, sequence \d+: the head anchored .* is no longer in "
        "the chain, which ends at sequence 0",
    ):
        verify(anchors)


def test_deleting_a_signature_is_reported(audited_trial):
    signature = audited_trial.signatures[0]
    with triggers_off() as cursor:
        cursor.execute("DELETE FROM screening_signature WHERE id = %s", [signature.pk])
    with pytest.raises(
        CommandError,
        match=rf"SIGNATURE screening_signature id {signature.pk}: the audited row "
        "is missing",
    ):
        verify()


def test_inserting_a_signature_is_reported(audited_trial, investigator):
    unsigned = audited_trial.decisions[2]
    forged = Signature(
        decision=unsigned,
        signer=investigator,
        signer_full_name="Wang Jun",
        signed_at=timezone.now(),
        meaning=Signature.Meaning.CONFIRM,
        statement="I confirm the eligibility assessment",
        decision_hash=unsigned.content_hash,
    )
    forged.content_hash = audit.sha256(audit.signature_content(forged))
    # bulk_create sends no signal: the row goes in as an INSERT by SQL would.
    Signature._base_manager.bulk_create([forged])
    forged = Signature._base_manager.get(decision=unsigned)
    assert audit.verify_chains()[2] is None  # the unkeyed chain is fooled
    with pytest.raises(
        CommandError,
        match=rf"SIGNATURE screening_signature id {forged.pk}: the row has no "
        "ledger entry",
    ):
        verify()


def test_editing_a_signature_and_recomputing_its_hash_is_reported(audited_trial):
    signature = Signature._base_manager.get(pk=audited_trial.signatures[0].pk)
    signature.signer_full_name = "Someone Else"
    signature.content_hash = audit.sha256(audit.signature_content(signature))
    with triggers_off() as cursor:
        cursor.execute(
            "UPDATE screening_signature SET signer_full_name = %s, content_hash = %s "
            "WHERE id = %s",
            [signature.signer_full_name, signature.content_hash, signature.pk],
        )
    assert audit.verify_chains()[2] is None
    entry = entry_of(signature)
    with pytest.raises(
        CommandError,
        match=rf"sequence {entry.sequence}, SIGNATURE screening_signature id "
        rf"{signature.pk}: the row does not match its entry: content_hash, "
        "signer_full_name",
    ):
        verify()


def rechain(decision, **changes) -> None:
    """Change a decision; give it and every later one (and their signatures)
    correct SHA-256 hashes, as someone who knows the unkeyed scheme would."""
    previous_hash = decision.previous_hash
    with triggers_off():
        for d in decisions_of(decision.trial):
            if d.sequence < decision.sequence:
                continue
            own = changes if d.pk == decision.pk else {}
            for name, value in own.items():
                setattr(d, name, value)
            d.previous_hash = previous_hash
            outcomes = list(CriterionOutcome._base_manager.filter(decision=d))
            d.content_hash = audit.sha256(audit.decision_content(d, outcomes))
            EligibilityDecision._base_manager.filter(pk=d.pk).update(
                previous_hash=d.previous_hash, content_hash=d.content_hash, **own
            )
            for s in Signature._base_manager.filter(decision=d):
                s.decision_hash = d.content_hash
                s.content_hash = audit.sha256(audit.signature_content(s))
                Signature._base_manager.filter(pk=s.pk).update(
                    decision_hash=s.decision_hash, content_hash=s.content_hash
                )
            previous_hash = d.content_hash


def test_flipping_a_decision_and_rechaining_everything_after_it_is_reported(
    audited_trial,
):
    flipped = audited_trial.decisions[1]
    assert flipped.outcome == EligibilityDecision.Result.INELIGIBLE
    rechain(flipped, outcome=EligibilityDecision.Result.ELIGIBLE)
    assert audit.verify_chains()[2] is None  # the SHA-256 chain verifies
    entry = entry_of(flipped)
    with pytest.raises(
        CommandError,
        match=rf"sequence {entry.sequence}, DECISION screening_eligibilitydecision "
        rf"id {flipped.pk}: the row does not match its entry: content_hash",
    ):
        verify()


@pytest.mark.parametrize(
    ("target", "assignment", "field"),
    [
        ("history", "value_low = 99", "value_low"),
        ("history", "history_change_reason = 'typo'", "history_change_reason"),
        ("access", "ip_address = '203.0.113.9'", "ip_address"),
        ("access", "detail = 'nothing happened'", "detail"),
        ("export", "export_format = 'xlsx'", "export_format"),
        ("upload", "row_count = 0", "row_count"),
        ("upload", "file_sha256 = '" + "0" * 64 + "'", "file_sha256"),
    ],
)
def test_editing_a_log_or_history_row_is_reported(
    audited_trial, coordinator, target, assignment, field
):
    obj = {
        "history": lambda: audited_trial.condition.history.latest(),
        "access": lambda: AccessEvent._base_manager.filter(user=coordinator).first(),
        "export": lambda: audited_trial.export,
        "upload": lambda: audited_trial.upload,
    }[target]()
    model = type(obj)
    with triggers_off() as cursor:
        cursor.execute(
            f"UPDATE {table(model)} SET {assignment} "  # noqa: S608
            f"WHERE {model._meta.pk.column} = %s",
            [obj.pk],
        )
    entry = entry_of(obj)
    with pytest.raises(
        CommandError,
        match=rf"chain {entry.chain}, sequence {entry.sequence}, {entry.kind} "
        rf"{table(model)} id {obj.pk}: the row does not match its entry: {field}$",
    ):
        verify()


def test_renaming_the_recording_user_by_sql_is_reported(audited_trial, coordinator):
    with triggers_off() as cursor:
        cursor.execute(
            "UPDATE auth_user SET first_name = 'Li', last_name = 'Na' WHERE id = %s",
            [coordinator.pk],
        )
    assert audit.verify_chains()[2] is None
    with pytest.raises(
        CommandError,
        match=rf"IDENTITY auth_user id {coordinator.pk}: the user's first_name, "
        "last_name changed without an identity entry",
    ):
        verify()


def test_an_entry_rewritten_to_match_a_tampered_row_is_reported(audited_trial):
    export = audited_trial.export
    entry = entry_of(export)
    content = entry.content
    content["row"]["export_format"] = "xlsx"
    with triggers_off() as cursor:
        cursor.execute(
            "UPDATE screening_screeninglogexport SET export_format = 'xlsx' "
            "WHERE id = %s",
            [export.pk],
        )
        LedgerEntry._base_manager.filter(pk=entry.pk).update(content=content)
    with pytest.raises(
        CommandError,
        match=rf"sequence {entry.sequence}, EXPORT .*: HMAC does not match",
    ):
        verify()


def test_removing_an_entry_from_the_middle_of_a_chain_is_reported(audited_trial):
    entry = entry_of(audited_trial.signatures[0])
    with triggers_off() as cursor:
        cursor.execute("DELETE FROM ledger_ledgerentry WHERE id = %s", [entry.pk])
    with pytest.raises(
        CommandError,
        match=rf"chain {entry.chain}, sequence {entry.sequence + 1}, .*: sequence "
        rf"{entry.sequence + 1}, expected {entry.sequence}",
    ):
        verify()


def test_cutting_a_chains_end_without_moving_its_head_is_reported(audited_trial):
    chain = f"trial:{audited_trial.trial.pk}"
    head = LedgerHead.objects.get(chain=chain)
    with triggers_off() as cursor:
        cursor.execute(
            "DELETE FROM ledger_ledgerentry WHERE chain = %s AND sequence = %s",
            [chain, head.sequence],
        )
    with pytest.raises(
        CommandError,
        match=rf"chain {chain}, sequence {head.sequence}: its head is at sequence "
        rf"{head.sequence} but the chain ends at sequence {head.sequence - 1}",
    ):
        verify()
