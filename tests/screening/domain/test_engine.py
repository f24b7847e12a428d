"""The eligibility engine: operators, outcome combination, decisions, reasons.

No database and no Django models: the specs are built here from the protocol's
own criteria tuples (trials/trial_data.py) or written by hand.
"""

import itertools
import re
from decimal import Decimal

import pytest

from screening.domain.engine import (
    ConditionSpec,
    CriterionKind,
    CriterionSpec,
    Decision,
    Fact,
    Operator,
    Outcome,
    SpecError,
    evaluate,
    evaluate_criterion,
    format_number,
)
from screening.domain.variables import CHECKLIST_ITEMS, VARIABLES
from tests.screening.domain.protocol import PROTOCOL

D = Decimal
MET, NOT_MET, UNKNOWN = Outcome.MET, Outcome.NOT_MET, Outcome.UNKNOWN


BY_CODE = {spec.code: spec for spec in PROTOCOL}
CODES = tuple(BY_CODE)
INCLUSIONS = tuple(s.code for s in PROTOCOL if s.kind is CriterionKind.INCLUSION)
EXCLUSIONS = tuple(s.code for s in PROTOCOL if s.kind is CriterionKind.EXCLUSION)
EXCLUDING_ITEMS = CHECKLIST_ITEMS[2:]
BY_CODE_INDEX = {code: index for index, code in enumerate(CODES)}


def eligible_facts(**overrides: Fact | None) -> dict[str, Fact]:
    """Facts that meet every criterion of the protocol; None removes a fact."""
    facts = {
        "age_years": Fact(D(45)),
        "liver_failure_stage": Fact("early"),
        "tbil_umol_l": Fact(D(180)),
        "tbil_rise_per_day": Fact(D("21.4")),
        "pta_percent": Fact(D(35)),
        "inr": Fact(D("1.8")),
        "he_grade": Fact(D(1)),
        "il6_pg_ml": Fact(D(25)),
        "tnf_alpha_pg_ml": Fact(D(12)),
        "crp_mg_l": Fact(D(18)),
        "pct_ng_ml": Fact(D("0.3")),
        "meld": Fact(D(22)),
        "able_to_communicate_and_complete": Fact(True),
        "written_informed_consent": Fact(True),
        **{item: Fact(False) for item in EXCLUDING_ITEMS},
    }
    for name, fact in overrides.items():
        if fact is None:
            facts.pop(name)
        else:
            facts[name] = fact
    return facts


def criterion(code: str, facts: dict[str, Fact]):
    return evaluate_criterion(BY_CODE[code], facts)


def single(variable: str, op: Operator, low=None, high=None, values=()):
    return CriterionSpec(
        "X1",
        CriterionKind.INCLUSION,
        (ConditionSpec(variable, op, low, high, values),),
    )


def numbers_in(text: str) -> list[Decimal]:
    return [D(n) for n in re.findall(r"\d+(?:\.\d+)?", text)]


@pytest.mark.criterion(
    "I1", "I2", "I3", "I4", "I5", "I6", "I7", "I8", "E1", "E2", "E3", "E4", "E5", "E6"
)
def test_the_protocol_specs_cover_all_fourteen_criteria():
    assert CODES == (
        *("I1", "I2", "I3", "I4", "I5", "I6", "I7", "I8"),
        *("E1", "E2", "E3", "E4", "E5", "E6"),
    )
    result = evaluate(PROTOCOL, eligible_facts())
    assert result.decision is Decision.ELIGIBLE
    assert [r.outcome for r in result.criteria] == [
        *(MET,) * len(INCLUSIONS),
        *(NOT_MET,) * len(EXCLUSIONS),
    ]
    assert result.blocking == result.unknown == result.to_collect == ()


# --- Operators at, below and above the boundary ------------------------------


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        (Operator.GT, "29.9", NOT_MET),
        (Operator.GT, "30", NOT_MET),
        (Operator.GT, "30.1", MET),
        (Operator.GTE, "29.9", NOT_MET),
        (Operator.GTE, "30", MET),
        (Operator.GTE, "30.1", MET),
        (Operator.LT, "29.9", MET),
        (Operator.LT, "30", NOT_MET),
        (Operator.LT, "30.1", NOT_MET),
        (Operator.LTE, "29.9", MET),
        (Operator.LTE, "30", MET),
        (Operator.LTE, "30.1", NOT_MET),
        (Operator.EQ, "29.9", NOT_MET),
        (Operator.EQ, "30", MET),
        (Operator.EQ, "30.00", MET),
        (Operator.EQ, "30.1", NOT_MET),
    ],
)
def test_comparison_operators_at_the_boundary(op, value, expected):
    result = evaluate_criterion(
        single("pta_percent", op, D(30)), {"pta_percent": Fact(D(value))}
    )
    assert result.outcome is expected
    assert result.conditions[0].outcome is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("19.9", NOT_MET),
        ("20", MET),
        ("20.0", MET),
        ("30", MET),
        ("40", MET),
        ("40.0", MET),
        ("40.1", NOT_MET),
        ("0", NOT_MET),
    ],
)
def test_between_is_inclusive_at_both_ends(value, expected):
    result = evaluate_criterion(
        single("pta_percent", Operator.BETWEEN, D(20), D(40)),
        {"pta_percent": Fact(D(value))},
    )
    assert result.outcome is expected


def test_between_with_equal_bounds_is_a_single_value():
    spec = single("he_grade", Operator.BETWEEN, D(2), D(2))
    assert evaluate_criterion(spec, {"he_grade": Fact(D(2))}).outcome is MET
    assert evaluate_criterion(spec, {"he_grade": Fact(D(1))}).outcome is NOT_MET


@pytest.mark.parametrize(
    ("op", "values", "stage", "expected"),
    [
        (Operator.IN, ("early", "intermediate"), "early", MET),
        (Operator.IN, ("early", "intermediate"), "intermediate", MET),
        (Operator.IN, ("early", "intermediate"), "late", NOT_MET),
        (Operator.IN, ("early", "intermediate"), "none", NOT_MET),
        (Operator.EQ, ("late",), "late", MET),
        (Operator.EQ, ("late",), "early", NOT_MET),
    ],
)
def test_category_operators(op, values, stage, expected):
    spec = single("liver_failure_stage", op, values=values)
    result = evaluate_criterion(spec, {"liver_failure_stage": Fact(stage)})
    assert result.outcome is expected


@pytest.mark.parametrize(
    ("op", "answer", "expected"),
    [
        (Operator.IS_TRUE, True, MET),
        (Operator.IS_TRUE, False, NOT_MET),
        (Operator.IS_TRUE, None, UNKNOWN),
        (Operator.IS_FALSE, True, NOT_MET),
        (Operator.IS_FALSE, False, MET),
        (Operator.IS_FALSE, None, UNKNOWN),
    ],
)
def test_checklist_answers_are_true_false_or_not_answered(op, answer, expected):
    result = evaluate_criterion(single("dic", op), {"dic": Fact(answer)})
    assert result.outcome is expected
    assert result.missing == (("dic",) if expected is UNKNOWN else ())


@pytest.mark.parametrize("variable", ["pta_percent", "liver_failure_stage", "dic"])
def test_an_absent_fact_is_unknown_never_a_pass_or_fail(variable):
    kind = VARIABLES[variable].kind.value
    op = {"NUMBER": Operator.GTE, "CATEGORY": Operator.IN, "BOOLEAN": Operator.IS_TRUE}
    spec = single(
        variable,
        op[kind],
        low=D(1) if kind == "NUMBER" else None,
        values=("early",) if kind == "CATEGORY" else (),
    )
    for facts in ({}, {variable: Fact(None)}):
        result = evaluate_criterion(spec, facts)
        assert result.outcome is UNKNOWN
        assert result.missing == VARIABLES[variable].inputs


# --- Combining the conditions of one criterion --------------------------------

# I4: PTA 20-40 % or INR 1.5-2.6. A fact per wanted outcome of each condition.
PTA = {MET: Fact(D(30)), NOT_MET: Fact(D(50)), UNKNOWN: None}
INR = {MET: Fact(D(2)), NOT_MET: Fact(D(3)), UNKNOWN: None}


@pytest.mark.criterion("I4")
@pytest.mark.parametrize(
    ("pta", "inr", "expected"),
    [
        (MET, MET, MET),
        (MET, NOT_MET, MET),
        (MET, UNKNOWN, MET),
        (NOT_MET, MET, MET),
        (UNKNOWN, MET, MET),
        (NOT_MET, UNKNOWN, UNKNOWN),
        (UNKNOWN, NOT_MET, UNKNOWN),
        (UNKNOWN, UNKNOWN, UNKNOWN),
        (NOT_MET, NOT_MET, NOT_MET),
    ],
)
def test_two_conditions_any_holds_met_else_unknown_else_not_met(pta, inr, expected):
    facts = {
        name: fact
        for name, fact in (("pta_percent", PTA[pta]), ("inr", INR[inr]))
        if fact is not None
    }
    result = criterion("I4", facts)
    assert [c.outcome for c in result.conditions] == [pta, inr]
    assert result.outcome is expected
    wanted = tuple(
        name
        for name, outcome in (("pta_percent", pta), ("inr", inr))
        if outcome is UNKNOWN
    )
    assert result.missing == (wanted if expected is UNKNOWN else ())


MARKERS = ("il6_pg_ml", "tnf_alpha_pg_ml", "crp_mg_l", "pct_ng_ml")
MARKER_FACT = {
    "il6_pg_ml": {MET: Fact(D(8)), NOT_MET: Fact(D(7))},
    "tnf_alpha_pg_ml": {MET: Fact(D("8.2")), NOT_MET: Fact(D("8.1"))},
    "crp_mg_l": {MET: Fact(D("10.1")), NOT_MET: Fact(D(10))},
    "pct_ng_ml": {MET: Fact(D("0.06")), NOT_MET: Fact(D("0.05"))},
}


@pytest.mark.criterion("I6")
@pytest.mark.parametrize(
    "outcomes", list(itertools.product((MET, NOT_MET, UNKNOWN), repeat=4))
)
def test_four_marker_conditions_every_combination(outcomes):
    facts = {
        name: MARKER_FACT[name][outcome]
        for name, outcome in zip(MARKERS, outcomes, strict=True)
        if outcome is not UNKNOWN
    }
    result = criterion("I6", facts)
    assert tuple(c.outcome for c in result.conditions) == outcomes
    if MET in outcomes:
        expected = MET
    elif UNKNOWN in outcomes:
        expected = UNKNOWN
    else:
        expected = NOT_MET
    assert result.outcome is expected
    inputs = {"il6_pg_ml": "il6", "tnf_alpha_pg_ml": "tnf_alpha"}
    inputs |= {"crp_mg_l": "crp", "pct_ng_ml": "pct"}
    unknown_inputs = tuple(
        inputs[name]
        for name, outcome in zip(MARKERS, outcomes, strict=True)
        if outcome is UNKNOWN
    )
    assert result.missing == (unknown_inputs if expected is UNKNOWN else ())


def test_a_criterion_without_conditions_is_unknown():
    spec = CriterionSpec("I9", CriterionKind.INCLUSION, ())
    result = evaluate([spec], {})
    assert result.criteria[0].outcome is UNKNOWN
    assert result.decision is Decision.INCOMPLETE


# --- The candidate's decision --------------------------------------------------


@pytest.mark.criterion(from_param=("blocking", "unknown"))
@pytest.mark.parametrize(
    ("overrides", "decision", "blocking", "unknown"),
    [
        ({}, Decision.ELIGIBLE, (), ()),
        # An inclusion not met decides even when everything else is missing.
        (
            {
                **dict.fromkeys(eligible_facts(), None),
                "age_years": Fact(D(66)),
            },
            Decision.INELIGIBLE,
            ("I1",),
            tuple(c for c in CODES if c != "I1"),
        ),
        # An exclusion met decides even when everything else is missing.
        (
            {**dict.fromkeys(eligible_facts(), None), "meld": Fact(D(31))},
            Decision.INELIGIBLE,
            ("E4",),
            tuple(c for c in CODES if c != "E4"),
        ),
        ({"he_grade": Fact(D(3))}, Decision.INELIGIBLE, ("I5",), ()),
        ({"diabetes": Fact(True)}, Decision.INELIGIBLE, ("E5",), ()),
        ({"meld": Fact(D(30))}, Decision.ELIGIBLE, (), ()),
        ({"meld": Fact(D(31))}, Decision.INELIGIBLE, ("E4",), ()),
        ({"age_years": None}, Decision.INCOMPLETE, (), ("I1",)),
        ({"meld": None}, Decision.INCOMPLETE, (), ("E4",)),
        ({"dic": Fact(None)}, Decision.INCOMPLETE, (), ("E1",)),
        (
            {"written_informed_consent": None, "circulatory_failure": None},
            Decision.INCOMPLETE,
            (),
            ("I8", "E3"),
        ),
        (
            {
                "age_years": Fact(D(17)),
                "written_informed_consent": Fact(False),
                "investigator_excludes": Fact(True),
                "meld": None,
            },
            Decision.INELIGIBLE,
            ("I1", "I8", "E6"),
            ("E4",),
        ),
        # An exclusion not met never blocks; an inclusion met never blocks.
        ({"severe_active_bleeding": Fact(False)}, Decision.ELIGIBLE, (), ()),
    ],
)
def test_decision_rules(overrides, decision, blocking, unknown):
    result = evaluate(PROTOCOL, eligible_facts(**overrides))
    assert result.decision is decision
    assert result.blocking == blocking
    assert result.unknown == unknown
    assert len(result.criteria) == len(PROTOCOL)


@pytest.mark.criterion("I1", "I2", "I3", "I4", "I6", "E1", "E4", "E5")
@pytest.mark.parametrize(
    ("overrides", "to_collect"),
    [
        ({"age_years": None}, ("date_of_birth", "screening_date")),
        (
            {"age_years": Fact(None, missing=("date_of_birth",))},
            ("date_of_birth",),
        ),
        ({"liver_failure_stage": None}, ("liver_failure_stage",)),
        # I3 is met by the current TBil: an unknown rise needs nothing.
        ({"tbil_rise_per_day": None}, ()),
        (
            {"tbil_umol_l": Fact(D(150)), "tbil_rise_per_day": None},
            ("tbil_series",),
        ),
        # Both unknown: I3 needs both inputs, E4 needs the ones its fact names.
        (
            {
                "tbil_umol_l": None,
                "tbil_rise_per_day": None,
                "meld": Fact(None, missing=("tbil",)),
            },
            ("tbil", "tbil_series"),
        ),
        # PTA in range decides I4 alone: the INR is not asked for.
        ({"inr": None}, ()),
        ({"pta_percent": None}, ()),
        ({"pta_percent": None, "inr": Fact(D(3))}, ("pta_percent",)),
        ({"pta_percent": None, "inr": None}, ("pta_percent", "inr")),
        # One elevated marker decides I6: missing ones are not asked for.
        ({"il6_pg_ml": None, "tnf_alpha_pg_ml": None, "pct_ng_ml": None}, ()),
        (
            {
                "il6_pg_ml": None,
                "tnf_alpha_pg_ml": Fact(D(8)),
                "crp_mg_l": Fact(D(9)),
                "pct_ng_ml": None,
            },
            ("il6", "pct"),
        ),
        ({"meld": None}, ("tbil", "inr", "creatinine", "dialysis_twice_past_week")),
        ({"meld": Fact(None, missing=("creatinine",))}, ("creatinine",)),
        (
            {"meld": Fact(None, missing=("dialysis_twice_past_week",))},
            ("dialysis_twice_past_week",),
        ),
        # An input two criteria need is listed once, in criterion order.
        (
            {"pta_percent": None, "inr": None, "meld": Fact(None, missing=("inr",))},
            ("pta_percent", "inr"),
        ),
        ({"dic": None, "diabetes": None}, ("dic", "diabetes")),
    ],
)
def test_incomplete_lists_exactly_the_inputs_to_collect(overrides, to_collect):
    result = evaluate(PROTOCOL, eligible_facts(**overrides))
    assert result.to_collect == to_collect
    assert result.decision is (Decision.INCOMPLETE if to_collect else Decision.ELIGIBLE)


@pytest.mark.criterion("I5", "E4")
def test_an_ineligible_candidate_still_lists_what_is_unknown():
    result = evaluate(
        PROTOCOL, eligible_facts(he_grade=Fact(D(4)), meld=Fact(None, missing=("inr",)))
    )
    assert result.decision is Decision.INELIGIBLE
    assert result.blocking == ("I5",)
    assert result.unknown == ("E4",)
    assert result.to_collect == ("inr",)


@pytest.mark.criterion(
    "I1", "I2", "I3", "I4", "I5", "I6", "I7", "I8", "E1", "E2", "E3", "E4", "E5", "E6"
)
def test_every_criterion_is_evaluated_no_short_circuit():
    facts = eligible_facts(
        age_years=Fact(D(70)),
        liver_failure_stage=Fact("late"),
        tbil_umol_l=Fact(D(100)),
        tbil_rise_per_day=Fact(D(2)),
        pta_percent=Fact(D(10)),
        inr=Fact(D(4)),
        he_grade=Fact(D(4)),
        il6_pg_ml=Fact(D(1)),
        tnf_alpha_pg_ml=Fact(D(1)),
        crp_mg_l=Fact(D(1)),
        pct_ng_ml=Fact(D("0.01")),
        meld=Fact(D(40)),
        able_to_communicate_and_complete=Fact(False),
        written_informed_consent=Fact(False),
        **{item: Fact(True) for item in EXCLUDING_ITEMS},
    )
    result = evaluate(PROTOCOL, facts)
    assert result.decision is Decision.INELIGIBLE
    assert result.blocking == CODES
    # Within a criterion too: every condition has its own result.
    for spec, outcome in zip(PROTOCOL, result.criteria, strict=True):
        assert outcome.code == spec.code
        assert len(outcome.conditions) == len(spec.conditions)
    assert [c.outcome for c in result.criteria[BY_CODE_INDEX["E1"]].conditions] == [
        MET,
        MET,
    ]


@pytest.mark.criterion("I3")
def test_conditions_after_a_met_one_are_still_evaluated():
    result = criterion(
        "I3", {"tbil_umol_l": Fact(D(200)), "tbil_rise_per_day": Fact(D(3))}
    )
    assert [c.outcome for c in result.conditions] == [MET, NOT_MET]
    assert D(3) in numbers_in(result.reason)


def test_results_come_in_spec_order_with_their_kind():
    reordered = tuple(reversed(PROTOCOL))
    result = evaluate(reordered, eligible_facts())
    assert [r.code for r in result.criteria] == [s.code for s in reordered]
    assert all(
        r.kind is s.kind for r, s in zip(result.criteria, reordered, strict=True)
    )


# --- Markers: the lab's own upper limit of normal ------------------------------


@pytest.mark.criterion("I6")
@pytest.mark.parametrize(
    ("variable", "value", "uln", "expected", "threshold_shown"),
    [
        # The row's threshold (default ULN), strictly above.
        ("crp_mg_l", "10", None, NOT_MET, "10"),
        ("crp_mg_l", "10.01", None, MET, "10"),
        # The lab's limit takes precedence, both ways.
        ("crp_mg_l", "7.25", "6.5", MET, "6.5"),
        ("crp_mg_l", "6.5", "6.5", NOT_MET, "6.5"),
        ("crp_mg_l", "12.75", "15.5", NOT_MET, "15.5"),
        ("crp_mg_l", "15.51", "15.5", MET, "15.5"),
        ("il6_pg_ml", "6.4", "5.9", MET, "5.9"),
        ("il6_pg_ml", "7.5", "7.5", NOT_MET, "7.5"),
        ("tnf_alpha_pg_ml", "8.15", None, MET, "8.1"),
        ("tnf_alpha_pg_ml", "8.15", "8.15", NOT_MET, "8.15"),
        ("pct_ng_ml", "0.05", None, NOT_MET, "0.05"),
        ("pct_ng_ml", "0.045", "0.04", MET, "0.04"),
    ],
)
def test_marker_elevated_strictly_above_lab_uln_else_row_threshold(
    variable, value, uln, expected, threshold_shown
):
    fact = Fact(D(value), uln=D(uln) if uln else None)
    result = criterion("I6", {variable: fact})
    (condition,) = [c for c in result.conditions if c.variable == variable]
    assert condition.outcome is expected
    shown = numbers_in(condition.reason)
    assert D(value) in shown
    assert D(threshold_shown) in shown
    if uln is not None:
        (row,) = [c for c in BY_CODE["I6"].conditions if c.variable == variable]
        assert row.low not in shown


def test_a_lab_uln_on_a_variable_without_lab_limits_is_ignored():
    spec = single("pta_percent", Operator.GT, D(35))
    result = evaluate_criterion(spec, {"pta_percent": Fact(D(30), uln=D(25))})
    assert result.outcome is NOT_MET
    assert D(25) not in numbers_in(result.reason)


def test_a_lab_uln_does_not_replace_the_threshold_of_other_operators():
    spec = single("crp_mg_l", Operator.LTE, D(10))
    result = evaluate_criterion(spec, {"crp_mg_l": Fact(D(8), uln=D(5))})
    assert result.outcome is MET


# --- Reasons name the values and thresholds -------------------------------------


@pytest.mark.criterion(from_param="code")
@pytest.mark.parametrize(
    ("code", "facts", "numbers"),
    [
        ("I1", {"age_years": Fact(D(66))}, [D(66), D(65)]),
        ("I1", {"age_years": Fact(D(17))}, [D(17), D(18)]),
        ("I5", {"he_grade": Fact(D(3))}, [D(3), D(2)]),
        ("E4", {"meld": Fact(D(31))}, [D(31), D(30)]),
        (
            "I3",
            {"tbil_umol_l": Fact(D("158.6")), "tbil_rise_per_day": Fact(D("17.1"))},
            [D("158.6"), D(171), D("17.1")],
        ),
        (
            "I4",
            {"pta_percent": Fact(D("19.9")), "inr": Fact(D("2.61"))},
            [D("19.9"), D(20), D(40), D("2.61"), D("1.5"), D("2.6")],
        ),
    ],
)
def test_reason_names_values_and_thresholds(code, facts, numbers):
    result = criterion(code, facts)
    assert set(numbers) <= set(numbers_in(result.reason))


@pytest.mark.criterion("I3")
def test_reason_carries_the_fact_note():
    facts = {
        "tbil_umol_l": Fact(D("158.6")),
        "tbil_rise_per_day": Fact(D("17.1"), note="05-31 08:00 to 06-01 08:00"),
    }
    result = criterion("I3", facts)
    assert result.outcome is MET
    assert "05-31 08:00" in result.reason
    assert "06-01 08:00" in result.reason


@pytest.mark.criterion("I2")
def test_reason_of_a_category_names_the_value_and_the_wanted_values():
    result = criterion("I2", {"liver_failure_stage": Fact("late")})
    assert "late" in result.reason
    assert "early" in result.reason and "intermediate" in result.reason


@pytest.mark.criterion("I1", "E4")
def test_each_criterion_has_its_own_reason():
    result = evaluate(PROTOCOL, eligible_facts(age_years=Fact(D(66)), meld=Fact(D(33))))
    reasons = {r.code: r.reason for r in result.criteria}
    assert D(66) in numbers_in(reasons["I1"])
    assert D(33) not in numbers_in(reasons["I1"])
    assert D(33) in numbers_in(reasons["E4"])
    assert D(66) not in numbers_in(reasons["E4"])


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("171.00", "171"),
        ("17.10", "17.1"),
        ("1E+1", "10"),
        ("0.05", "0.05"),
        ("17.0666666", "17.067"),
        ("158.6", "158.6"),
        ("1234567", "1234567"),
    ],
)
def test_format_number(value, shown):
    assert format_number(D(value)) == shown


@pytest.mark.parametrize(
    ("variable", "op", "threshold", "value"),
    [
        ("tbil_umol_l", Operator.GTE, D(171), "170.9999"),
        ("tbil_rise_per_day", Operator.GTE, D("17.1"), "17.09999"),
        ("pta_percent", Operator.GT, D(20), "20.0001"),
        ("meld", Operator.GT, D(30), "30.0004"),
    ],
)
def test_reason_never_shows_a_value_equal_to_a_threshold_it_differs_from(
    variable, op, threshold, value
):
    # Rounding the value for display must not produce "171 < 171".
    result = evaluate_criterion(
        single(variable, op, threshold), {variable: Fact(D(value))}
    )
    shown, *_rest, limit = numbers_in(result.reason)
    assert limit == threshold
    assert shown != limit


# --- Malformed specs ------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"variable": "bilirubin", "operator": Operator.GT, "low": D(1)},
        {"variable": "", "operator": Operator.IS_TRUE},
        {"variable": "pta_percent", "operator": Operator.BETWEEN, "low": D(20)},
        {"variable": "pta_percent", "operator": Operator.BETWEEN, "high": D(40)},
        {
            "variable": "pta_percent",
            "operator": Operator.BETWEEN,
            "low": D(40),
            "high": D(20),
        },
        {"variable": "pta_percent", "operator": Operator.GT},
        {"variable": "pta_percent", "operator": Operator.EQ},
        {"variable": "pta_percent", "operator": Operator.IS_TRUE},
        {"variable": "pta_percent", "operator": Operator.IN, "values": ("1",)},
        {"variable": "dic", "operator": Operator.GT, "low": D(1)},
        {"variable": "dic", "operator": Operator.EQ, "values": ("yes",)},
        {"variable": "dic", "operator": Operator.IN, "values": ("yes",)},
        {"variable": "liver_failure_stage", "operator": Operator.IN},
        {"variable": "liver_failure_stage", "operator": Operator.GT, "low": D(1)},
        {"variable": "liver_failure_stage", "operator": Operator.IS_FALSE},
        {
            "variable": "liver_failure_stage",
            "operator": Operator.EQ,
            "values": ("early", "late"),
        },
        {
            "variable": "liver_failure_stage",
            "operator": Operator.BETWEEN,
            "low": D(1),
            "high": D(2),
        },
        # Not an operator at all.
        pytest.param(
            {
                "variable": "liver_failure_stage",
                "operator": "FOO",
                "values": ("early",),
            },
            id="unknown-operator",
        ),
        pytest.param(
            {"variable": "pta_percent", "operator": "BETWEEN", "low": D(20)},
            id="operator-as-text-between-without-high",
        ),
    ],
)
def test_malformed_condition_specs_raise_spec_error(kwargs):
    with pytest.raises(SpecError):
        ConditionSpec(**kwargs)


@pytest.mark.parametrize("kind", ["FOO", "inclusion", None])
def test_a_criterion_spec_of_unknown_kind_raises_spec_error(kind):
    # An unchecked kind would turn an inclusion into an exclusion silently.
    condition = ConditionSpec("pta_percent", Operator.GT, D(20))
    with pytest.raises(SpecError):
        CriterionSpec("X1", kind, (condition,))


def test_a_kind_given_as_its_text_value_is_an_inclusion():
    condition = ConditionSpec("pta_percent", Operator.GT, D(20))
    spec = CriterionSpec("X1", "INCLUSION", (condition,))
    result = evaluate([spec], {"pta_percent": Fact(D(10))})
    assert result.decision is Decision.INELIGIBLE
    assert result.blocking == ("X1",)


def test_spec_error_is_a_value_error():
    assert issubclass(SpecError, ValueError)
