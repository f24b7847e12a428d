"""The registry and the parser's reading of values as people and labs write them.

No database: each case is parsed, derived and evaluated against the protocol's
criteria built from the trial's tuples.
"""

import json
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from screening.domain.contract import (
    CandidateError,
    InexactNumber,
    Problem,
    json_float,
    normalised,
    parse_candidate,
    parse_decimal,
)
from screening.domain.engine import (
    ConditionSpec,
    Decision,
    Fact,
    Operator,
    Outcome,
    censored_holds,
    evaluate,
)
from screening.domain.facts import derive
from screening.domain.inputs import (
    CONFIRM_KEY,
    INPUTS,
    LAB_TEST_NAMES,
    InputKind,
    Part,
    column_index,
    example_candidate,
    input_for_path,
)
from screening.domain.variables import VARIABLES
from tests.factories import eligible_candidate
from tests.screening.domain.protocol import PROTOCOL

D = Decimal
SITE = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 6, 1)


def parse(data, **options):
    return parse_candidate(data, today=TODAY, tz=SITE, **options)


def assess(data):
    derived = derive(parse(data), tz=SITE)
    return derived, evaluate(PROTOCOL, derived.facts)


def problems(data, **options) -> dict[str, list[str]]:
    with pytest.raises(CandidateError) as caught:
        parse(data, **options)
    return {k: [p["code"] for p in v] for k, v in caught.value.problems.items()}


def result(evaluation, code):
    (found,) = [r for r in evaluation.criteria if r.code == code]
    return found


# --- The registry ---------------------------------------------------------------


def test_every_variable_reads_registry_inputs():
    for variable in VARIABLES.values():
        assert set(variable.inputs) <= set(INPUTS) | {"tbil_series (12 h apart)"}


def test_every_column_and_chinese_header_maps_to_one_input_part():
    index = column_index()
    for item in INPUTS.values():
        for part in item.parts:
            assert index[item.column(part)] == (item, part)
            assert index[item.zh_column(part)] == (item, part)
    assert len(index) == 2 * sum(len(i.parts) for i in INPUTS.values())


# The control's prothrombin time has no LOINC code that could be checked here:
# a laboratory's file names it (``LAB_TEST_NAMES``), never a guessed code.
WITHOUT_LOINC = {"pt_control_seconds"}


def test_lab_inputs_have_bounds_typical_ranges_and_loinc_codes():
    for item in INPUTS.values():
        if item.is_lab:
            low, high = item.bounds
            typical_low, typical_high = item.typical
            assert low <= typical_low < typical_high <= high, item.key
            assert bool(item.loinc) is (item.key not in WITHOUT_LOINC), item.key
    assert {name for name, key in LAB_TEST_NAMES.items() if key in WITHOUT_LOINC} == {
        "PT对照",
        "PT-对照",
    }


def test_molar_and_mass_units_of_an_analyte_have_different_loinc_codes():
    for key in ("tbil", "creatinine"):
        codes = INPUTS[key].loinc
        assert set(codes) == {"umol/L", "mg/dL"}
        assert not set(codes["umol/L"]) & set(codes["mg/dL"])


def test_the_example_candidate_is_valid_and_eligible():
    _derived, evaluation = assess(example_candidate())
    assert evaluation.decision is Decision.ELIGIBLE


@pytest.mark.parametrize(
    ("path", "key", "index", "part"),
    [
        ("tbil.unit", "tbil", None, Part.UNIT),
        ("tbil_series[2].time", "tbil_series", 2, Part.TIME),
        ("pta_percent", "pta_percent", None, Part.VALUE),
        ("crp.uln", "crp", None, Part.ULN),
    ],
)
def test_a_problem_path_names_its_input_and_part(path, key, index, part):
    item, found_index, found_part = input_for_path(path)
    assert (item.key, found_index, found_part) == (key, index, part)


def test_an_unknown_path_names_no_input():
    assert input_for_path("Diabetes")[0] is None
    assert input_for_path("row")[0] is None


# --- Numbers as people type them --------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("88。4", "88.4"),  # the Chinese input method's full stop
        ("88．4", "88.4"),  # the full-width dot
        ("８８．４", "88.4"),
        ("１７１。５", "171.5"),
        ("２５６", "256"),
        ("\u3000９０\u3000", "90"),  # ideographic spaces around
    ],
)
def test_full_width_digits_and_dots_are_read_as_typed(typed, read):
    parsed = parse(eligible_candidate(creatinine={"value": typed, "unit": "umol/L"}))
    assert parsed.creatinine.canonical == D(read)


@pytest.mark.parametrize("typed", ["88,4", "88，4", "1,000", "0,3"])
def test_a_comma_is_refused_never_dropped(typed):
    found = problems(eligible_candidate(creatinine={"value": typed, "unit": "umol/L"}))
    assert found == {"creatinine.value": ["number_comma"]}


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("88.4", "88.4"),
        ("88.40", "88.4"),
        ("0.00001", "0.00001"),  # the float's repr is 1e-05
        ("1E-7", "0.0000001"),
        ("1e2", "100"),
        ("88", "88"),
    ],
)
def test_a_json_number_reaches_the_parser_as_written(written, read):
    number = json.loads(written, parse_float=json_float)
    assert parse_decimal(number) == D(read)


@pytest.mark.parametrize(
    "written",
    [
        "170.99999999999999999",
        "171.00000000000000001",
        "0.1000000000000000055511",
        "1e400",
    ],
)
def test_a_json_number_a_float_would_round_is_refused_by_name(written):
    number = json.loads(written, parse_float=json_float)
    assert isinstance(number, InexactNumber)
    found = problems(eligible_candidate(tbil={"value": number, "unit": "umol/L"}))
    assert found == {"tbil.value": ["number_inexact"]}
    with pytest.raises(Problem, match="send it as text"):
        parse_decimal(number)


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("170.999999999999999999", "170.999999999999999999"),  # 21 digits
        ("0000000000000000000000171.5", "171.5"),  # leading zeros do not count
        ("１７０．９９９９９９９９９９９９９９９９９９", "170.999999999999999999"),
    ],
)
def test_a_number_of_up_to_21_significant_digits_is_kept_exactly(typed, read):
    assert parse_decimal(typed) == D(read)
    parsed = parse(eligible_candidate(tbil={"value": typed, "unit": "umol/L"}))
    assert parsed.tbil.canonical == D(read)


@pytest.mark.parametrize(
    ("key", "typed"),
    [
        ("tbil", "170.9999999999999999999"),  # 22 digits
        ("tbil", "170.9999999999999999999999999999"),  # 28-digit arithmetic: 171
        ("il6", "<24.99999999999999999999999"),  # a censored value too
    ],
)
def test_more_significant_digits_are_refused_never_rounded(key, typed):
    """Rounded to the arithmetic's 28 digits, 170.99...9 would meet TBil >= 171."""
    unit = {"tbil": "umol/L", "il6": "pg/mL"}[key]
    found = problems(eligible_candidate(**{key: {"value": typed, "unit": unit}}))
    assert found == {f"{key}.value": ["number_too_precise"]}


@pytest.mark.parametrize("unit", ["mg/dL", "umol/L"])
def test_a_value_of_21_digits_converts_exactly(unit):
    typed = "9.99999999999999999999"  # 21 digits; times 17.1 is 170.99...
    parsed = parse(eligible_candidate(tbil={"value": typed, "unit": unit}))
    factor = D("17.1") if unit == "mg/dL" else D(1)
    assert parsed.tbil.canonical == D(typed) * factor
    assert parsed.tbil.canonical < D(171)


def test_a_float_given_in_python_is_read_as_its_shortest_text():
    assert parse_decimal(1e-05) == D("0.00001")
    assert parse_decimal(0.1) == D("0.1")
    for bad in (float("nan"), float("inf"), float("-inf")):
        with pytest.raises(Problem) as raised:
            parse_decimal(bad)
        assert raised.value.code == "number_not_finite"


@pytest.mark.parametrize("typed", ["10²", "٨٨", "1e2", "88.4.1"])
def test_other_characters_are_not_numbers(typed):
    found = problems(eligible_candidate(creatinine={"value": typed, "unit": "umol/L"}))
    assert found == {"creatinine.value": ["number_invalid"]}


@pytest.mark.criterion("I3")
def test_17_full_stop_1_is_a_rise_of_17_1_not_171():
    # 17。1 would have become 171 in a number input and met I3 on its own.
    parsed = parse(eligible_candidate(tbil={"value": "17。1", "unit": "umol/L"}))
    assert parsed.tbil.canonical == D("17.1")


# --- Typical ranges: unusual values need a confirmation to be recorded -------------


@pytest.mark.parametrize(
    ("value", "unusual"),
    [("699", False), ("700", False), ("700.1", True), ("884", True), ("20", False)],
)
def test_creatinine_outside_its_typical_range_needs_confirming(value, unusual):
    data = eligible_candidate(creatinine={"value": value, "unit": "umol/L"})
    parsed = parse(data)  # pre-screening: flagged, never refused
    assert bool(parsed.unusual) is unusual
    if unusual:
        assert problems(data, require_confirmation=True) == {
            "creatinine.value": ["unusual"]
        }
        confirmed = parse(
            {**data, CONFIRM_KEY: ["creatinine"]}, require_confirmation=True
        )
        assert normalised(confirmed)[CONFIRM_KEY] == ["creatinine"]
    else:
        parse(data, require_confirmation=True)


def test_a_value_typed_in_mg_dl_is_judged_in_the_canonical_unit():
    # 10 mg/dL is 884 umol/L: unusual whatever the unit.
    data = eligible_candidate(creatinine={"value": "10", "unit": "mg/dL"})
    assert problems(data, require_confirmation=True) == {
        "creatinine.value": ["unusual"]
    }


def test_plausibility_bounds_are_given_in_the_unit_typed():
    with pytest.raises(CandidateError) as caught:
        parse(eligible_candidate(tbil={"value": "90", "unit": "mg/dL"}))
    (problem,) = caught.value.problems["tbil.value"]
    assert problem["code"] == "implausible"
    assert problem["params"]["unit"] == "mg/dL"
    assert problem["params"]["low"] == "0"
    # 1500 umol/L is 87.719... mg/dL: shown to 0.01, inwards, so that every
    # value in the range shown is accepted.
    assert problem["params"]["high"] == "87.71"
    assert "between 0 and 87.71 mg/dL" in caught.value.errors["tbil.value"][0]
    parse(eligible_candidate(tbil={"value": "87.71", "unit": "mg/dL"}))
    assert "tbil.value" in problems(
        eligible_candidate(tbil={"value": "87.72", "unit": "mg/dL"})
    )


# --- Local spellings ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "key", "value"),
    [
        ({"sex": "男"}, "sex", "M"),
        ({"sex": "女"}, "sex", "F"),
        ({"liver_failure_stage": "早期"}, "liver_failure_stage", "early"),
        ({"liver_failure_stage": "中期"}, "liver_failure_stage", "intermediate"),
        ({"liver_failure_stage": "晚期"}, "liver_failure_stage", "late"),
        ({"liver_failure_stage": "无"}, "liver_failure_stage", "none"),
        ({"he_grade": "II"}, "he_grade", 2),
        ({"he_grade": "Ⅱ级"}, "he_grade", 2),
        ({"he_grade": "II级"}, "he_grade", 2),
        ({"he_grade": "2级"}, "he_grade", 2),
        ({"he_grade": "IV"}, "he_grade", 4),
        ({"he_grade": "0"}, "he_grade", 0),
        ({"he_grade": 2.0}, "he_grade", 2),
        ({"diabetes": "否"}, "diabetes", False),
        ({"diabetes": "是"}, "diabetes", True),
        ({"screening_date": "2026/6/1"}, "screening_date", date(2026, 6, 1)),
        ({"screening_date": "2026-6-1"}, "screening_date", date(2026, 6, 1)),
        ({"screening_date": "２０２６/６/１"}, "screening_date", date(2026, 6, 1)),
    ],
)
def test_chinese_and_local_spellings_are_read(overrides, key, value):
    assert parse(eligible_candidate(**overrides)).values[key] == value


@pytest.mark.parametrize(
    "time",
    ["2026/06/01 08:30", "2026-6-1 08:30", "2026-06-01T08:30", "2026-06-01 08:30:00"],
)
def test_local_date_times_are_read_in_the_site_zone(time):
    parsed = parse(
        eligible_candidate(tbil={"value": "180", "unit": "umol/L", "time": time})
    )
    assert parsed.tbil.time == datetime(2026, 6, 1, 8, 30, tzinfo=SITE)


@pytest.mark.parametrize(
    "overrides",
    [
        {"sex": "X"},
        {"he_grade": "V"},
        {"he_grade": "5级"},
        {"screening_date": "2026/13/1"},
        {"screening_date": "1/6/2026"},
        {"liver_failure_stage": "末期"},
    ],
)
def test_other_spellings_are_refused_naming_the_field(overrides):
    (key,) = overrides
    assert key in problems(eligible_candidate(**overrides))


def test_an_unknown_field_is_refused_by_name():
    found = problems({**eligible_candidate(), "Diabetes": False})
    assert found == {"Diabetes": ["unknown_field"]}


# --- Censored lab results -----------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "comparator", "limit"),
    [
        ("<0.05", "<", "0.05"),
        ("< 0.05", "<", "0.05"),
        ("≤0.05", "<=", "0.05"),
        ("<=0.05", "<=", "0.05"),
        ("＜0.05", "<", "0.05"),
        (">1000", ">", "1000"),
        ("≥1000", ">=", "1000"),
        (">=1000", ">=", "1000"),
    ],
)
def test_censored_results_are_stored_as_comparator_and_limit(typed, comparator, limit):
    parsed = parse(eligible_candidate(il6={"value": typed}))
    assert (parsed.il6.comparator, parsed.il6.canonical) == (comparator, D(limit))
    shown = normalised(parsed)["il6"]
    assert (shown["comparator"], shown["value"]) == (comparator, limit)


def test_a_censored_value_is_refused_where_labs_give_none():
    assert problems(eligible_candidate(creatinine={"value": "<40", "unit": "umol/L"}))


GT_10 = ConditionSpec("crp_mg_l", Operator.GT, low=D(10))
GTE_10 = ConditionSpec("meld", Operator.GTE, low=D(10))
LT_10 = ConditionSpec("meld", Operator.LT, low=D(10))
LTE_10 = ConditionSpec("meld", Operator.LTE, low=D(10))
BETWEEN = ConditionSpec("meld", Operator.BETWEEN, low=D(10), high=D(20))


@pytest.mark.parametrize(
    ("spec", "comparator", "limit", "holds"),
    [
        # "<L" is not above U when L <= U, unknown when L > U.
        (GT_10, "<", "9.9", False),
        (GT_10, "<", "10", False),
        (GT_10, "<", "10.1", None),
        (GT_10, "<=", "10", False),
        (GT_10, "<=", "10.1", None),
        # ">L" is above U when L >= U, unknown otherwise.
        (GT_10, ">", "10.1", True),
        (GT_10, ">", "10", True),
        (GT_10, ">", "9.9", None),
        (GT_10, ">=", "10.1", True),
        (GT_10, ">=", "10", None),  # could be exactly 10: not above
        (GTE_10, ">=", "10", True),
        (GTE_10, ">", "9.9", None),
        (GTE_10, "<", "10", False),
        (GTE_10, "<=", "10", None),
        (LT_10, "<", "10", True),
        (LT_10, "<=", "10", None),
        (LT_10, ">=", "10", False),
        (LT_10, ">", "9.9", None),
        (LTE_10, "<=", "10", True),
        (LTE_10, ">", "10", False),
        (LTE_10, ">=", "10", None),
        (BETWEEN, "<", "10", False),
        (BETWEEN, "<=", "10", None),
        (BETWEEN, ">", "20", False),
        (BETWEEN, ">=", "20", None),
        (BETWEEN, ">", "15", None),
    ],
)
def test_censored_values_use_three_valued_logic(spec, comparator, limit, holds):
    assert censored_holds(spec, Fact(D(limit), comparator=comparator)) is holds


def test_a_lab_upper_limit_is_the_threshold_for_a_censored_marker():
    fact = Fact(D(12), comparator=">", uln=D(15))
    assert censored_holds(GT_10, fact) is None
    assert censored_holds(GT_10, Fact(D(15), comparator=">", uln=D(15))) is True


@pytest.mark.criterion("I6")
def test_pct_below_the_detection_limit_is_not_elevated_and_says_so():
    _derived, evaluation = assess(
        eligible_candidate(
            il6={"value": "3"},
            tnf_alpha={"value": "2"},
            crp={"value": "2", "unit": "mg/L"},
            pct={"value": "<0.05"},
        )
    )
    i6 = result(evaluation, "I6")
    assert i6.outcome is Outcome.NOT_MET
    pct = [c for c in i6.conditions if c.variable == "pct_ng_ml"][0]
    assert pct.outcome is Outcome.NOT_MET
    assert "PCT <0.05 ng/mL, not above 0.05" in pct.reason


@pytest.mark.criterion("I6")
def test_a_censored_marker_that_cannot_be_told_asks_for_the_value():
    _derived, evaluation = assess(
        eligible_candidate(
            il6={"value": "3"},
            tnf_alpha={"value": "2"},
            crp={"value": "<20", "unit": "mg/L"},
            pct={"value": "0.01"},
        )
    )
    i6 = result(evaluation, "I6")
    assert i6.outcome is Outcome.UNKNOWN
    assert "crp" in i6.missing
    assert evaluation.decision is Decision.INCOMPLETE


@pytest.mark.criterion("I6")
def test_il6_above_1000_meets_i6():
    _derived, evaluation = assess(eligible_candidate(il6={"value": ">1000"}))
    assert result(evaluation, "I6").outcome is Outcome.MET


# --- Conflicting data -----------------------------------------------------------------


def at(time, value, unit="umol/L"):
    return {"time": time, "value": value, "unit": unit}


@pytest.mark.criterion("I3")
def test_two_tbil_values_at_one_instant_in_the_series_are_an_error():
    data = eligible_candidate(
        tbil_series=[at("2026-05-31T08:00+08:00", "150"), at("2026-05-31T08:00", "158")]
    )
    assert problems(data) == {"tbil_series[1].value": ["tbil_conflict"]}


@pytest.mark.criterion("I3")
def test_the_current_tbil_against_a_series_point_at_its_instant_is_an_error():
    data = eligible_candidate(
        tbil={"value": "180", "unit": "umol/L", "time": "2026-06-01T08:00+08:00"},
        tbil_series=[at("2026-06-01T00:00Z", "175")],  # the same instant in UTC
    )
    assert problems(data) == {"tbil_series[0].value": ["tbil_conflict"]}


@pytest.mark.criterion("I3")
@pytest.mark.parametrize("order", [0, 1])
def test_the_same_data_in_any_order_give_the_same_result(order):
    a, b = at("2026-05-31T08:00+08:00", "158.6"), at("2026-05-30T08:00+08:00", "120")
    series = [a, b] if order else [b, a]
    derived, evaluation = assess(eligible_candidate(tbil_series=series))
    assert derived.tbil_rise.per_day == D("38.6")
    assert evaluation.decision is Decision.ELIGIBLE


@pytest.mark.criterion("I3")
def test_identical_duplicates_are_merged():
    point = at("2026-05-31T08:00+08:00", "158.6")
    parsed = parse(eligible_candidate(tbil_series=[point, dict(point)]))
    assert len(parsed.tbil_series) == 1
    derived, _evaluation = assess(eligible_candidate(tbil_series=[point, dict(point)]))
    assert derived.tbil_rise.per_day == D("21.4")


@pytest.mark.criterion("I3")
def test_the_same_instant_in_another_unit_with_another_value_conflicts():
    point = at("2026-05-31T08:00+08:00", "158.6")
    in_mg = at("2026-05-31T08:00+08:00", "9.275", "mg/dL")  # 158.6025 umol/L
    found = problems(eligible_candidate(tbil_series=[point, in_mg]))
    assert found == {"tbil_series[1].value": ["tbil_conflict"]}


# --- Pending is not No -------------------------------------------------------


@pytest.mark.criterion("I8")
def test_consent_not_yet_signed_is_incomplete_with_consent_to_collect():
    _derived, evaluation = assess(
        eligible_candidate(written_informed_consent="pending")
    )
    assert evaluation.decision is Decision.INCOMPLETE
    assert evaluation.blocking == ()
    assert "written_informed_consent" in evaluation.to_collect
    i8 = result(evaluation, "I8")
    assert i8.outcome is Outcome.UNKNOWN
    assert "pending" in i8.reason


@pytest.mark.criterion("I8")
def test_consent_refused_is_a_screen_failure():
    _derived, evaluation = assess(eligible_candidate(written_informed_consent=False))
    assert evaluation.decision is Decision.INELIGIBLE
    assert evaluation.blocking == ("I8",)


@pytest.mark.criterion("E4")
@pytest.mark.parametrize("answer", ["pending", "待定", {"status": "pending"}])
def test_a_pending_lab_is_unknown_and_kept_as_pending(answer):
    data = eligible_candidate(creatinine=answer)
    parsed = parse(data)
    assert parsed.creatinine is None
    assert parsed.statuses["creatinine"] == "pending"
    assert normalised(parsed)["creatinine"] == {"status": "pending"}
    derived, evaluation = assess(data)
    assert derived.meld is None
    assert result(evaluation, "E4").outcome is Outcome.UNKNOWN
    assert "creatinine" in evaluation.to_collect


def test_a_lab_not_done_is_distinct_from_pending_and_from_blank():
    parsed = parse(eligible_candidate(inr={"status": "not_done"}))
    assert parsed.statuses["inr"] == "not_done"
    assert parse(eligible_candidate(inr=None)).statuses == {}


def test_a_value_and_a_status_together_are_refused():
    data = eligible_candidate(inr={"value": "1.8", "status": "pending"})
    assert problems(data) == {"inr.status": ["status_with_value"]}


def test_every_lab_may_carry_its_collection_time():
    parsed = parse(
        eligible_candidate(
            inr={"value": "1.8", "time": "2026-06-01 07:00"},
            il6={"value": "25", "time": "2026/5/31 22:15"},
        )
    )
    assert parsed.inr.time == datetime(2026, 6, 1, 7, 0, tzinfo=SITE)
    shown = normalised(parsed)
    assert shown["inr"] == {"value": "1.8", "time": "2026-06-01T07:00:00+08:00"}
    assert shown["il6"]["time"] == "2026-05-31T22:15:00+08:00"


def test_a_collection_time_in_the_future_is_refused():
    data = eligible_candidate(inr={"value": "1.8", "time": "2026-06-02 07:00"})
    assert problems(data) == {"inr.time": ["measurement_future"]}


# --- What a record needs -------------------------------------------------------------


def test_a_record_needs_the_required_inputs():
    data = eligible_candidate(screening_number=None, sex=None, screening_date=None)
    parse(data)  # pre-screening takes them as unknown
    found = problems(data, for_record=True)
    assert found == {
        "screening_number": ["required"],
        "sex": ["required"],
        "screening_date": ["required"],
    }
    assert {k for k, i in INPUTS.items() if i.required} == set(found)


def test_every_answer_input_accepts_pending():
    for key, item in INPUTS.items():
        if item.kind is InputKind.ANSWER:
            assert parse(eligible_candidate(**{key: "pending"})).statuses == {
                key: "pending"
            }


# --- Found in review --------------------------------------------------------------


@pytest.mark.parametrize(
    "time",
    ["2026/06/01 08:00+99:00", "2026-06-01T08:00+25:00", "2026-06-01", "2026-W22-1"],
)
def test_a_measurement_time_needs_a_real_clock_time_and_offset(time):
    data = eligible_candidate(tbil={"value": "180", "unit": "umol/L", "time": time})
    assert problems(data) == {"tbil.time": ["datetime_invalid"]}


@pytest.mark.parametrize(
    "confirmed", [[[1], {}], "creatinine", [float("nan")], ["Diabetes"]]
)
def test_confirmations_must_name_inputs(confirmed):
    data = {**eligible_candidate(), CONFIRM_KEY: confirmed}
    assert problems(data) == {CONFIRM_KEY: ["confirm_invalid"]}


def test_series_problems_name_the_row_as_given():
    data = eligible_candidate(
        tbil_series=[
            {"time": "yesterday", "value": "150", "unit": "umol/L"},
            at("2026-06-01T09:00+08:00", "160"),  # after the current TBil
        ]
    )
    assert problems(data) == {
        "tbil_series[0].time": ["datetime_invalid"],
        "tbil_series[1].time": ["series_after_current"],
    }


@pytest.mark.parametrize(
    ("comparator", "limit", "holds"),
    [
        ("<", "5", False),
        ("<", "5.1", None),
        ("<=", "5", None),
        (">", "5", False),
        (">", "4", None),
    ],
)
def test_a_censored_value_against_an_equality(comparator, limit, holds):
    spec = ConditionSpec("il6_pg_ml", Operator.EQ, low=D(5))
    assert censored_holds(spec, Fact(D(limit), comparator=comparator)) is holds


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"uln": "20"}, "uln"),
        ({"status": "pending"}, "status"),
        ({"uln": "20", "status": "pending"}, "status, uln"),
        ({"uln": "20", "note": "x"}, "note, uln"),
        ({"note": "x"}, "note"),
    ],
)
def test_an_earlier_tbil_names_each_part_it_does_not_take(extra, named):
    earlier = {"time": "2026-05-31T08:00+08:00", "value": "158.6", "unit": "umol/L"}
    with pytest.raises(CandidateError) as caught:
        parse(eligible_candidate(tbil_series=[{**earlier, **extra}]))
    assert caught.value.errors == {"tbil_series[0]": [f"unknown part: {named}"]}


def test_an_earlier_tbil_with_blank_uln_and_status_is_read():
    earlier = {"time": "2026-05-31T08:00+08:00", "value": "158.6", "unit": "umol/L"}
    parsed = parse(
        eligible_candidate(tbil_series=[{**earlier, "uln": "", "status": None}])
    )
    assert [q.canonical for q in parsed.tbil_series] == [D("158.6")]
