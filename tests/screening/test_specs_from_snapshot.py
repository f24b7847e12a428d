"""One spec builder: a criterion row and a record's snapshot give the same specs."""

import copy
from datetime import datetime
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest

from screening.criteria import criteria_from_snapshot, criteria_load
from screening.decisions.context import record_margins
from screening.domain.engine import ConditionSpec, Operator, SpecError
from screening.domain.specs import TIMED_VARIABLES, condition_spec
from tests.factories import eligible_candidate
from trials import files
from trials.models import CriteriaVersion
from trials.services import trial_file_load

pytestmark = pytest.mark.django_db

TAKEN = datetime(2026, 6, 1, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.mark.parametrize("slug", sorted(files.SHIPPED))
def test_every_shipped_version_reads_back_from_its_snapshot(slug):
    trial = trial_file_load(path=files.SHIPPED[slug]).trial
    versions = list(CriteriaVersion.objects.filter(trial=trial))
    assert versions
    for version in versions:
        loaded = criteria_load(trial=trial, version=version)
        assert loaded.specs
        read_back = criteria_from_snapshot(loaded.snapshot)
        assert read_back.specs == loaded.specs
        assert read_back.snapshot is loaded.snapshot


def test_a_row_and_its_snapshot_data_build_one_spec():
    row = {
        "variable": "tbil_umol_l",
        "operator": "GT",
        "value_low": D("171.0000"),
        "value_high": None,
        "values": "",
        "unit": "",
        "supporting": False,
        "lookback_hours": None,
        "relative_to_uln": False,
        "lab_uln_replaces": None,
    }
    spec = condition_spec(row, default_lookback_hours=72)
    assert spec == ConditionSpec(
        variable="tbil_umol_l", operator=Operator.GT, low=D("171"), lookback_hours=72
    )
    assert str(spec.low) == "171"
    snapshot = {**row, "value_low": "171", "lookback_hours": 72}
    assert condition_spec(snapshot) == spec
    assert str(condition_spec(snapshot).low) == "171"


def test_the_default_window_applies_to_timed_variables_only():
    assert "tbil_umol_l" in TIMED_VARIABLES
    assert "age_years" not in TIMED_VARIABLES
    age = {"variable": "age_years", "operator": "GTE", "value_low": "18"}
    assert condition_spec(age, default_lookback_hours=72).lookback_hours is None
    own = {"variable": "tbil_umol_l", "operator": "GT", "value_low": "171"}
    assert condition_spec({**own, "lookback_hours": 24}, default_lookback_hours=72) == (
        condition_spec({**own, "lookback_hours": 24})
    )


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"value_low": "ten"}, "value_low"),
        ({"operator": "ABOUT"}, "unknown operator"),
        ({"variable": "height_cm"}, "unknown variable"),
    ],
)
def test_a_snapshot_the_engine_cannot_read_is_a_spec_error(change, problem):
    data = {"variable": "crp_mg_l", "operator": "GT", "value_low": "10", **change}
    with pytest.raises(SpecError, match=problem):
        condition_spec(data)


def test_a_record_whose_snapshot_cannot_be_read_shows_no_margins(record):
    decision = record(eligible_candidate())
    assert record_margins(decision, now=TAKEN)
    decision.snapshot.content = copy.deepcopy(decision.snapshot.content)
    (first,) = [
        c
        for entry in decision.snapshot.content
        for c in entry["conditions"]
        if c["value_low"] is not None
    ][:1]
    first["value_low"] = "ten"
    # Not a server error: the record's margins are simply not shown.
    assert record_margins(decision, now=TAKEN) == ()
