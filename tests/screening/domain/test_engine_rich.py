"""Richer conditions as data: units per variable, supporting conditions, lookback
windows, thresholds relative to the ULN, and whether a lab's ULN replaces a
threshold. Each at its boundaries and on both sides.

No database: specs are built by hand or from the protocol tuples.
"""

import dataclasses
import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from screening.common.words import condition_text, input_label, rich_condition_text
from screening.domain.contract import parse_candidate
from screening.domain.engine import (
    ConditionSpec,
    CriterionKind,
    CriterionSpec,
    Decision,
    Fact,
    Operator,
    Outcome,
    SpecError,
    censored_holds,
    condition_holds,
    evaluate,
    evaluate_criterion,
)
from screening.domain.facts import derive, screening_time
from screening.domain.variables import (
    VARIABLES,
    ThresholdUnitError,
    takes_lab_uln,
    threshold_factor,
    threshold_in_unit,
    threshold_to_canonical,
    threshold_units,
    uln_inputs,
)
from tests.screening.domain.protocol import PROTOCOL
from tests.screening.domain.test_candidate import candidate
from tests.screening.domain.test_engine import eligible_facts

D = Decimal
MET, NOT_MET, UNKNOWN = Outcome.MET, Outcome.NOT_MET, Outcome.UNKNOWN
GT, GTE, LT, LTE, BETWEEN = (
    Operator.GT,
    Operator.GTE,
    Operator.LT,
    Operator.LTE,
    Operator.BETWEEN,
)
SITE = ZoneInfo("Asia/Shanghai")
BY_CODE = {spec.code: spec for spec in PROTOCOL}
# The keys a condition's detail had before the richer conditions.
DETAIL_KEYS = {
    "variable",
    "outcome",
    "value",
    "relation",
    "threshold",
    "bounds",
    "source",
    "note",
    "missing",
}


def one(condition: ConditionSpec, code: str = "X1") -> CriterionSpec:
    return CriterionSpec(code, CriterionKind.INCLUSION, (condition,))


def decide(condition: ConditionSpec, fact: Fact | None, at=None):
    """The criterion's outcome and its one condition's result."""
    facts = {} if fact is None else {condition.variable: fact}
    result = evaluate_criterion(one(condition), facts, screening_time=at)
    (detail,) = result.conditions
    # The criterion's outcome and the condition's own always agree.
    assert detail.outcome is result.outcome
    return result, detail


# --- 1. A threshold's unit is checked against its variable ----------------------


@pytest.mark.parametrize(
    ("variable", "value", "unit", "canonical"),
    [
        ("crp_mg_l", "10", "mg/L", "10"),
        ("crp_mg_l", "1", "mg/dL", "10"),
        ("crp_mg_l", "0.99", "mg/dL", "9.9"),
        ("crp_mg_l", "1.01", "mg/dL", "10.1"),
        ("crp_mg_l", "10", "", "10"),  # blank: the canonical unit
        ("crp_mg_l", "10", " mg/L ", "10"),
        ("tbil_umol_l", "10", "mg/dL", "171"),
        ("tbil_umol_l", "171", "\u00b5mol/L", "171"),
        ("tbil_umol_l", "171", "\u03bcmol/L", "171"),
        ("tbil_rise_per_day", "1", "mg/dL/day", "17.1"),
        ("tbil_rise_per_day", "17.1", "umol/L/day", "17.1"),
        ("tbil_rise_per_day", "17.1", "\u00b5mol/L/day", "17.1"),
        ("il6_pg_ml", "7", "pg/mL", "7"),
        ("pct_ng_ml", "0.05", "ng/mL", "0.05"),
        ("pta_percent", "40", "%", "40"),
        ("age_years", "65", "years", "65"),
        ("he_grade", "2", "West Haven grade", "2"),
        ("he_grade", "2", "", "2"),
        ("inr", "1.5", "", "1.5"),
        ("meld", "30", "", "30"),
    ],
)
def test_a_threshold_in_an_accepted_unit_is_stored_canonically(
    variable, value, unit, canonical
):
    assert threshold_to_canonical(variable, D(value), unit) == D(canonical)


@pytest.mark.parametrize(
    ("variable", "unit", "code", "analytes"),
    [
        # Another analyte's unit: CRP is mg/L, IL-6 and TNF-alpha are pg/mL.
        ("crp_mg_l", "pg/mL", "unit_other_analyte", ("il6", "tnf_alpha")),
        ("crp_mg_l", "ng/mL", "unit_other_analyte", ("pct",)),
        ("il6_pg_ml", "mg/dL", "unit_other_analyte", None),
        ("pct_ng_ml", "mg/L", "unit_other_analyte", ("crp",)),
        ("tbil_umol_l", "g/L", "unit_other_analyte", ("albumin",)),
        ("tbil_umol_l", "mg/dL/day", "unit_unknown", ()),
        ("tbil_rise_per_day", "mg/dL", "unit_other_analyte", None),
        ("tbil_rise_per_day", "g/L/day", "unit_unknown", ()),
        # Unknown, and spelled differently (units are never guessed).
        ("crp_mg_l", "mmol/L", "unit_unknown", ()),
        ("crp_mg_l", "mg/dl", "unit_unknown", ()),
        ("crp_mg_l", "MG/L", "unit_unknown", ()),
        # A unitless score takes no lab unit.
        ("meld", "mg/dL", "unit_other_analyte", None),
        ("inr", "%", "unit_unknown", ()),
        ("pta_percent", "years", "unit_unknown", ()),
        ("he_grade", "Child-Pugh", "unit_unknown", ()),
        ("age_years", "months", "unit_unknown", ()),
        ("crp_mg_l", None, "unit_unknown", ()),
    ],
)
def test_an_unknown_or_other_analytes_unit_is_refused(variable, unit, code, analytes):
    with pytest.raises(ThresholdUnitError) as caught:
        threshold_to_canonical(variable, D(1), unit)
    error = caught.value
    assert (error.variable, error.unit, error.code) == (variable, unit, code)
    if analytes is not None:
        assert error.analytes == analytes
    assert error.accepted == threshold_units(variable)
    # The message names the unit and what is accepted.
    assert repr(unit) in str(error)
    assert "accepted units" in str(error)
    assert isinstance(error, ValueError)


def test_the_other_analytes_are_named_in_the_message():
    with pytest.raises(ThresholdUnitError, match="'pg/mL' is a unit of il6"):
        threshold_factor("crp_mg_l", "pg/mL")


@pytest.mark.parametrize(
    ("variable", "units"),
    [
        ("crp_mg_l", ("mg/L", "mg/dL")),
        ("tbil_umol_l", ("umol/L", "mg/dL")),
        ("tbil_rise_per_day", ("umol/L/day", "mg/dL/day")),
        ("il6_pg_ml", ("pg/mL",)),
        ("tnf_alpha_pg_ml", ("pg/mL",)),
        ("pct_ng_ml", ("ng/mL",)),
        ("pta_percent", ("%",)),
        ("he_grade", ("", "West Haven grade")),
        ("meld", ("",)),
        ("dic", ("",)),
        ("liver_failure_stage", ("",)),
    ],
)
def test_threshold_units_canonical_first(variable, units):
    assert threshold_units(variable) == units
    assert units[0] == VARIABLES[variable].unit


@pytest.mark.parametrize("variable", list(VARIABLES))
def test_every_variables_own_unit_and_blank_are_canonical(variable):
    assert threshold_factor(variable, VARIABLES[variable].unit) == 1
    assert threshold_factor(variable, "") == 1


@pytest.mark.parametrize(
    ("variable", "canonical", "unit", "shown"),
    [
        ("crp_mg_l", "10", "mg/dL", "1"),
        ("crp_mg_l", "5", "mg/dL", "0.5"),
        ("crp_mg_l", "10", "mg/L", "10"),
        ("tbil_umol_l", "171", "mg/dL", "10"),
        ("tbil_rise_per_day", "17.1", "mg/dL/day", "1"),
        ("tbil_umol_l", "171", "", "171"),
    ],
)
def test_a_canonical_threshold_is_shown_in_the_typed_unit(
    variable, canonical, unit, shown
):
    assert threshold_in_unit(variable, D(canonical), unit) == D(shown)
    assert threshold_to_canonical(variable, D(shown), unit) == D(canonical)


def test_an_unknown_variable_is_a_key_error():
    with pytest.raises(KeyError):
        threshold_units("alt_u_l")


@pytest.mark.parametrize(
    "unit", ["mg/dL", "pg/mL", "mmol/L", "x ULN"], ids=lambda u: u or "blank"
)
def test_a_spec_keeps_canonical_values_only(unit):
    # The adapter converts first; a spec in another unit would be misread.
    with pytest.raises(SpecError):
        ConditionSpec("crp_mg_l", GT, D(1), unit=unit)


@pytest.mark.parametrize("unit", ["", "mg/L"])
def test_a_spec_in_the_canonical_unit_is_accepted(unit):
    assert ConditionSpec("crp_mg_l", GT, D(10), unit=unit).unit == unit


def test_every_protocol_row_is_in_its_variables_units():
    # The shipped rows load unchanged (I5 says "West Haven grade").
    for spec in PROTOCOL:
        for condition in spec.conditions:
            assert threshold_factor(condition.variable, condition.unit) == 1


# --- 2. Supporting conditions ----------------------------------------------------

I6 = BY_CODE["I6"]
I6_SUPPORTING = dataclasses.replace(
    I6,
    conditions=tuple(
        dataclasses.replace(c, supporting=c.variable == "pct_ng_ml")
        for c in I6.conditions
    ),
)
# At each threshold (not elevated), and just above (elevated).
NOT_ELEVATED = {
    "il6_pg_ml": Fact(D(7)),
    "tnf_alpha_pg_ml": Fact(D("8.1")),
    "crp_mg_l": Fact(D(10)),
}
ELEVATED = {
    "il6_pg_ml": Fact(D("7.01")),
    "tnf_alpha_pg_ml": Fact(D("8.11")),
    "crp_mg_l": Fact(D("10.01")),
}
PCT = {
    "missing": None,
    "pending": Fact(None, status="pending"),
    "not done": Fact(None, status="not_done"),
    "at 0.05": Fact(D("0.05")),
    "below 0.05": Fact(D("0.049")),
    "censored <0.1": Fact(D("0.1"), comparator="<"),
}


def i6(spec, **facts):
    facts = {k: v for k, v in facts.items() if v is not None}
    return evaluate_criterion(spec, facts)


@pytest.mark.criterion("I6")
@pytest.mark.parametrize(
    "pct", ["missing", "pending", "not done", "at 0.05", "below 0.05", "censored <0.1"]
)
def test_no_elevated_marker_is_not_met_whether_pct_is_known_or_not(pct):
    result = i6(I6_SUPPORTING, **NOT_ELEVATED, pct_ng_ml=PCT[pct])
    assert result.outcome is NOT_MET
    assert result.missing == ()
    assert result.blocking


@pytest.mark.criterion("I6")
@pytest.mark.parametrize("pct", ["missing", "pending", "censored <0.1"])
def test_without_the_flag_an_unknown_pct_keeps_i6_unknown_as_before(pct):
    result = i6(I6, **NOT_ELEVATED, pct_ng_ml=PCT[pct])
    assert result.outcome is UNKNOWN
    assert result.missing == ("pct",)


@pytest.mark.criterion("I6")
@pytest.mark.parametrize("elevated", list(ELEVATED))
def test_one_elevated_principal_marker_is_met_without_pct(elevated):
    facts = {**NOT_ELEVATED, elevated: ELEVATED[elevated]}
    assert i6(I6_SUPPORTING, **facts).outcome is MET


@pytest.mark.criterion("I6")
@pytest.mark.parametrize(
    ("pct", "expected"),
    [("0.05", NOT_MET), ("0.051", MET), ("0.049", NOT_MET), ("0.3", MET)],
)
def test_an_elevated_pct_still_meets_i6(pct, expected):
    result = i6(I6_SUPPORTING, **NOT_ELEVATED, pct_ng_ml=Fact(D(pct)))
    assert result.outcome is expected


@pytest.mark.criterion("I6")
def test_a_censored_pct_above_its_threshold_meets_i6():
    result = i6(
        I6_SUPPORTING, **NOT_ELEVATED, pct_ng_ml=Fact(D("0.05"), comparator=">")
    )
    assert result.outcome is MET


@pytest.mark.criterion("I6")
@pytest.mark.parametrize(
    ("pct", "expected"),
    [
        (None, UNKNOWN),
        (Fact(D("0.01")), UNKNOWN),
        (Fact(D("0.06")), MET),
    ],
)
def test_an_unknown_principal_keeps_i6_unknown_and_asks_only_for_it(pct, expected):
    facts = {**NOT_ELEVATED, "il6_pg_ml": None, "pct_ng_ml": pct}
    result = i6(I6_SUPPORTING, **facts)
    assert result.outcome is expected
    if expected is UNKNOWN:
        # Collecting IL-6 decides I6 whatever PCT is: PCT is not asked for.
        assert result.missing == ("il6",)


def _reference(outcomes, supporting):
    """MET if any holds; else UNKNOWN if a counted condition is unknown."""
    if MET in outcomes:
        return MET
    principal = [o for o, s in zip(outcomes, supporting, strict=True) if not s]
    counted = principal if principal else list(outcomes)
    return UNKNOWN if UNKNOWN in counted else NOT_MET


MARKER = {
    "il6_pg_ml": {MET: Fact(D(8)), NOT_MET: Fact(D(7)), UNKNOWN: None},
    "tnf_alpha_pg_ml": {MET: Fact(D(9)), NOT_MET: Fact(D("8.1")), UNKNOWN: None},
    "crp_mg_l": {MET: Fact(D(11)), NOT_MET: Fact(D(10)), UNKNOWN: None},
    "pct_ng_ml": {MET: Fact(D("0.06")), NOT_MET: Fact(D("0.05")), UNKNOWN: None},
}


@pytest.mark.criterion("I6")
@pytest.mark.parametrize(
    "supporting", list(itertools.product((False, True), repeat=4)), ids=str
)
def test_every_combination_against_the_rule(supporting):
    spec = dataclasses.replace(
        I6,
        conditions=tuple(
            dataclasses.replace(c, supporting=s)
            for c, s in zip(I6.conditions, supporting, strict=True)
        ),
    )
    for outcomes in itertools.product((MET, NOT_MET, UNKNOWN), repeat=4):
        facts = {
            c.variable: MARKER[c.variable][o]
            for c, o in zip(I6.conditions, outcomes, strict=True)
        }
        result = i6(spec, **facts)
        assert result.outcome is _reference(outcomes, supporting), outcomes
        counted = [
            c.variable
            for c, o, s in zip(I6.conditions, outcomes, supporting, strict=True)
            if o is UNKNOWN and (not s or all(supporting))
        ]
        if result.outcome is UNKNOWN:
            assert set(result.missing) == {VARIABLES[v].inputs[0] for v in counted}


def test_a_criterion_of_supporting_conditions_only_is_decided_as_an_ordinary_one():
    # No principal condition: an unknown one keeps it open, as without the flag
    # (else no data at all would fail an inclusion).
    spec = CriterionSpec(
        "X1",
        CriterionKind.INCLUSION,
        (
            ConditionSpec("crp_mg_l", GT, D(10), supporting=True),
            ConditionSpec("pct_ng_ml", GT, D("0.05"), supporting=True),
        ),
    )
    assert not spec.has_principal
    assert evaluate_criterion(spec, {}).outcome is UNKNOWN
    assert evaluate_criterion(spec, {}).missing == ("crp", "pct")
    only_crp = {"crp_mg_l": Fact(D(10))}
    assert evaluate_criterion(spec, only_crp).outcome is UNKNOWN
    assert evaluate_criterion(spec, only_crp).missing == ("pct",)
    both = {"crp_mg_l": Fact(D(10)), "pct_ng_ml": Fact(D("0.05"))}
    assert evaluate_criterion(spec, both).outcome is NOT_MET
    assert evaluate_criterion(spec, {"pct_ng_ml": Fact(D("0.06"))}).outcome is MET


def test_a_supporting_exclusion_condition_can_exclude_but_not_hold_open():
    spec = CriterionSpec(
        "E9",
        CriterionKind.EXCLUSION,
        (
            ConditionSpec("meld", GT, D(30)),
            ConditionSpec("crp_mg_l", GT, D(100), supporting=True),
        ),
    )
    assert evaluate_criterion(spec, {"meld": Fact(D(30))}).outcome is NOT_MET
    excluded = {"meld": Fact(D(30)), "crp_mg_l": Fact(D("100.5"))}
    assert evaluate_criterion(spec, excluded).outcome is MET


@pytest.mark.criterion("I6")
def test_the_candidate_is_decided_without_pct_and_pct_is_not_to_collect():
    protocol = tuple(I6_SUPPORTING if s.code == "I6" else s for s in PROTOCOL)
    facts = eligible_facts(**NOT_ELEVATED, pct_ng_ml=None, meld=None)
    result = evaluate(protocol, facts)
    assert result.decision is Decision.INELIGIBLE
    assert result.blocking == ("I6",)
    assert "pct" not in result.to_collect
    assert result.to_collect == (
        "tbil",
        "inr",
        "creatinine",
        "dialysis_twice_past_week",
    )
    before = evaluate(PROTOCOL, facts)
    assert "I6" in before.unknown and "pct" in before.to_collect


@pytest.mark.criterion("I6")
def test_a_supporting_conditions_detail_says_so():
    result = i6(I6_SUPPORTING, **NOT_ELEVATED)
    details = {c.variable: c.as_dict() for c in result.conditions}
    assert details["pct_ng_ml"]["supporting"] is True
    assert details["pct_ng_ml"]["outcome"] == "UNKNOWN"
    for variable in ("il6_pg_ml", "tnf_alpha_pg_ml", "crp_mg_l"):
        assert set(details[variable]) == DETAIL_KEYS


def test_supporting_must_be_a_bool():
    with pytest.raises(SpecError):
        ConditionSpec("crp_mg_l", GT, D(10), supporting="yes")


# --- 3. Lookback windows ---------------------------------------------------------

AT = datetime(2026, 6, 2, 0, 0, tzinfo=SITE)  # the end of 2026-06-01
CRP_72 = ConditionSpec("crp_mg_l", GT, D(10), lookback_hours=72)


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (timedelta(hours=72), MET),  # exactly N h: within
        (timedelta(hours=72, seconds=1), UNKNOWN),
        (timedelta(hours=72, minutes=1), UNKNOWN),
        (timedelta(hours=71, minutes=59), MET),
        (timedelta(0), MET),
        (-timedelta(hours=1), MET),  # after the screening time: not older
    ],
)
def test_a_value_older_than_its_window_is_unknown(age, expected):
    result, detail = decide(CRP_72, Fact(D(12), time=AT - age), at=AT)
    assert result.outcome is expected
    if expected is UNKNOWN:
        assert detail.relation == "too old"
        assert detail.lookback_hours == "72"
        assert result.missing == ("crp",)
        assert "older than 72 h" in detail.reason
        assert detail.reason.startswith("CRP 12 mg/L collected 2026-05-29 23:59")
    else:
        assert result.missing == ()
        assert "collected" not in detail.as_dict()


def test_the_window_decides_also_a_value_that_would_not_meet():
    result, _detail = decide(CRP_72, Fact(D(5), time=AT - timedelta(hours=73)), at=AT)
    assert result.outcome is UNKNOWN
    fresh, _detail = decide(CRP_72, Fact(D(5), time=AT - timedelta(hours=71)), at=AT)
    assert fresh.outcome is NOT_MET


def test_the_detail_of_an_old_value_can_be_translated():
    _result, detail = decide(
        CRP_72, Fact(D(12), time=datetime(2026, 5, 28, 8, 0, tzinfo=SITE)), at=AT
    )
    assert detail.as_dict() == {
        "variable": "crp_mg_l",
        "outcome": "UNKNOWN",
        "value": "12 mg/L",
        "relation": "too old",
        "threshold": "",
        "bounds": "",
        "source": "",
        "note": "",
        "missing": ["crp"],
        "collected": "2026-05-28 08:00",
        "lookback_hours": "72",
    }
    with translation.override("en"):
        assert condition_text(detail.as_dict()) != ""
        assert rich_condition_text(detail.as_dict()) == (
            "CRP 12 mg/L collected 2026-05-28 08:00, older than 72 h"
        )


def test_the_same_value_is_judged_at_each_screening_time():
    # Results are cached: the screening time is part of what decides them.
    fact = Fact(D(12), time=AT - timedelta(hours=72))
    assert decide(CRP_72, fact, at=AT)[0].outcome is MET
    later = AT + timedelta(minutes=1)
    assert decide(CRP_72, fact, at=later)[0].outcome is UNKNOWN
    assert decide(CRP_72, fact, at=AT)[0].outcome is MET


def test_the_collection_time_is_shown_in_the_screening_times_zone():
    collected = datetime(2026, 5, 28, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
    _result, detail = decide(CRP_72, Fact(D(12), time=collected), at=AT)
    assert detail.collected == "2026-05-28 08:00"


def test_a_value_without_a_collection_time_is_accepted():
    result, detail = decide(CRP_72, Fact(D(12)), at=AT)
    assert result.outcome is MET
    assert set(detail.as_dict()) == DETAIL_KEYS


def test_without_a_screening_time_a_timed_value_under_a_window_is_unknown():
    result, detail = decide(CRP_72, Fact(D(12), time=AT - timedelta(hours=1)))
    assert result.outcome is UNKNOWN
    assert result.missing == ("screening_date",)
    assert detail.relation == "no screening time"
    assert "no screening date" in detail.reason
    with translation.override("en"):
        assert "72 h window" in rich_condition_text(detail.as_dict())


def test_without_a_window_the_collection_time_is_ignored():
    spec = ConditionSpec("crp_mg_l", GT, D(10))
    old = Fact(D(12), time=AT - timedelta(days=300))
    for at in (AT, None):
        result, detail = decide(spec, old, at=at)
        assert result.outcome is MET
        assert set(detail.as_dict()) == DETAIL_KEYS


def test_a_censored_value_outside_its_window_is_unknown():
    fact = Fact(D(20), comparator=">", time=AT - timedelta(hours=73))
    result, detail = decide(CRP_72, fact, at=AT)
    assert result.outcome is UNKNOWN
    assert detail.value == ">20 mg/L"
    inside = fact._replace(time=AT - timedelta(hours=72))
    assert decide(CRP_72, inside, at=AT)[0].outcome is MET


@pytest.mark.criterion("I6")
def test_an_old_supporting_pct_does_not_hold_i6_open_but_an_old_principal_does():
    spec = dataclasses.replace(
        I6_SUPPORTING,
        conditions=tuple(
            dataclasses.replace(c, lookback_hours=48) for c in I6_SUPPORTING.conditions
        ),
    )
    old = AT - timedelta(hours=49)
    facts = {**NOT_ELEVATED, "pct_ng_ml": Fact(D("0.5"), time=old)}
    result = evaluate_criterion(spec, facts, screening_time=AT)
    assert result.outcome is NOT_MET
    facts["crp_mg_l"] = Fact(D(10), time=old)
    result = evaluate_criterion(spec, facts, screening_time=AT)
    assert result.outcome is UNKNOWN
    assert result.missing == ("crp",)


def test_a_naive_screening_time_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate([one(CRP_72)], {}, screening_time=AT.replace(tzinfo=None))


@pytest.mark.parametrize("hours", [0, -1, True, 1.5, "72"])
def test_a_window_is_a_whole_number_of_hours_above_0(hours):
    with pytest.raises(SpecError):
        ConditionSpec("crp_mg_l", GT, D(10), lookback_hours=hours)


def test_condition_holds_agrees_with_the_window():
    fact = Fact(D(12), time=AT - timedelta(hours=72))
    assert condition_holds(CRP_72, fact, AT) is True
    assert (
        condition_holds(CRP_72, fact._replace(time=fact.time - timedelta(1)), AT)
        is None
    )
    assert condition_holds(CRP_72, None, AT) is None


# The screening time: the record time, at the latest the end of the screening date.
DAY = date(2026, 6, 1)
END = datetime(2026, 6, 2, 0, 0, tzinfo=SITE)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (None, END),  # a preview or an upload: the end of the screening date
        (
            datetime(2026, 6, 1, 10, 30, tzinfo=SITE),
            datetime(2026, 6, 1, 10, 30, tzinfo=SITE),
        ),
        (END - timedelta(seconds=1), END - timedelta(seconds=1)),
        (END, END),
        (END + timedelta(seconds=1), END),  # typed the next day: as of its day
        (datetime(2026, 6, 5, 9, 0, tzinfo=SITE), END),
        # A record time in UTC, shown in the site's zone.
        (
            datetime(2026, 6, 1, 2, 0, tzinfo=UTC),
            datetime(2026, 6, 1, 10, 0, tzinfo=SITE),
        ),
    ],
)
def test_the_screening_time(now, expected):
    at = screening_time(DAY, tz=SITE, now=now)
    assert at == expected
    assert at.tzinfo is SITE


def test_without_a_screening_date_the_screening_time_is_the_record_time():
    now = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
    assert screening_time(None, tz=SITE, now=now) == now
    assert screening_time(None, tz=SITE) is None


def _derived(now=None, **overrides):
    parsed = parse_candidate(candidate(**overrides), today=DAY, tz=SITE)
    return derive(parsed, tz=SITE, now=now)


def test_derive_carries_collection_times_and_the_screening_time():
    derived = _derived(
        crp={"value": "18", "unit": "mg/L", "time": "2026-05-30T08:00+08:00"},
        inr={"value": "1.8", "time": "2026-05-31T09:00+08:00"},
    )
    assert derived.screening_time == END
    facts = derived.facts
    assert facts["crp_mg_l"].time == datetime(2026, 5, 30, 8, 0, tzinfo=SITE)
    assert facts["il6_pg_ml"].time is None
    # The current TBil's own time; the rise's start; MELD's oldest lab.
    assert facts["tbil_umol_l"].time == datetime(2026, 6, 1, 8, 0, tzinfo=SITE)
    assert facts["tbil_rise_per_day"].time == datetime(2026, 5, 31, 8, 0, tzinfo=SITE)
    assert facts["meld"].time == datetime(2026, 5, 31, 9, 0, tzinfo=SITE)
    assert facts["age_years"].time is None


def test_derive_without_a_given_tbil_takes_the_latest_measurements_time():
    derived = _derived(
        tbil=None,
        tbil_series=[
            {"time": "2026-05-31T08:00+08:00", "value": "158.6", "unit": "umol/L"},
            {"time": "2026-06-01T07:00+08:00", "value": "180", "unit": "umol/L"},
        ],
    )
    assert derived.facts["tbil_umol_l"].time == datetime(2026, 6, 1, 7, 0, tzinfo=SITE)


@pytest.mark.criterion("I6")
@pytest.mark.parametrize(
    ("collected", "expected"),
    [
        ("2026-05-31T00:00+08:00", MET),  # 48 h before the end of 06-01
        ("2026-05-30T23:59+08:00", UNKNOWN),
    ],
)
def test_a_window_end_to_end_from_the_contract(collected, expected):
    derived = _derived(
        il6={"value": "5", "unit": "pg/mL"},
        tnf_alpha={"value": "5", "unit": "pg/mL"},
        pct={"value": "0.01", "unit": "ng/mL"},
        crp={"value": "18", "unit": "mg/L", "time": collected},
    )
    spec = dataclasses.replace(
        I6,
        conditions=tuple(
            dataclasses.replace(c, lookback_hours=48) for c in I6.conditions
        ),
    )
    result = evaluate([spec], derived.facts, screening_time=derived.screening_time)
    assert result.criteria[0].outcome is expected
    # Recording at 10:00 on the screening day makes the window end at 10:00.
    live = _derived(
        now=datetime(2026, 6, 1, 10, 0, tzinfo=SITE),
        il6={"value": "5", "unit": "pg/mL"},
        tnf_alpha={"value": "5", "unit": "pg/mL"},
        pct={"value": "0.01", "unit": "ng/mL"},
        crp={"value": "18", "unit": "mg/L", "time": "2026-05-30T10:00+08:00"},
    )
    result = evaluate([spec], live.facts, screening_time=live.screening_time)
    assert result.criteria[0].outcome is MET


# --- 4. Thresholds relative to the laboratory's ULN ------------------------------


def relative(op, k, high=None, **kwargs):
    return ConditionSpec(
        "crp_mg_l", op, D(k), D(high) if high else None, relative_to_uln=True, **kwargs
    )


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        # 2 x ULN 5 = 10.
        (GT, "10", NOT_MET),
        (GT, "10.01", MET),
        (GT, "9.99", NOT_MET),
        (GTE, "10", MET),
        (GTE, "9.99", NOT_MET),
        (LT, "10", NOT_MET),
        (LT, "9.99", MET),
        (LTE, "10", MET),
        (LTE, "10.01", NOT_MET),
    ],
)
def test_value_compared_with_k_times_the_lab_uln(op, value, expected):
    result, detail = decide(relative(op, 2), Fact(D(value), uln=D(5)))
    assert result.outcome is expected
    assert detail.threshold == "10"
    assert (detail.factor, detail.uln, detail.source) == ("2", "5", "x lab ULN")
    assert detail.reason.endswith("10 (2 x lab ULN 5)")


@pytest.mark.parametrize(
    ("value", "expected", "relation"),
    [
        ("5", MET, "within"),  # 1 x 5
        ("15", MET, "within"),  # 3 x 5
        ("4.99", NOT_MET, "<"),
        ("15.01", NOT_MET, ">"),
    ],
)
def test_a_range_relative_to_the_uln(value, expected, relation):
    result, detail = decide(relative(BETWEEN, 1, "3"), Fact(D(value), uln=D(5)))
    assert result.outcome is expected
    assert detail.relation == relation
    assert detail.bounds == "5-15"
    assert detail.factor == "1-3"
    assert "(1-3 x lab ULN 5)" in detail.reason


def test_a_fractional_factor_and_uln():
    result, detail = decide(relative(GT, "1.5"), Fact(D("12.76"), uln=D("8.5")))
    assert result.outcome is MET  # 12.75
    assert detail.threshold == "12.75"
    result, _detail = decide(relative(GT, "1.5"), Fact(D("12.75"), uln=D("8.5")))
    assert result.outcome is NOT_MET


@pytest.mark.parametrize("op", [GT, GTE, LT, LTE])
def test_without_a_uln_a_relative_condition_is_unknown_and_asks_for_it(op):
    result, detail = decide(relative(op, 2), Fact(D(50)))
    assert result.outcome is UNKNOWN
    assert result.missing == ("crp_uln",)
    assert detail.relation == "needs ULN"
    assert detail.factor == "2"
    assert "needs the laboratory's upper limit of normal" in detail.reason
    with translation.override("en"):
        assert input_label("crp_uln") == "CRP: laboratory's upper limit of normal"
        assert rich_condition_text(detail.as_dict()) == (
            "CRP 50 mg/L: needs the laboratory's upper limit of normal "
            "(threshold 2 × ULN)"
        )


def test_a_missing_value_of_a_relative_condition_asks_for_the_value():
    result, _detail = decide(relative(GT, 2), None)
    assert result.missing == ("crp",)


@pytest.mark.parametrize(
    ("comparator", "limit", "expected"),
    [
        (">", "10", True),  # above 10 = 2 x 5
        (">=", "10", None),
        (">=", "10.01", True),
        ("<", "10", False),
        ("<=", "10", False),
        ("<", "11", None),
    ],
)
def test_a_censored_value_against_a_multiple_of_the_uln(comparator, limit, expected):
    fact = Fact(D(limit), uln=D(5), comparator=comparator)
    spec = relative(GT, 2)
    assert censored_holds(spec, fact) is expected
    result, detail = decide(spec, fact)
    assert result.outcome is {True: MET, False: NOT_MET, None: UNKNOWN}[expected]
    assert detail.threshold == "10"
    assert "(2 x lab ULN 5)" in detail.reason


def test_a_censored_value_against_a_relative_range():
    spec = relative(BETWEEN, 1, "3")
    assert censored_holds(spec, Fact(D(5), uln=D(5), comparator="<")) is False
    assert censored_holds(spec, Fact(D(15), uln=D(5), comparator=">")) is False
    assert censored_holds(spec, Fact(D(14), uln=D(5), comparator=">")) is None
    assert censored_holds(spec, Fact(D(14), comparator=">")) is None


def test_a_relative_detail_renders_with_its_factor_and_uln():
    _result, detail = decide(relative(GT, 2), Fact(D(12), uln=D(5)))
    with translation.override("en"):
        text = condition_text(detail.as_dict())
        rich = rich_condition_text(detail.as_dict())
    assert "12" in text and "10" in text
    assert rich == "CRP 12 mg/L > 10 (2 × lab upper limit of normal 5)"


@pytest.mark.parametrize(
    "kwargs",
    [
        # A variable whose value takes no lab ULN.
        {"variable": "pta_percent", "operator": GT, "low": D(2)},
        {"variable": "meld", "operator": GT, "low": D(2)},
        # No equality or category with a multiple.
        {"variable": "crp_mg_l", "operator": Operator.EQ, "low": D(2)},
        # The factor is above 0.
        {"variable": "crp_mg_l", "operator": GT, "low": D(0)},
        {"variable": "crp_mg_l", "operator": BETWEEN, "low": D(-1), "high": D(2)},
        # Contradictory: a multiple of the ULN is not replaced by it.
        {"variable": "crp_mg_l", "operator": GT, "low": D(2), "lab_uln_replaces": True},
        # A factor has no unit.
        {"variable": "crp_mg_l", "operator": GT, "low": D(2), "unit": "mg/L"},
        {"variable": "crp_mg_l", "operator": GT, "low": D(2), "relative_to_uln": 1},
    ],
)
def test_malformed_relative_conditions_raise_spec_error(kwargs):
    kwargs = {"relative_to_uln": True, **kwargs}
    with pytest.raises(SpecError):
        ConditionSpec(**kwargs)


@pytest.mark.parametrize("unit", ["", "x ULN", "\u00d7 ULN"])
def test_a_factor_may_say_it_is_a_multiple(unit):
    assert relative(GT, 2, unit=unit).relative_to_uln


def test_which_variables_take_a_lab_uln():
    assert {v for v in VARIABLES if takes_lab_uln(v)} == {
        # The second trial compares TBil with k x the laboratory's ULN.
        "tbil_umol_l",
        "il6_pg_ml",
        "tnf_alpha_pg_ml",
        "crp_mg_l",
        "pct_ng_ml",
    }
    assert uln_inputs("il6_pg_ml") == ("il6_uln",)
    assert uln_inputs("meld") == ()


def test_derive_carries_the_lab_uln_with_the_value():
    derived = _derived(crp={"value": "18", "unit": "mg/dL", "uln": "0.8"})
    assert derived.facts["crp_mg_l"].value == D(180)
    assert derived.facts["crp_mg_l"].uln == D(8)


# --- 5. Whether a lab's ULN replaces the row's threshold -------------------------


def crp(op=GT, low="5", **kwargs):
    return ConditionSpec("crp_mg_l", op, D(low), **kwargs)


@pytest.mark.parametrize(
    ("replaces", "value", "uln", "expected", "threshold", "source"),
    [
        # False: the protocol's threshold 5 decides, whatever the lab says.
        (False, "5", "10", NOT_MET, "5", "protocol threshold"),
        (False, "5.01", "10", MET, "5", "protocol threshold"),
        (False, "8", "10", MET, "5", "protocol threshold"),
        (False, "4", "3", NOT_MET, "5", "protocol threshold"),
        (False, "5.01", None, MET, "5", "protocol threshold"),
        # True (and unset, for a marker's "above"): the lab's limit decides.
        (True, "8", "10", NOT_MET, "10", "lab ULN"),
        (True, "10", "10", NOT_MET, "10", "lab ULN"),
        (True, "10.01", "10", MET, "10", "lab ULN"),
        (True, "4", "3", MET, "3", "lab ULN"),
        (True, "5", None, NOT_MET, "5", "default ULN"),
        (True, "5.01", None, MET, "5", "default ULN"),
        (None, "8", "10", NOT_MET, "10", "lab ULN"),
        (None, "5.01", None, MET, "5", "default ULN"),
    ],
)
def test_a_lab_uln_replaces_the_threshold_only_when_the_row_says_so(
    replaces, value, uln, expected, threshold, source
):
    spec = crp(lab_uln_replaces=replaces)
    result, detail = decide(spec, Fact(D(value), uln=D(uln) if uln else None))
    assert result.outcome is expected
    assert (detail.threshold, detail.source) == (threshold, source)
    assert detail.reason.endswith(f"{threshold} ({source})")
    assert set(detail.as_dict()) == DETAIL_KEYS
    with translation.override("en"):
        words = {
            "protocol threshold": "(protocol's threshold)",
            "lab ULN": "(lab upper limit of normal)",
            "default ULN": "(default upper limit of normal)",
        }
        assert condition_text(detail.as_dict()).endswith(words[source])


def test_unset_reproduces_the_marker_default():
    assert crp().uln_replaces is True
    assert crp(GTE).uln_replaces is False
    assert ConditionSpec("pta_percent", GT, D(5)).uln_replaces is False


@pytest.mark.parametrize(
    ("value", "uln", "expected"), [("10", "10", MET), ("9.99", "10", NOT_MET)]
)
def test_at_or_above_the_lab_uln_when_the_row_says_so(value, uln, expected):
    spec = crp(GTE, lab_uln_replaces=True)
    result, detail = decide(spec, Fact(D(value), uln=D(uln)))
    assert result.outcome is expected
    assert detail.source == "lab ULN"


def test_a_marker_at_or_above_unset_is_not_replaced_and_names_no_source():
    result, detail = decide(crp(GTE), Fact(D(5), uln=D(10)))
    assert result.outcome is MET
    assert detail.source == ""


@pytest.mark.parametrize(
    ("comparator", "limit", "replaces", "expected"),
    [
        (">", "6", False, True),  # above 6 > protocol's 5
        (">", "6", True, None),  # above 6, lab's 10: cannot tell
        ("<", "10", True, False),
        ("<", "5", False, False),
        ("<", "6", False, None),
    ],
)
def test_a_censored_value_against_the_replaced_or_kept_threshold(
    comparator, limit, replaces, expected
):
    fact = Fact(D(limit), uln=D(10), comparator=comparator)
    spec = crp(lab_uln_replaces=replaces)
    assert censored_holds(spec, fact) is expected
    _result, detail = decide(spec, fact)
    assert detail.source == ("lab ULN" if replaces else "protocol threshold")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"variable": "crp_mg_l", "operator": LT, "low": D(5)},
        {"variable": "crp_mg_l", "operator": BETWEEN, "low": D(1), "high": D(5)},
        {"variable": "pta_percent", "operator": GT, "low": D(5)},
        {"variable": "meld", "operator": GTE, "low": D(30)},
    ],
)
def test_a_lab_uln_cannot_replace_other_thresholds(kwargs):
    with pytest.raises(SpecError):
        ConditionSpec(lab_uln_replaces=True, **kwargs)
    # False is always allowed (it is the default for new rows).
    assert ConditionSpec(lab_uln_replaces=False, **kwargs).uln_replaces is False


def test_lab_uln_replaces_must_be_a_bool_or_unset():
    with pytest.raises(SpecError):
        crp(lab_uln_replaces="no")


@pytest.mark.criterion("I6")
def test_after_lowering_crp_to_5_a_typed_lab_limit_of_10_no_longer_undoes_it():
    # The case: CRP 8 with the lab's limit 10 against a row of 5.
    fact = {"crp_mg_l": Fact(D(8), uln=D(10))}
    as_before = one(crp(lab_uln_replaces=True), "I6")
    as_data = one(crp(lab_uln_replaces=False), "I6")
    assert evaluate_criterion(as_before, fact).outcome is NOT_MET
    assert evaluate_criterion(as_data, fact).outcome is MET


# --- Defaults reproduce the engine before these fields ---------------------------


def test_the_protocol_specs_have_the_defaults():
    for spec in PROTOCOL:
        assert spec.has_principal
        for c in spec.conditions:
            assert not c.supporting and not c.relative_to_uln
            assert c.lookback_hours is None and c.lab_uln_replaces is None
            assert c.uln_replaces is (
                c.variable in {"il6_pg_ml", "tnf_alpha_pg_ml", "crp_mg_l", "pct_ng_ml"}
            )


def test_default_details_keep_their_keys_for_timed_facts_and_any_screening_time():
    facts = {
        name: (
            fact._replace(time=AT - timedelta(days=9))
            if fact.value is not None
            else fact
        )
        for name, fact in eligible_facts().items()
    }
    with_time = evaluate(PROTOCOL, facts, screening_time=AT)
    without = evaluate(PROTOCOL, eligible_facts())
    assert with_time.decision is without.decision is Decision.ELIGIBLE
    for a, b in zip(with_time.criteria, without.criteria, strict=True):
        assert [c.as_dict() for c in a.conditions] == [
            c.as_dict() for c in b.conditions
        ]
        assert a.reason == b.reason
