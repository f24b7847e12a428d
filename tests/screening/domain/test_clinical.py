"""Clinical calculations: age, TBil daily rise, MELD, MELD-Na and MELD 3.0.

Every threshold is tested at and on both sides of its boundary. Reference
values marked "independent" are computed in this file with math.log, separately
from the Decimal code under test.
"""

import ast
import itertools
import math
import sys
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from screening.domain import clinical, units
from screening.domain.clinical import (
    MIN_RISE_INTERVAL,
    DailyRise,
    TimedValue,
    age_in_completed_years,
    current_tbil,
    meld,
    meld_3,
    meld_na,
    tbil_max_daily_rise,
)
from screening.domain.units import convert

D = Decimal


# --- The modules stay pure --------------------------------------------------


@pytest.mark.parametrize("module", [clinical, units])
def test_module_imports_only_the_standard_library(module):
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative import"
            imported.add(node.module)
    top_level = {name.split(".")[0] for name in imported}
    assert top_level <= sys.stdlib_module_names, top_level - sys.stdlib_module_names


# --- Age in completed years -------------------------------------------------

SCREENING = date(2025, 6, 1)


@pytest.mark.criterion("I1")
@pytest.mark.parametrize(
    ("date_of_birth", "on", "expected"),
    [
        # 18: birthday the day after, on, and the day before the screening date.
        (date(2007, 6, 2), SCREENING, 17),
        (date(2007, 6, 1), SCREENING, 18),
        (date(2007, 5, 31), SCREENING, 18),
        (date(2008, 6, 1), SCREENING, 17),
        (date(2008, 5, 31), SCREENING, 17),
        # 65 and 66.
        (date(1960, 6, 2), SCREENING, 64),
        (date(1960, 6, 1), SCREENING, 65),
        (date(1960, 5, 31), SCREENING, 65),
        (date(1959, 6, 2), SCREENING, 65),
        (date(1959, 6, 1), SCREENING, 66),
        (date(1959, 5, 31), SCREENING, 66),
        # Year ends.
        (date(2006, 12, 31), date(2025, 1, 1), 18),
        (date(2007, 1, 1), date(2025, 12, 31), 18),
        (date(2007, 12, 31), date(2025, 12, 30), 17),
        # Born on the screening date.
        (SCREENING, SCREENING, 0),
    ],
)
def test_age_in_completed_years(date_of_birth, on, expected):
    assert age_in_completed_years(date_of_birth, on) == expected


@pytest.mark.criterion("I1")
@pytest.mark.parametrize(
    ("date_of_birth", "on", "expected"),
    [
        # Born 29 Feb 2004. 2022 is a common year: 18 on 1 March, not 28 Feb.
        (date(2004, 2, 29), date(2022, 2, 28), 17),
        (date(2004, 2, 29), date(2022, 3, 1), 18),
        # 2024 is a leap year: the birthday is 29 Feb itself.
        (date(2004, 2, 29), date(2024, 2, 28), 19),
        (date(2004, 2, 29), date(2024, 2, 29), 20),
        (date(2004, 2, 29), date(2024, 3, 1), 20),
        # Born 29 Feb 2000: 65 and 66 fall in common years (2065, 2066).
        (date(2000, 2, 29), date(2065, 2, 28), 64),
        (date(2000, 2, 29), date(2065, 3, 1), 65),
        (date(2000, 2, 29), date(2066, 2, 28), 65),
        (date(2000, 2, 29), date(2066, 3, 1), 66),
        # Born 29 Feb 1960: 65 in 2025 (common), reached on 1 March.
        (date(1960, 2, 29), date(2025, 2, 28), 64),
        (date(1960, 2, 29), date(2025, 3, 1), 65),
    ],
)
def test_age_with_29_february_birthday(date_of_birth, on, expected):
    assert age_in_completed_years(date_of_birth, on) == expected


@pytest.mark.criterion("I1")
def test_age_before_birth_is_an_error():
    with pytest.raises(ValueError, match="before the date of birth"):
        age_in_completed_years(date(2025, 6, 2), date(2025, 6, 1))


# --- TBil daily rise --------------------------------------------------------

T0 = datetime(2025, 5, 31, 8, 0, tzinfo=UTC)
CST = timezone(timedelta(hours=8))


def tv(time: datetime, value: str) -> TimedValue:
    return TimedValue(time=time, value_umol_l=D(value))


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


@pytest.mark.criterion("I3")
@pytest.mark.parametrize(
    ("interval", "start", "end", "expected"),
    [
        # Exactly 12 h: 8.55 umol/L is 17.1 per day, 8.50 is 17.0.
        (hours(12), "150", "158.55", "17.1"),
        (hours(12), "150", "158.50", "17.0"),
        (hours(12), "150", "158.56", "17.12"),
        # 36 h: 25.65 umol/L is 17.1 per day, 25.50 is 17.0.
        (hours(36), "150", "175.65", "17.1"),
        (hours(36), "150", "175.50", "17.0"),
        # 24 h: the difference itself.
        (hours(24), "158.6", "175.7", "17.1"),
        # Falling and flat series give the largest change, not None.
        (hours(24), "200", "180", "-20"),
        (hours(24), "200", "200", "0"),
    ],
)
def test_rise_scaled_to_24_hours(interval, start, end, expected):
    first, second = tv(T0, start), tv(T0 + interval, end)
    rise = tbil_max_daily_rise([first, second])
    assert rise == DailyRise(per_day=D(expected), start=first, end=second)


@pytest.mark.criterion("I3")
def test_17_1_is_exact_not_approximately():
    rise = tbil_max_daily_rise([tv(T0, "150"), tv(T0 + hours(12), "158.55")])
    assert rise is not None
    assert rise.per_day == D("17.1")
    assert rise.per_day >= D("17.1")


@pytest.mark.criterion("I3")
@pytest.mark.parametrize(
    ("interval", "counted"),
    [
        (MIN_RISE_INTERVAL - timedelta(seconds=1), False),  # 11:59:59
        (MIN_RISE_INTERVAL - timedelta(microseconds=1), False),
        (MIN_RISE_INTERVAL, True),
        (MIN_RISE_INTERVAL + timedelta(seconds=1), True),
    ],
)
def test_pairs_under_12_hours_are_ignored(interval, counted):
    rise = tbil_max_daily_rise([tv(T0, "150"), tv(T0 + interval, "158.55")])
    assert (rise is not None) is counted


@pytest.mark.criterion("I3")
def test_min_rise_interval_is_12_hours():
    assert timedelta(hours=12) == MIN_RISE_INTERVAL


@pytest.mark.criterion("I3")
@pytest.mark.parametrize(
    "series",
    [
        [],
        [tv(T0, "150")],
        [tv(T0, "150"), tv(T0, "190")],  # equal times
        [tv(T0, "150"), tv(T0 + hours(6), "170"), tv(T0 + hours(11.9), "190")],
    ],
)
def test_none_when_no_pair_is_12_hours_apart(series):
    assert tbil_max_daily_rise(series) is None


@pytest.mark.criterion("I3")
def test_pairs_with_latest_result_at_least_12_hours_earlier():
    # Consecutive 12-hourly results: pairs are (0, 12 h) and (12 h, 24 h),
    # never (0, 24 h).
    series = [tv(T0, "100"), tv(T0 + hours(12), "110"), tv(T0 + hours(24), "130")]
    rise = tbil_max_daily_rise(series)
    assert rise == DailyRise(per_day=D("40"), start=series[1], end=series[2])


@pytest.mark.criterion("I3")
def test_a_too_close_neighbour_is_skipped_for_an_earlier_result():
    # 10 h after the middle result, the last pairs with the first (20 h).
    series = [tv(T0, "100"), tv(T0 + hours(10), "150"), tv(T0 + hours(20), "120")]
    rise = tbil_max_daily_rise(series)
    assert rise == DailyRise(per_day=D("24"), start=series[0], end=series[2])


@pytest.mark.criterion("I3")
def test_short_pairs_do_not_hide_a_qualifying_pair():
    # A spike 6 h in is noise; the 12 h pair still counts.
    series = [tv(T0, "150"), tv(T0 + hours(6), "190"), tv(T0 + hours(12), "158.55")]
    rise = tbil_max_daily_rise(series)
    assert rise == DailyRise(per_day=D("17.1"), start=series[0], end=series[2])


@pytest.mark.criterion("I3")
def test_results_sharing_the_latest_earlier_instant_each_form_a_pair():
    series = [tv(T0, "110"), tv(T0, "100"), tv(T0 + hours(24), "130")]
    rise = tbil_max_daily_rise(series)
    assert rise == DailyRise(per_day=D("30"), start=series[1], end=series[2])


@pytest.mark.criterion("I3")
def test_on_a_tie_the_chronologically_first_pair_wins():
    series = [tv(T0, "100"), tv(T0 + hours(24), "120"), tv(T0 + hours(48), "140")]
    rise = tbil_max_daily_rise(series)
    assert rise is not None
    assert rise.start is series[0]


SERIES = [
    tv(T0, "120.0"),
    tv(T0 + hours(12), "128.5"),
    tv(T0 + hours(24), "145.6"),  # 34.2 per day over the previous 12 h
    tv(T0 + hours(30), "150.0"),
    tv(T0 + hours(48), "160.0"),
]


@pytest.mark.criterion("I3")
@pytest.mark.parametrize("order", list(itertools.permutations(range(len(SERIES)))))
def test_any_input_order_gives_the_same_result(order):
    rise = tbil_max_daily_rise(SERIES[i] for i in order)
    assert rise == DailyRise(per_day=D("34.2"), start=SERIES[1], end=SERIES[2])


@pytest.mark.criterion("I3")
@pytest.mark.parametrize(
    ("start", "end", "counted"),
    [
        # 08:00+08:00 is 00:00Z, so 12:00Z the same day is 12 h later
        # although the wall clocks are 4 h apart.
        (
            datetime(2025, 5, 31, 8, tzinfo=CST),
            datetime(2025, 5, 31, 12, tzinfo=UTC),
            True,
        ),
        # 08:00Z to 20:00+08:00 (12:00Z) looks like 12 h but is 4 h.
        (
            datetime(2025, 5, 31, 8, tzinfo=UTC),
            datetime(2025, 5, 31, 20, tzinfo=CST),
            False,
        ),
        # 12 h apart, the end written in another offset and on the next date.
        (
            datetime(2025, 5, 31, 8, tzinfo=UTC),
            datetime(2025, 6, 1, 4, tzinfo=CST),
            True,
        ),
    ],
)
def test_mixed_utc_offsets_compare_instants(start, end, counted):
    rise = tbil_max_daily_rise([tv(end, "158.55"), tv(start, "150")])
    assert (rise is not None) is counted
    if counted:
        assert rise.per_day == D("17.1")


@pytest.mark.criterion("I3")
@pytest.mark.parametrize(
    ("end", "counted"),
    [
        # London moves to BST at 01:00Z on 30 March 2025: 20:00 GMT to 08:00
        # BST is 12 h on the wall clock but 11 h in fact.
        (datetime(2025, 3, 30, 8, tzinfo=ZoneInfo("Europe/London")), False),
        (datetime(2025, 3, 30, 9, tzinfo=ZoneInfo("Europe/London")), True),
    ],
)
def test_daylight_saving_change_within_one_zone(end, counted):
    start = datetime(2025, 3, 29, 20, tzinfo=ZoneInfo("Europe/London"))
    rise = tbil_max_daily_rise([tv(start, "150"), tv(end, "158.55")])
    assert (rise is not None) is counted


@pytest.mark.criterion("I3")
@pytest.mark.parametrize(
    ("time", "value", "error"),
    [
        (datetime(2025, 5, 31, 8), D("150"), ValueError),  # noqa: DTZ001 - naive on purpose
        (T0, D("NaN"), ValueError),
        (T0, D("Infinity"), ValueError),
        (T0, 150.0, TypeError),
        (T0, None, TypeError),
        (date(2025, 5, 31), D("150"), TypeError),
        ("2025-05-31T08:00:00+08:00", D("150"), TypeError),
    ],
)
def test_timed_value_rejects_naive_time_and_non_decimal_values(time, value, error):
    with pytest.raises(error):
        TimedValue(time=time, value_umol_l=value)


# --- Current TBil -----------------------------------------------------------


@pytest.mark.criterion("I3")
@pytest.mark.parametrize(
    ("given", "series", "expected"),
    [
        (D("158.6"), SERIES, D("158.6")),
        (D("0"), SERIES, D("0")),  # a given value is used even if falsy
        (None, SERIES, D("160.0")),
        (None, list(reversed(SERIES)), D("160.0")),
        (None, [SERIES[3], SERIES[4], SERIES[0]], D("160.0")),
        (None, [SERIES[0]], D("120.0")),
        # Latest by instant: 09:00+08:00 is 01:00Z, before 02:00Z.
        (
            None,
            [
                tv(datetime(2025, 6, 1, 2, tzinfo=UTC), "171"),
                tv(datetime(2025, 6, 1, 9, tzinfo=CST), "165"),
            ],
            D("171"),
        ),
        (D("171"), [], D("171")),
        (None, [], None),
    ],
)
def test_current_tbil(given, series, expected):
    assert current_tbil(given, series) == expected


@pytest.mark.criterion("I3")
def test_current_tbil_takes_the_first_of_results_sharing_the_latest_instant():
    assert current_tbil(None, [tv(T0, "150"), tv(T0, "160")]) == D("150")


# --- MELD (original UNOS) ---------------------------------------------------


def score(bilirubin, inr, creatinine, dialysis=False):
    return meld(
        bilirubin_mg_dl=D(bilirubin),
        inr=D(inr),
        creatinine_mg_dl=D(creatinine),
        dialysis_twice_past_week=dialysis,
    )


def meld_reference(bilirubin, inr, creatinine, dialysis=False):
    """Independent float MELD times 10, before rounding (for comparisons)."""
    bilirubin, inr = max(float(bilirubin), 1.0), max(float(inr), 1.0)
    creatinine = 4.0 if dialysis else min(max(float(creatinine), 1.0), 4.0)
    return 10 * (
        0.957 * math.log(creatinine)
        + 0.378 * math.log(bilirubin)
        + 1.120 * math.log(inr)
        + 0.643
    )


@pytest.mark.criterion("E4")
def test_published_example_transplantr():
    # R package transplantr (johnasher/transplantr), tests/testthat/test_liver.R:
    # round(meld(INR = 2.0, bili = 54, creat = 170, dialysis = 0), 3) == 24.798,
    # bilirubin and creatinine in umol/L (the package divides by 17.1 and 88.4).
    bilirubin = convert("bilirubin", D("54"), "umol/L", "mg/dL")
    creatinine = convert("creatinine", D("170"), "umol/L", "mg/dL")
    assert round(meld_reference(bilirubin, "2.0", creatinine), 3) == 24.798
    assert score(bilirubin, "2.0", creatinine) == 25


@pytest.mark.criterion("E4")
def test_published_example_ameld():
    # R package ameld (ampel-leipzig/ameld), tests/testthat/test_meld.R:
    # creatinine 1.9, bilirubin 4.2, INR 1.2, cause "other" (which adds the
    # UNOS constant 0.643) gives 20.0391626, rounded 20.
    assert round(meld_reference("4.2", "1.2", "1.9"), 7) == 20.0391626
    assert score("4.2", "1.2", "1.9") == 20


@pytest.mark.criterion("E4")
def test_published_example_calculatorlib():
    # https://calculatorlib.com/meld-score-calculator, "Worked Example":
    # bilirubin 1.9, INR 1.2, creatinine 1.3 gives 13.41, MELD 13.
    assert score("1.9", "1.2", "1.3") == 13


@pytest.mark.criterion("E4")
@pytest.mark.parametrize(
    ("bilirubin_umol_l", "inr", "creatinine_umol_l", "expected", "unrounded"),
    [
        # Lab values as reported in umol/L, one INR step apart; exclusion E4
        # allows MELD 30 and excludes 31.
        ("342.0", "2.20", "133", 30, 30.494),
        ("342.0", "2.21", "133", 31, 30.545),
        ("513.0", "1.51", "176", 30, 30.492),
        ("513.0", "1.52", "176", 31, 30.566),
        ("425.5", "1.60", "176", 30, 30.434),
        ("425.5", "1.61", "176", 31, 30.503),
    ],
)
def test_meld_30_and_31_from_lab_values(
    bilirubin_umol_l, inr, creatinine_umol_l, expected, unrounded
):
    bilirubin = convert("bilirubin", D(bilirubin_umol_l), "umol/L", "mg/dL")
    creatinine = convert("creatinine", D(creatinine_umol_l), "umol/L", "mg/dL")
    assert round(meld_reference(bilirubin, inr, creatinine), 3) == unrounded
    assert score(bilirubin, inr, creatinine) == expected


@pytest.mark.criterion("E4")
@pytest.mark.parametrize(
    ("bilirubin", "inr", "creatinine", "expected"),
    [
        # Exact .5 ties cannot occur (ln of a rational other than 1 is
        # irrational), so these are the nearest on a 0.1/0.01/0.1 grid:
        # 32.4999987 (independent) rounds down, 36.5000002 rounds up.
        ("23.1", "2.84", "1.3", 32),
        ("14.7", "2.25", "3.1", 37),
    ],
)
def test_meld_rounds_half_up_at_the_boundary(bilirubin, inr, creatinine, expected):
    assert abs(meld_reference(bilirubin, inr, creatinine) % 1 - 0.5) < 2e-6
    assert score(bilirubin, inr, creatinine) == expected


@pytest.mark.criterion("E4")
@pytest.mark.parametrize(
    ("bilirubin", "inr", "creatinine", "expected"),
    [
        # All at or below the floor: 6.43 -> 6.
        ("1.0", "1.0", "1.0", 6),
        ("0.3", "0.8", "0.5", 6),
        ("0.01", "0.01", "0.01", 6),
        # INR floor with bilirubin and creatinine at 1.0 (6.54 at INR 1.01).
        ("1.0", "0.99", "1.0", 6),
        ("1.0", "1.00", "1.0", 6),
        ("1.0", "1.01", "1.0", 7),
        # Creatinine floor likewise (6.525 at 1.01).
        ("1.0", "1.0", "0.99", 6),
        ("1.0", "1.0", "1.00", 6),
        ("1.0", "1.0", "1.01", 7),
        # Bilirubin floor, creatinine 1.24 putting the score at 8.49.
        ("0.99", "1.0", "1.24", 8),
        ("1.00", "1.0", "1.24", 8),
        ("1.01", "1.0", "1.24", 9),
    ],
)
def test_meld_floors_values_below_1(bilirubin, inr, creatinine, expected):
    assert score(bilirubin, inr, creatinine) == expected


@pytest.mark.criterion("E4")
@pytest.mark.parametrize(
    ("creatinine", "dialysis", "expected"),
    [
        ("3.99", False, 29),
        ("4.00", False, 30),
        ("4.01", False, 30),
        ("10.0", False, 30),
        # Dialysis twice in the past week counts as 4.0 whatever the value.
        ("0.5", True, 30),
        ("1.0", True, 30),
        ("3.99", True, 30),
        ("10.0", True, 30),
    ],
)
def test_meld_creatinine_cap_and_dialysis(creatinine, dialysis, expected):
    assert score("1.0", "2.4", creatinine, dialysis) == expected


@pytest.mark.criterion("E4")
@pytest.mark.parametrize(
    ("bilirubin", "inr", "creatinine", "expected", "unrounded"),
    [
        ("30", "1.85", "4.0", 39, 39.443),
        ("30", "1.86", "4.0", 40, 39.504),
        # 40.5 would round to 41: capped.
        ("35", "1.93", "4.0", 40, 40.500),
        ("100", "10", "4.0", 40, 62.893),
    ],
)
def test_meld_is_capped_at_40(bilirubin, inr, creatinine, expected, unrounded):
    assert round(meld_reference(bilirubin, inr, creatinine), 3) == unrounded
    assert score(bilirubin, inr, creatinine) == expected


@pytest.mark.criterion("E4")
@pytest.mark.parametrize("name", ["bilirubin_mg_dl", "inr", "creatinine_mg_dl"])
@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (D("0"), ValueError),
        (D("-1.5"), ValueError),
        (D("NaN"), ValueError),
        (D("Infinity"), ValueError),
        (1.5, TypeError),
        (None, TypeError),
    ],
)
def test_meld_rejects_non_positive_or_non_decimal_values(name, bad, error):
    values = {"bilirubin_mg_dl": D(2), "inr": D(2), "creatinine_mg_dl": D(2)}
    values[name] = bad
    with pytest.raises(error):
        meld(**values, dialysis_twice_past_week=False)


@pytest.mark.criterion("E4")
@pytest.mark.parametrize("dialysis", [None, 0, 1, "no"])
def test_meld_requires_a_yes_or_no_dialysis_answer(dialysis):
    with pytest.raises(TypeError):
        score("2", "2", "2", dialysis)


positive = st.decimals(
    min_value=D("0.01"), max_value=D("1000"), places=2, allow_nan=False
)
increment = st.decimals(min_value=D("0"), max_value=D("100"), places=2)


@pytest.mark.criterion("E4")
@given(bilirubin=positive, inr=positive, creatinine=positive, dialysis=st.booleans())
def test_meld_is_within_6_and_40(bilirubin, inr, creatinine, dialysis):
    assert 6 <= score(bilirubin, inr, creatinine, dialysis) <= 40


@pytest.mark.criterion("E4")
@given(
    bilirubin=positive,
    inr=positive,
    creatinine=positive,
    dialysis=st.booleans(),
    lab=st.sampled_from(range(3)),
    bump=increment,
)
def test_meld_is_monotone_in_each_lab_value(
    bilirubin, inr, creatinine, dialysis, lab, bump
):
    values = [bilirubin, inr, creatinine]
    raised = list(values)
    raised[lab] += bump
    assert score(*values, dialysis) <= score(*raised, dialysis)


@pytest.mark.criterion("E4")
@given(bilirubin=positive, inr=positive, creatinine=positive, dialysis=st.booleans())
def test_meld_agrees_with_an_independent_float_computation(
    bilirubin, inr, creatinine, dialysis
):
    unrounded = meld_reference(bilirubin, inr, creatinine, dialysis)
    # Float error could only matter within a hair of a rounding tie.
    assume(abs(unrounded % 1 - 0.5) > 1e-9)
    expected = min(math.floor(unrounded + 0.5), 40)
    assert score(bilirubin, inr, creatinine, dialysis) == expected


# --- MELD-Na (OPTN 2016) ----------------------------------------------------


@pytest.mark.parametrize(
    ("meld_score", "sodium", "expected"),
    [
        # Not applied at MELD 11 and below.
        (6, "125", 6),
        (11, "125", 11),
        (11, "137", 11),
        # Applied above 11: 12 + 1.32*12 - 0.033*12*12 = 23.088.
        (12, "125", 23),
        (12, "137", 12),
        # Sodium bounds: 124 counts as 125, 138 as 137.
        (20, "124", 28),  # 27.92
        (20, "125", 28),
        (20, "126", 27),  # 27.26
        (20, "136", 21),  # 20.66
        (20, "137", 20),
        (20, "138", 20),
        (20, "110", 28),
        (20, "150", 20),
        (20, "136.5", 20),  # 20.33
        # Half-up rounding near .5 (no exact tie exists for integer MELD and
        # sodium to 0.01): 25.504 up, 25.495 down.
        (16, "125", 26),
        (25, "136", 25),
        # The cap: at 40 the sodium terms cancel; 39 at 125 is 39.396.
        (39, "125", 39),
        (40, "125", 40),
        (40, "137", 40),
    ],
)
def test_meld_na(meld_score, sodium, expected):
    assert meld_na(meld_score=meld_score, sodium_mmol_l=D(sodium)) == expected


def test_meld_na_published_example_ameld():
    # R package ameld (ampel-leipzig/ameld), tests/testthat/test_meld.R:
    # creatinine 1.9, bilirubin 4.2, INR 1.2, sodium 125, type "unos" -> 28.
    base = score("4.2", "1.2", "1.9")
    assert meld_na(meld_score=base, sodium_mmol_l=D("125")) == 28


@pytest.mark.parametrize(
    ("meld_score", "sodium", "error"),
    [
        (5, D("130"), ValueError),
        (41, D("130"), ValueError),
        (True, D("130"), TypeError),
        (D("20"), D("130"), TypeError),
        (20, D("0"), ValueError),
        (20, D("NaN"), ValueError),
        (20, 130.0, TypeError),
        (20, None, TypeError),
    ],
)
def test_meld_na_rejects_bad_input(meld_score, sodium, error):
    with pytest.raises(error):
        meld_na(meld_score=meld_score, sodium_mmol_l=sodium)


sodium_values = st.decimals(
    min_value=D("100"), max_value=D("160"), places=1, allow_nan=False
)


@given(
    meld_score=st.integers(6, 40),
    sodium=sodium_values,
    lower=st.decimals(min_value=D("0"), max_value=D("50"), places=1),
)
def test_meld_na_is_at_least_meld_and_falls_as_sodium_rises(meld_score, sodium, lower):
    result = meld_na(meld_score=meld_score, sodium_mmol_l=sodium)
    assert meld_score <= result <= 40
    assert result <= meld_na(meld_score=meld_score, sodium_mmol_l=sodium - lower)


# --- MELD 3.0 (Kim et al. 2021) ---------------------------------------------


def score_3(
    *,
    female=False,
    bilirubin="1.0",
    inr="1.0",
    creatinine="1.0",
    dialysis=False,
    sodium="137",
    albumin="3.5",
):
    return meld_3(
        female=female,
        bilirubin_mg_dl=D(bilirubin),
        inr=D(inr),
        creatinine_mg_dl=D(creatinine),
        dialysis_twice_past_week=dialysis,
        sodium_mmol_l=D(sodium),
        albumin_g_dl=D(albumin),
    )


def meld_3_reference(female, bilirubin, inr, creatinine, dialysis, sodium, albumin):
    """Independent float MELD 3.0 before rounding (for comparisons)."""
    bilirubin, inr = max(float(bilirubin), 1.0), max(float(inr), 1.0)
    creatinine = 3.0 if dialysis else min(max(float(creatinine), 1.0), 3.0)
    sodium = min(max(float(sodium), 125.0), 137.0)
    albumin = min(max(float(albumin), 1.5), 3.5)
    return (
        1.33 * female
        + 4.56 * math.log(bilirubin)
        + 0.82 * (137 - sodium)
        - 0.24 * (137 - sodium) * math.log(bilirubin)
        + 9.09 * math.log(inr)
        + 11.14 * math.log(creatinine)
        + 1.85 * (3.5 - albumin)
        - 1.83 * (3.5 - albumin) * math.log(creatinine)
        + 6
    )


# No published MELD 3.0 worked example was found that could be cited here; the
# unrounded values below are independent (meld_3_reference, math.log).
BASE_3 = dict(
    female=False,
    bilirubin="1.0",
    inr="1.0",
    creatinine="1.0",
    dialysis=False,
    sodium="137",
    albumin="3.5",
)
TYPICAL = dict(
    bilirubin="2.5", inr="1.5", creatinine="1.2", sodium="135", albumin="3.0"
)
SEVERE = dict(bilirubin="20", inr="2.2", creatinine="1.5", sodium="130", albumin="2.8")
RENAL = dict(bilirubin="3.0", inr="1.6", creatinine="2.0", sodium="128", albumin="2.2")


@pytest.mark.parametrize(
    ("case", "expected", "unrounded"),
    [
        (TYPICAL, 18, 17.853),
        (TYPICAL | dict(female=True), 19, 19.183),
        (SEVERE, 33, 32.827),
        (SEVERE | dict(female=True), 34, 34.157),
        (RENAL, 29, 28.767),
        (RENAL | dict(female=True), 30, 30.097),
        (
            dict(
                bilirubin="6", inr="1.8", creatinine="0.8", sodium="132", albumin="2.5"
            ),
            23,
            23.313,
        ),
        (dict(bilirubin="12", inr="2.0"), 24, 23.632),
        # Everything at its floor or bound: 6 + 1.33 for a woman.
        ({}, 6, 6.0),
        (dict(female=True), 7, 7.33),
        (
            dict(
                bilirubin="0.4",
                inr="0.9",
                creatinine="0.6",
                sodium="140",
                albumin="4.2",
            ),
            6,
            6.0,
        ),
    ],
)
def test_meld_3(case, expected, unrounded):
    assert round(meld_3_reference(**(BASE_3 | case)), 3) == unrounded
    assert score_3(**case) == expected


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        # Exact .5 ties exist when bilirubin, INR and creatinine are 1.0; they
        # round up (half-even would give 16 and 20).
        (dict(sodium="126", albumin="2.7"), 17),  # 6 + 9.02 + 1.48 = 16.5
        (dict(sodium="133", albumin="2.3"), 12),  # 6 + 3.28 + 2.22 = 11.5
        (dict(female=True, sodium="125", albumin="1.7"), 21),  # 20.5
    ],
)
def test_meld_3_rounds_exact_ties_half_up(case, expected):
    assert score_3(**case) == expected


@pytest.mark.parametrize(
    ("female", "sodium", "expected"),
    [
        (False, "137", 6),  # 6
        (True, "137", 7),  # 7.33
        (False, "136", 7),  # 6.82
        (True, "136", 8),  # 8.15
    ],
)
def test_meld_3_female_term(female, sodium, expected):
    assert score_3(female=female, sodium=sodium) == expected


@pytest.mark.parametrize(
    ("female", "sodium", "albumin", "expected"),
    [
        # Lower bound 1.5 g/dL: 6.82 + 1.85 * 2.0 = 10.52; at 1.6, 10.335.
        (False, "136", "1.0", 11),
        (False, "136", "1.4", 11),
        (False, "136", "1.5", 11),
        (False, "136", "1.6", 10),
        # Upper bound 3.5 g/dL: 7.33 at 3.5 and above; at 3.4, 7.515.
        (True, "137", "3.4", 8),
        (True, "137", "3.5", 7),
        (True, "137", "3.6", 7),
        (True, "137", "4.5", 7),
    ],
)
def test_meld_3_albumin_bounds(female, sodium, albumin, expected):
    assert score_3(female=female, sodium=sodium, albumin=albumin) == expected


@pytest.mark.parametrize(
    ("creatinine", "dialysis", "expected"),
    [
        # With sodium 133: 9.28 + 11.14 ln(creatinine).
        ("0.5", False, 9),
        ("1.0", False, 9),
        ("2.99", False, 21),  # 21.481
        ("3.0", False, 22),  # 21.519
        ("3.01", False, 22),
        ("4.0", False, 22),
        ("10", False, 22),
        ("0.5", True, 22),
        ("1.0", True, 22),
        ("2.99", True, 22),
    ],
)
def test_meld_3_creatinine_cap_3_and_dialysis(creatinine, dialysis, expected):
    assert score_3(creatinine=creatinine, dialysis=dialysis, sodium="133") == expected


@pytest.mark.parametrize(
    ("sodium", "expected"),
    [
        # 6 + 0.82 * (137 - Na), Na bounded to 125-137.
        ("120", 16),  # as 125: 15.84
        ("124", 16),
        ("125", 16),
        ("126", 15),  # 15.02
        ("136", 7),  # 6.82
        ("137", 6),
        ("138", 6),
        ("145", 6),
    ],
)
def test_meld_3_sodium_bounds(sodium, expected):
    assert score_3(sodium=sodium) == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [("bilirubin", "0.99"), ("inr", "0.5"), ("creatinine", "0.01")],
)
def test_meld_3_floors_values_below_1(name, value):
    assert score_3(**{name: value}) == score_3(**{name: "1.0"}) == 6


@pytest.mark.parametrize(
    ("inr", "expected", "unrounded"),
    [
        ("3.35", 39, 39.486),
        ("3.75", 40, 40.511),  # would round to 41
        ("9.00", 40, 48.469),
    ],
)
def test_meld_3_is_capped_at_40(inr, expected, unrounded):
    case = dict(bilirubin="20", inr=inr, creatinine="2.0", sodium="130", albumin="2.8")
    assert round(meld_3_reference(**(BASE_3 | case)), 3) == unrounded
    assert score_3(**case) == expected


@pytest.mark.parametrize(
    "name", ["bilirubin", "inr", "creatinine", "sodium", "albumin"]
)
@pytest.mark.parametrize("bad", ["0", "-1", "NaN", "-Infinity"])
def test_meld_3_rejects_non_positive_or_non_finite_values(name, bad):
    with pytest.raises(ValueError):
        score_3(**{name: bad})


@pytest.mark.parametrize("name", ["female", "dialysis"])
@pytest.mark.parametrize("bad", [None, 0, 1])
def test_meld_3_requires_yes_or_no_answers(name, bad):
    with pytest.raises(TypeError):
        score_3(**{name: bad})


def test_meld_3_requires_decimals():
    with pytest.raises(TypeError):
        meld_3(
            female=False,
            bilirubin_mg_dl=2.0,
            inr=D(1),
            creatinine_mg_dl=D(1),
            dialysis_twice_past_week=False,
            sodium_mmol_l=D(137),
            albumin_g_dl=D("3.5"),
        )


albumin_values = st.decimals(
    min_value=D("0.5"), max_value=D("6"), places=1, allow_nan=False
)


@given(
    female=st.booleans(),
    bilirubin=positive,
    inr=positive,
    creatinine=positive,
    dialysis=st.booleans(),
    sodium=sodium_values,
    albumin=albumin_values,
    lab=st.sampled_from(["bilirubin", "inr", "creatinine"]),
    bump=increment,
)
def test_meld_3_is_within_6_and_40_and_monotone_in_bilirubin_inr_creatinine(
    female, bilirubin, inr, creatinine, dialysis, sodium, albumin, lab, bump
):
    # Not monotone in sodium or albumin: the interaction terms reverse their
    # direction for very high bilirubin or creatinine.
    case = dict(
        female=female,
        bilirubin=bilirubin,
        inr=inr,
        creatinine=creatinine,
        dialysis=dialysis,
        sodium=sodium,
        albumin=albumin,
    )
    result = score_3(**case)
    assert 6 <= result <= 40
    assert result <= score_3(**(case | {lab: case[lab] + bump}))


@given(
    female=st.booleans(),
    bilirubin=positive,
    inr=positive,
    creatinine=positive,
    dialysis=st.booleans(),
    sodium=sodium_values,
    albumin=albumin_values,
)
def test_meld_3_agrees_with_an_independent_float_computation(
    female, bilirubin, inr, creatinine, dialysis, sodium, albumin
):
    case = dict(
        female=female,
        bilirubin=bilirubin,
        inr=inr,
        creatinine=creatinine,
        dialysis=dialysis,
        sodium=sodium,
        albumin=albumin,
    )
    unrounded = meld_3_reference(**case)
    assume(abs(unrounded % 1 - 0.5) > 1e-9)
    assert score_3(**case) == min(math.floor(unrounded + 0.5), 40)
