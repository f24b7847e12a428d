"""How close: distances to thresholds, near misses and the TBil projection.

No database: the criteria are engine specs, the facts plain values or derived
from the input contract. Each boundary is tested at and on both sides.
"""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from screening.domain.contract import parse_candidate
from screening.domain.engine import (
    ConditionSpec,
    CriterionKind,
    CriterionSpec,
    Fact,
    Operator,
    evaluate,
)
from screening.domain.facts import derive
from screening.domain.margins import entered_units, margins
from tests.screening.domain.protocol import PROTOCOL
from tests.screening.domain.test_candidate import SITE, TODAY, candidate

D = Decimal
UTC = ZoneInfo("UTC")
TAKEN = datetime(2026, 6, 1, 8, 0, tzinfo=SITE)
NOW = TAKEN


def spec(variable, operator, low, high=None, code="X1", **extra) -> CriterionSpec:
    return CriterionSpec(
        code=code,
        kind=CriterionKind.INCLUSION,
        conditions=(
            ConditionSpec(
                variable=variable,
                operator=Operator(operator),
                low=D(low),
                high=None if high is None else D(high),
                **extra,
            ),
        ),
    )


def margins_of(specs, facts, margin=10, now=NOW, **kwargs):
    evaluation = evaluate(specs, facts, screening_time=now)
    return margins(evaluation, facts, margin_percent=D(margin), now=now, **kwargs)


def one(specs, facts, **kwargs):
    (found,) = margins_of(specs, facts, **kwargs)
    return found


# --- Distance, percentage and the near-miss flag -----------------------------------


@pytest.mark.parametrize(
    ("value", "distance", "percent", "near", "holds"),
    [
        ("8.9", "-1.1", "-11", False, False),
        ("8.99", "-1.01", "-10.1", False, False),
        ("9", "-1", "-10", True, False),  # the margin's edge, exactly 10 %
        ("9.2", "-0.8", "-8", True, False),
        ("10", "0", "0", True, False),  # distance 0: "above 10" does not hold
        ("10.01", "0.01", "0.1", True, True),
        ("11", "1", "10", True, True),  # the edge above
        ("11.01", "1.01", "10.1", False, True),
    ],
)
def test_distance_and_near_miss_around_an_above_threshold(
    value, distance, percent, near, holds
):
    found = one((spec("crp_mg_l", "GT", 10),), {"crp_mg_l": Fact(D(value))})
    assert (found.code, found.variable) == ("X1", "crp_mg_l")
    assert (found.value, found.threshold, found.unit) == (D(value), D(10), "mg/L")
    assert found.distance == D(distance)
    assert found.percent == D(percent)
    assert found.near_miss is near
    assert found.holds is holds


@pytest.mark.parametrize(
    ("operator", "value", "holds"),
    [
        ("GTE", "170.9", False),
        ("GTE", "171", True),
        ("GTE", "171.1", True),
        ("GT", "171", False),
        ("LT", "171", False),
        ("LTE", "171", True),
        ("LT", "170.9", True),
    ],
)
def test_each_operator_at_and_beside_its_threshold(operator, value, holds):
    found = one((spec("tbil_umol_l", operator, 171),), {"tbil_umol_l": Fact(D(value))})
    assert found.distance == D(value) - 171
    assert found.holds is holds
    assert found.near_miss


@pytest.mark.parametrize(
    ("value", "threshold", "distance", "near"),
    [
        ("17", "20", "-3", False),  # 15 % below the lower bound
        ("18", "20", "-2", True),  # exactly 10 % of 20
        ("20", "20", "0", True),
        ("29", "20", "9", False),
        ("30", "20", "10", False),  # equally far: the lower bound
        ("31", "40", "-9", False),
        ("36", "40", "-4", True),  # inside, 10 % of 40 from the upper bound
        ("40", "40", "0", True),
        ("44", "40", "4", True),
        ("44.1", "40", "4.1", False),
    ],
)
def test_a_range_is_measured_from_its_nearer_bound(value, threshold, distance, near):
    found = one(
        (spec("pta_percent", "BETWEEN", 20, 40),), {"pta_percent": Fact(D(value))}
    )
    assert (found.threshold, found.distance) == (D(threshold), D(distance))
    assert found.near_miss is near
    assert found.holds is (20 <= D(value) <= 40)


@pytest.mark.parametrize(
    ("margin", "value", "near"),
    [
        (0, "10", True),
        (0, "10.001", False),
        (100, "0", True),
        (100, "20", True),
        (100, "20.1", False),
        ("2.5", "9.75", True),
        ("2.5", "9.74", False),
    ],
)
def test_the_margin_is_the_versions(margin, value, near):
    found = one(
        (spec("crp_mg_l", "GT", 10),), {"crp_mg_l": Fact(D(value))}, margin=margin
    )
    assert found.near_miss is near


@pytest.mark.parametrize("margin", ["-0.1", "100.1", "NaN"])
def test_a_margin_outside_0_to_100_is_refused(margin):
    with pytest.raises(ValueError, match="margin"):
        margins_of(
            (spec("crp_mg_l", "GT", 10),), {"crp_mg_l": Fact(D(9))}, margin=margin
        )


def test_now_must_know_its_zone():
    evaluation = evaluate((spec("crp_mg_l", "GT", 10),), {"crp_mg_l": Fact(D(9))})
    with pytest.raises(ValueError, match="timezone"):
        margins(
            evaluation,
            {"crp_mg_l": Fact(D(9))},
            margin_percent=D(10),
            now=datetime(2026, 6, 1, 8, 0),  # noqa: DTZ001 - the naive time refused
        )


def test_a_threshold_of_zero_has_no_percentage():
    found = one((spec("crp_mg_l", "GT", 0),), {"crp_mg_l": Fact(D("0.5"))})
    assert (found.distance, found.percent, found.near_miss) == (D("0.5"), None, False)
    assert one((spec("crp_mg_l", "GT", 0),), {"crp_mg_l": Fact(D(0))}).near_miss


# --- Nothing shown, never an exception ---------------------------------------------


@pytest.mark.parametrize(
    "facts",
    [
        {},
        {"crp_mg_l": Fact(None)},
        {"crp_mg_l": Fact(None, status="pending")},
        {"crp_mg_l": Fact(D(9), comparator="<")},  # a limit, not the result
        {"crp_mg_l": Fact(D(12), comparator=">")},
    ],
    ids=["absent", "missing", "pending", "censored below", "censored above"],
)
def test_a_value_that_is_not_known_exactly_shows_nothing(facts):
    assert margins_of((spec("crp_mg_l", "GT", 10),), facts) == ()


def test_a_value_outside_its_window_or_without_its_uln_shows_nothing():
    old = Fact(D(9), time=NOW - timedelta(hours=73))
    windowed = spec("crp_mg_l", "GT", 10, lookback_hours=72)
    assert margins_of((windowed,), {"crp_mg_l": old}) == ()
    relative = spec("tbil_umol_l", "GT", 5, relative_to_uln=True)
    assert margins_of((relative,), {"tbil_umol_l": Fact(D(80))}) == ()
    found = one((relative,), {"tbil_umol_l": Fact(D(80), uln=D("17.1"))})
    assert (found.threshold, found.distance) == (D("85.5"), D("-5.5"))


def test_a_laboratory_uln_that_replaces_the_threshold_is_the_threshold():
    found = one(
        (spec("crp_mg_l", "GT", 10, lab_uln_replaces=True),),
        {"crp_mg_l": Fact(D(7), uln=D(8))},
    )
    assert (found.threshold, found.distance, found.percent) == (D(8), D(-1), D("-12.5"))


def test_only_numeric_comparisons_are_measured():
    facts = derive(parse_candidate(candidate(), today=TODAY, tz=SITE), tz=SITE).facts
    found = margins_of(PROTOCOL, facts)
    assert {m.variable for m in found} == {
        "age_years",
        "tbil_umol_l",
        "tbil_rise_per_day",
        "pta_percent",
        "inr",
        "he_grade",
        "il6_pg_ml",
        "tnf_alpha_pg_ml",
        "crp_mg_l",
        "pct_ng_ml",
        "meld",
    }
    assert [m.code for m in found] == sorted(
        (m.code for m in found), key=[s.code for s in PROTOCOL].index
    )


# --- Units: thresholds are canonical, values shown as entered ----------------------


def test_a_value_entered_in_another_unit_is_measured_in_that_unit():
    data = candidate(crp={"value": "0.92", "unit": "mg/dL"})
    parsed = parse_candidate(data, today=TODAY, tz=SITE)
    derived = derive(parsed, tz=SITE)
    assert entered_units(parsed) == {"crp_mg_l": "mg/dL"}
    found = [
        m
        for m in margins_of(PROTOCOL, derived.facts, shown_units=entered_units(parsed))
        if m.variable == "crp_mg_l"
    ]
    assert [(m.value, m.threshold, m.unit, m.distance) for m in found] == [
        (D("0.92"), D(1), "mg/dL", D("-0.08"))
    ]
    assert found[0].percent == D(-8) and found[0].near_miss


def test_a_unit_the_value_cannot_be_shown_in_gives_the_canonical_unit_and_value():
    """Value and unit always agree: never 9.2 labelled with a unit it is not in."""
    data = candidate(crp={"value": "9.2", "unit": "mg/L"})
    parsed = parse_candidate(data, today=TODAY, tz=SITE)
    derived = derive(parsed, tz=SITE)
    found = [
        m
        for m in margins_of(PROTOCOL, derived.facts, shown_units={"crp_mg_l": "pg/mL"})
        if m.variable == "crp_mg_l"
    ]
    assert [(m.value, m.threshold, m.unit) for m in found] == [
        (D("9.2"), D(10), "mg/L")
    ]


# --- The TBil projection -----------------------------------------------------------


def tbil_facts(level, rise, time=TAKEN):
    return {
        "tbil_umol_l": Fact(None if level is None else D(level), time=time),
        "tbil_rise_per_day": Fact(None if rise is None else D(rise)),
    }


def tbil_spec(threshold=171, operator="GTE"):
    return (spec("tbil_umol_l", operator, threshold, code="I3"),)


def test_the_projection_from_161_at_17_1_a_day():
    found = one(tbil_spec(), tbil_facts("161", "17.1"))
    projection = found.projection
    assert projection.rise_per_day == D("17.1")
    assert projection.threshold == D(171)
    assert projection.hours == D(10) * 24 / D("17.1")  # 14.035... h
    # 08:00 + 14 h 2 min 6.3 s, rounded up to the minute.
    assert projection.at == datetime(2026, 6, 1, 22, 3, tzinfo=SITE)
    assert projection.hours_from_now == D("14.05")


@pytest.mark.parametrize(
    ("level", "rise", "operator", "shown"),
    [
        ("161", "17.1", "GTE", True),
        ("170.9", "0.1", "GTE", True),
        ("171", "17.1", "GTE", False),  # already at the threshold it must reach
        ("171", "17.1", "GT", True),  # at it, not above it: reached at once
        ("180", "17.1", "GTE", False),  # already over
        ("161", "0", "GTE", False),  # no rise
        ("161", "-3.2", "GTE", False),  # a fall
        ("161", None, "GTE", False),  # no rise known
        ("161", "17.1", "LT", False),  # not a threshold to reach
    ],
)
def test_the_projection_is_only_for_a_rise_towards_the_threshold(
    level, rise, operator, shown
):
    found = one(tbil_spec(operator=operator), tbil_facts(level, rise))
    assert (found.projection is not None) is shown


def test_reaching_at_once_projects_the_values_own_time():
    projection = one(tbil_spec(operator="GT"), tbil_facts("171", "17.1")).projection
    assert (projection.hours, projection.at) == (D(0), TAKEN)


def test_the_threshold_comes_from_the_condition_not_from_the_protocol():
    projection = one(tbil_spec(threshold=200), tbil_facts("161", "24")).projection
    assert projection.threshold == D(200)
    assert projection.hours == D(39)
    assert projection.at == TAKEN + timedelta(hours=39)


def test_the_projection_counts_from_now_and_from_the_screening_without_a_time():
    later = TAKEN + timedelta(hours=20)
    projection = one(tbil_spec(), tbil_facts("161", "17.1"), now=later).projection
    assert projection.at == datetime(2026, 6, 1, 22, 3, tzinfo=SITE)
    assert projection.hours_from_now < 0
    untimed = one(tbil_spec(), tbil_facts("161", "17.1", time=None), now=later)
    assert untimed.projection.at == later + timedelta(hours=14, minutes=3)


def test_a_rise_too_slow_to_matter_gives_no_projection_rather_than_an_error():
    found = one(tbil_spec(), tbil_facts("1", "0.000000001"))
    assert found.projection is None


def test_the_projection_is_in_the_unit_tbil_was_entered_in():
    data = candidate(
        tbil={"value": "9.4", "unit": "mg/dL", "time": "2026-06-01T08:00+08:00"},
        tbil_series=[
            {"time": "2026-05-31T08:00+08:00", "value": "8.4", "unit": "mg/dL"}
        ],
    )
    parsed = parse_candidate(data, today=TODAY, tz=SITE)
    derived = derive(parsed, tz=SITE)
    found = [
        m
        for m in margins_of(
            PROTOCOL, derived.facts, shown_units=entered_units(parsed), now=TAKEN
        )
        if m.variable == "tbil_umol_l"
    ]
    (tbil,) = found
    assert (tbil.value, tbil.threshold, tbil.unit) == (D("9.4"), D(10), "mg/dL")
    assert tbil.distance == D("-0.6")
    assert tbil.projection.threshold == D(10)
    assert tbil.projection.rise_per_day == D(1)  # 17.1 umol/L a day
    assert tbil.projection.hours == D("14.4")
    assert tbil.projection.at == datetime(2026, 6, 1, 22, 24, tzinfo=SITE)


# --- It never changes an outcome ---------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"tbil": {"value": "161", "unit": "umol/L", "time": "2026-06-01T08:00+08:00"}},
        {"crp": {"value": "9.2", "unit": "mg/L"}, "il6": None, "tnf_alpha": None},
        {"pta_percent": "41", "inr": "2.7"},
        {"he_grade": None},
        {"date_of_birth": "1960-06-02"},
    ],
)
@pytest.mark.parametrize("margin", [0, 10, 100])
def test_the_outcome_of_every_criterion_is_the_same_with_and_without_margins(
    overrides, margin
):
    data = {k: v for k, v in candidate(**overrides).items() if v is not None}
    derived = derive(parse_candidate(data, today=TODAY, tz=SITE), tz=SITE)
    at = derived.screening_time
    before = evaluate(PROTOCOL, derived.facts, screening_time=at)
    outcomes = [(r.code, r.outcome, r.reason) for r in before.criteria]
    summary = (before.decision, before.blocking, before.unknown, before.to_collect)
    margins(before, derived.facts, margin_percent=D(margin), now=NOW)
    after = evaluate(PROTOCOL, derived.facts, screening_time=at)
    assert [(r.code, r.outcome, r.reason) for r in before.criteria] == outcomes
    assert [(r.code, r.outcome, r.reason) for r in after.criteria] == outcomes
    assert (after.decision, after.blocking, after.unknown, after.to_collect) == summary
