"""A record's criteria read back from its snapshot, once per distinct snapshot."""

import copy

import pytest

from screening.criteria import criteria_from_snapshot

pytestmark = pytest.mark.django_db


def test_equal_snapshots_share_their_specs_and_a_bad_one_is_refused_each_time(
    record,
):
    snapshot = record().criteria_as_evaluated
    first = criteria_from_snapshot(snapshot)
    again = criteria_from_snapshot(copy.deepcopy(snapshot))
    assert again.specs is first.specs and again.snapshot is not first.snapshot
    assert [s.code for s in first.specs] == [c["code"] for c in snapshot]
    changed = copy.deepcopy(snapshot)
    changed[0]["code"] = "X9"
    assert criteria_from_snapshot(changed).specs[0].code == "X9"
    broken = [{"code": "I1"}]
    for _ in range(2):
        with pytest.raises((ValueError, KeyError, TypeError)):
            criteria_from_snapshot(broken)
