"""The criteria a decision was evaluated against are stored once and referenced.

A record made before that (its own copy in ``criteria_snapshot``) is read,
shown and verified as before; a later one references a ``CriteriaSnapshot``,
hashed into its content hash as its own copy would have been.
"""

import hashlib
import json

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from screening import audit
from screening.assessment import active_criteria, assess
from screening.decisions import services
from screening.models import CriteriaSnapshot, EligibilityDecision
from tests.factories import amend, eligible_candidate
from tests.ledger.conftest import triggers_off, verify

pytestmark = pytest.mark.django_db


def _built(trial, user, number):
    """A decision and its outcomes as the service builds them, not yet linked."""
    data = eligible_candidate(screening_number=number)
    assessment = assess(
        data=data,
        criteria=active_criteria(trial=trial),
        today=timezone.localdate(),
        for_record=True,
    )
    return services._unlinked(
        trial=trial,
        data=data,
        user=user,
        assessment=assessment,
        supersedes=None,
        supersede_reason="",
        now=timezone.now(),
        site=services.screening_site_for(user=user, trial=trial),
    )


def _linked(decision, outcomes):
    with transaction.atomic():
        return services._append(
            decision=decision,
            outcomes=outcomes,
            content_hash=audit.decision_hasher(decision, outcomes),
        )


def _inline_record(trial, user, number):
    """A record as made before snapshots were stored once: its own copy."""
    decision, outcomes = _built(trial, user, number)
    decision.snapshot = None
    decision.criteria_snapshot = active_criteria(trial=trial).snapshot
    return _linked(decision, outcomes)


def test_records_of_one_criteria_version_reference_one_stored_snapshot(record, trial):
    first = record(eligible_candidate(screening_number="01-001"))
    second = record(eligible_candidate(screening_number="01-002"))
    (stored,) = CriteriaSnapshot.objects.all()
    assert first.snapshot_id == second.snapshot_id == stored.pk
    stored_rows = EligibilityDecision.unscoped.filter(criteria_snapshot__isnull=True)
    assert stored_rows.count() == 2  # no copy on the decision row
    criteria = active_criteria(trial=trial)
    assert stored.content == criteria.snapshot
    assert (
        stored.digest
        == hashlib.sha256(audit.canonical_json(criteria.snapshot)).hexdigest()
    )
    again = EligibilityDecision.unscoped.get(pk=first.pk)
    assert again.criteria_as_evaluated == criteria.snapshot
    # Hashed with the content, as a record's own copy was.
    assert audit.sha256(audit.decision_content(again, list(again.outcomes.all()))) == (
        again.content_hash
    )


def test_an_amendment_stores_a_new_snapshot_and_earlier_records_keep_theirs(
    record, trial
):
    before = record(eligible_candidate(screening_number="01-001"))

    def tighter(draft):
        criterion = draft.criteria.get(code="I1")
        criterion.text = "Age range from 18 to 60 years old"
        criterion.save()
        condition = criterion.conditions.get()
        condition.value_high = 60
        condition.save()

    amend(trial, tighter)
    after = record(eligible_candidate(screening_number="01-002"))
    assert CriteriaSnapshot.objects.count() == 2
    assert before.snapshot_id != after.snapshot_id
    texts = {
        d.pk: next(c["text"] for c in d.criteria_as_evaluated if c["code"] == "I1")
        for d in EligibilityDecision.unscoped.all()
    }
    assert texts == {
        before.pk: "Age range from 18 to 65 years old",
        after.pk: "Age range from 18 to 60 years old",
    }
    verify()


def test_a_snapshot_is_stored_once_whoever_asks_first(trial):
    criteria = active_criteria(trial=trial)
    first = services.stored_snapshot(trial=trial, criteria=criteria)
    again = services.stored_snapshot(trial=trial, criteria=criteria)
    assert first.pk == again.pk and CriteriaSnapshot.objects.count() == 1
    assert again.content is criteria.snapshot  # in hand, not read back


def test_records_with_their_own_copy_still_read_show_and_verify(
    record, trial, coordinator, client
):
    old = _inline_record(trial, coordinator, "01-001")
    new = record(eligible_candidate(screening_number="01-002"))
    old = EligibilityDecision.unscoped.get(pk=old.pk)
    assert old.snapshot_id is None and old.criteria_snapshot
    assert old.criteria_as_evaluated == new.criteria_as_evaluated
    assert audit.verify_chains(processes=1) == (2, 0, None)
    assert audit.verify_chains(processes=2) == (2, 0, None)
    verify()
    client.force_login(coordinator)
    for decision in (old, new):
        page = client.get(f"/decisions/{decision.pk}/").content.decode()
        history = decision.criteria_as_evaluated[0]["history_id"]
        assert f"I1 r{history}" in page


def test_a_record_holds_its_criteria_one_way_only(trial, coordinator, record):
    record(eligible_candidate(screening_number="01-001"))
    decision, outcomes = _built(trial, coordinator, "01-002")
    both = (decision.snapshot, active_criteria(trial=trial).snapshot)
    for snapshot, inline in (both, (None, None)):
        decision.snapshot, decision.criteria_snapshot = snapshot, inline
        with pytest.raises(IntegrityError):
            _linked(decision, outcomes)
        decision.pk = None
    assert EligibilityDecision.unscoped.count() == 1


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE screening_criteriasnapshot SET digest = 'x'",
        "DELETE FROM screening_criteriasnapshot",
    ],
)
def test_stored_snapshots_are_append_only_in_the_database(record, statement):
    record()
    with pytest.raises(Exception, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert CriteriaSnapshot.objects.count() == 1


def test_a_changed_snapshot_breaks_the_chain_at_its_first_record(record):
    first = record(eligible_candidate(screening_number="01-001"))
    record(eligible_candidate(screening_number="01-002"))
    stored = CriteriaSnapshot.objects.get()
    content = stored.content
    content[0]["conditions"][0]["value_low"] = "16"
    with triggers_off() as cursor:
        cursor.execute(
            "UPDATE screening_criteriasnapshot SET content = %s WHERE id = %s",
            [json.dumps(content), stored.pk],
        )
    for processes in (1, 2):
        checked, _signatures, problem = audit.verify_chains(processes=processes)
        assert (checked, problem.decision_id) == (1, first.pk)
        assert problem.problem == "content does not match its hash"
