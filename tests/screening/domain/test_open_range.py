"""The open range (GT_LT: above ``low`` and below ``high``, both bounds excluded).

The second trial's I5 takes a prothrombin time "more than 5 s and less than
20 s" longer than the control; BETWEEN includes its bounds, GT_LT does not.
Each bound is tested at, just inside and just outside it, for plain values,
censored ones, a multiple of a laboratory's ULN, the reason in both
languages, the near-miss margin and the derived prolongation.
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from screening.common.words import condition_text
from screening.domain.contract import parse_candidate
from screening.domain.engine import (
    ConditionSpec,
    CriterionKind,
    CriterionSpec,
    Fact,
    Operator,
    Outcome,
    SpecError,
    censored_holds,
    evaluate,
    evaluate_criterion,
)
from screening.domain.facts import derive
from screening.domain.margins import margins

D = Decimal
MET, NOT_MET, UNKNOWN = Outcome.MET, Outcome.NOT_MET, Outcome.UNKNOWN
GT_LT, BETWEEN = Operator.GT_LT, Operator.BETWEEN
SITE = ZoneInfo("Asia/Shanghai")


def open_range(low="5", high="20", variable="pt_prolongation_s", **kwargs):
    return ConditionSpec(variable, GT_LT, D(low), D(high), **kwargs)


def decide(condition: ConditionSpec, fact: Fact):
    criterion = CriterionSpec("X1", CriterionKind.INCLUSION, (condition,))
    result = evaluate_criterion(criterion, {condition.variable: fact})
    (detail,) = result.conditions
    assert detail.outcome is result.outcome  # decided and explained alike
    return result.outcome, detail


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("4.9", NOT_MET),
        ("5", NOT_MET),
        ("5.0", NOT_MET),
        ("5.0001", MET),
        ("12", MET),
        ("19.9999", MET),
        ("20", NOT_MET),
        ("20.00", NOT_MET),
        ("20.1", NOT_MET),
        ("-3", NOT_MET),
    ],
)
def test_both_bounds_are_excluded(value, expected):
    outcome, _detail = decide(open_range(), Fact(D(value)))
    assert outcome is expected


@pytest.mark.parametrize(("value", "expected"), [("5", MET), ("20", MET)])
def test_between_still_includes_its_bounds(value, expected):
    spec = ConditionSpec("pt_prolongation_s", BETWEEN, D(5), D(20))
    assert decide(spec, Fact(D(value)))[0] is expected


def test_equal_bounds_are_refused_since_no_value_lies_between():
    with pytest.raises(SpecError):
        open_range("5", "5")
    with pytest.raises(SpecError):
        open_range("20", "5")
    with pytest.raises(SpecError):
        ConditionSpec("pt_prolongation_s", GT_LT, D(5), None)


@pytest.mark.parametrize(
    ("value", "relation", "threshold", "reason"),
    [
        ("5", "<=", "5", "PT prolongation 5 s <= 5 (outside (5, 20))"),
        ("3", "<=", "5", "PT prolongation 3 s <= 5 (outside (5, 20))"),
        ("20", ">=", "20", "PT prolongation 20 s >= 20 (outside (5, 20))"),
        ("8.5", "within", "", "PT prolongation 8.5 s within (5, 20)"),
    ],
)
def test_the_reason_shows_the_open_bounds(value, relation, threshold, reason):
    _outcome, detail = decide(open_range(), Fact(D(value)))
    assert (detail.relation, detail.threshold, detail.bounds) == (
        relation,
        threshold,
        "(5, 20)",
    )
    assert detail.reason == reason
    assert condition_text(detail.as_dict()) == reason


def test_the_reason_in_chinese_keeps_the_open_bounds():
    _outcome, detail = decide(open_range(), Fact(D(5)))
    with translation.override("zh-hans"):
        text = condition_text(detail.as_dict())
    assert "(5, 20)" in text
    assert "PT prolongation" not in text  # the label is translated


@pytest.mark.parametrize(
    ("comparator", "limit", "expected"),
    [
        # Below the lower bound, or at it: no admitted value lies inside.
        ("<", "5", False),
        ("<=", "5", False),
        ("<", "4", False),
        # Reaching into the range: some admitted values lie inside, some not.
        ("<", "5.1", None),
        ("<=", "12", None),
        (">", "12", None),
        (">=", "19.9", None),
        # At the upper bound or above: none lies inside.
        (">=", "20", False),
        (">", "20", False),
        (">", "25", False),
    ],
)
def test_a_censored_value_is_never_wholly_inside(comparator, limit, expected):
    fact = Fact(D(limit), comparator=comparator)
    assert censored_holds(open_range(), fact) is expected


def test_a_censored_value_at_an_included_bound_may_still_be_inside_between():
    between = ConditionSpec("pt_prolongation_s", BETWEEN, D(5), D(20))
    assert censored_holds(between, Fact(D(5), comparator="<=")) is None
    assert censored_holds(open_range(), Fact(D(5), comparator="<=")) is False


@pytest.mark.parametrize(
    ("value", "expected"),
    # 1 x to 3 x the lab's ULN of 5: 5 and 15 themselves are outside.
    [("5", NOT_MET), ("5.01", MET), ("14.99", MET), ("15", NOT_MET)],
)
def test_a_multiple_of_the_lab_uln_excludes_its_bounds_too(value, expected):
    spec = ConditionSpec("crp_mg_l", GT_LT, D(1), D(3), relative_to_uln=True)
    outcome, detail = decide(spec, Fact(D(value), uln=D(5)))
    assert outcome is expected
    assert detail.factor == "(1, 3)"


def test_the_near_miss_margin_measures_from_the_nearer_bound():
    criterion = CriterionSpec("X1", CriterionKind.INCLUSION, (open_range(),))
    facts = {"pt_prolongation_s": Fact(D(5))}
    evaluation = evaluate((criterion,), facts)
    (margin,) = margins(
        evaluation, facts, margin_percent=10, now=datetime(2026, 6, 1, tzinfo=UTC)
    )
    assert (margin.threshold, margin.distance, margin.near_miss) == (D(5), 0, True)
    assert margin.holds is False


def _derived(**values):
    data = {"screening_number": "01-001", **values}
    parsed = parse_candidate(data, today=date(2026, 6, 1), tz=SITE)
    return derive(parsed, tz=SITE).facts["pt_prolongation_s"]


def test_the_prolongation_is_the_pt_minus_the_control_exactly():
    assert _derived(pt_seconds="17.6", pt_control_seconds="12.5").value == D("5.1")
    assert _derived(pt_seconds="12.0", pt_control_seconds="12.5").value == D("-0.5")


def test_the_prolongation_is_collected_when_the_older_of_the_two_was():
    fact = _derived(
        pt_seconds={"value": "20", "time": "2026-06-01T08:00"},
        pt_control_seconds={"value": "12", "time": "2026-05-31T20:00"},
    )
    assert fact.time == datetime(2026, 5, 31, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("values", "missing"),
    [
        ({"pt_seconds": "20"}, ("pt_control_seconds",)),
        ({"pt_control_seconds": "12"}, ("pt_seconds",)),
        ({}, ("pt_seconds", "pt_control_seconds")),
    ],
)
def test_without_either_time_the_prolongation_asks_for_it(values, missing):
    fact = _derived(**values)
    assert fact.value is None
    assert fact.missing == missing
