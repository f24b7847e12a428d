"""Clinical calculations the eligibility criteria rely on.

Plain functions over plain values: ages, the total bilirubin (TBil) daily rise,
and the MELD family of scores. All arithmetic is Decimal, in a fixed local
context so that results do not depend on the caller's decimal settings. The
date "today" is always an argument.
"""

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import (
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from functools import lru_cache

__all__ = [
    "MIN_RISE_INTERVAL",
    "DailyRise",
    "TimedValue",
    "age_in_completed_years",
    "current_tbil",
    "meld",
    "meld_3",
    "meld_na",
    "tbil_max_daily_rise",
]

# 28 significant digits (the decimal module's default) leave ln() far more
# precise than any rounding decision on a score needs.
_CONTEXT = Context(
    prec=28,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)

_ONE = Decimal(1)
_MICROSECOND = timedelta(microseconds=1)
_SCORE_CAP = 40


@lru_cache(maxsize=8192)
def _ln(value: Decimal) -> Decimal:
    """Natural logarithm in the module's context; lab values repeat, so cached."""
    return value.ln(_CONTEXT)


def age_in_completed_years(date_of_birth: date, on: date) -> int:
    """Return the age in completed years on the date ``on``.

    A birthday on 29 February is reached on 1 March in common years. Raises
    ValueError if ``on`` is before ``date_of_birth``.
    """
    if on < date_of_birth:
        raise ValueError(f"date {on} is before the date of birth {date_of_birth}")
    # Comparing (month, day) pairs makes 29 Feb fall between 28 Feb and 1 Mar.
    birthday_not_reached = (on.month, on.day) < (date_of_birth.month, date_of_birth.day)
    return on.year - date_of_birth.year - birthday_not_reached


@dataclass(frozen=True, slots=True)
class TimedValue:
    """A total bilirubin result in umol/L at a timezone-aware time.

    Raises ValueError for a naive time or a non-finite value, TypeError for a
    value that is not a Decimal.
    """

    time: datetime
    value_umol_l: Decimal

    def __post_init__(self) -> None:
        if not isinstance(self.time, datetime):
            raise TypeError(f"time must be a datetime, not {type(self.time).__name__}")
        if self.time.utcoffset() is None:
            raise ValueError(f"time {self.time.isoformat()} has no UTC offset")
        if not _decimal("value_umol_l", self.value_umol_l).is_finite():
            raise ValueError(f"value_umol_l must be finite, not {self.value_umol_l}")


@dataclass(frozen=True, slots=True)
class DailyRise:
    """A change in total bilirubin between two results, scaled to 24 hours."""

    per_day: Decimal
    start: TimedValue
    end: TimedValue


MIN_RISE_INTERVAL = timedelta(hours=12)


def _utc(measurement: TimedValue) -> datetime:
    # Aware datetimes sharing one tzinfo compare and subtract by wall clock,
    # which is wrong across a daylight-saving change; UTC is not.
    return measurement.time.astimezone(UTC)


def tbil_max_daily_rise(measurements: Iterable[TimedValue]) -> DailyRise | None:
    """Return the largest TBil change per 24 hours, or None when none qualifies.

    Measurements may come in any order and with different UTC offsets; they
    are ordered by instant. Each measurement is paired with the latest earlier
    one taken at least MIN_RISE_INTERVAL (12 h) before it, so consecutive
    results are paired when sampling is at least 12 h apart; pairs closer than
    that (including equal times) are never used. If several results share that
    latest earlier instant, each forms a pair. The rise is
    (end - start) * 24 h / interval, multiplied first so that a short decimal
    result is exact (8.55 umol/L over 12 h is Decimal("17.1"), not
    17.0999...). The pair with the largest rise is returned; it
    may be zero or negative. On a tie, the chronologically first pair wins.
    """
    # Each instant once, in order; the index keeps input order among equal
    # instants (and is never equal, so measurements are never compared).
    keyed = sorted((_utc(m), index, m) for index, m in enumerate(measurements))
    if len(keyed) < 2:
        return None
    instants = [instant for instant, _, _ in keyed]
    best: DailyRise | None = None
    for end_instant, _, end in keyed:
        cutoff = end_instant - MIN_RISE_INTERVAL
        after_latest = bisect_right(instants, cutoff)
        if after_latest == 0:
            continue
        first_latest = bisect_left(instants, instants[after_latest - 1])
        for start_instant, _, start in keyed[first_latest:after_latest]:
            rise = _daily_rise(start, end, end_instant - start_instant)
            if best is None or rise.per_day > best.per_day:
                best = rise
    return best


_DAY_US = timedelta(days=1) // _MICROSECOND


def _daily_rise(start: TimedValue, end: TimedValue, interval: timedelta) -> DailyRise:
    # Whole microseconds: timedelta // timedelta is exact integer division.
    microseconds = interval // _MICROSECOND
    with localcontext(_CONTEXT):
        # Multiplying first keeps a short decimal result exact (17.1, not 17.09...).
        per_day = (end.value_umol_l - start.value_umol_l) * _DAY_US / microseconds
    return DailyRise(per_day=per_day, start=start, end=end)


def current_tbil(
    given: Decimal | None, measurements: Sequence[TimedValue]
) -> Decimal | None:
    """Return the current TBil in umol/L.

    That is the separately given value when there is one, else the value of the
    latest measurement (the first in input order if several share the latest
    instant), else None.
    """
    if given is not None:
        return given
    if not measurements:
        return None
    return max(measurements, key=_utc).value_umol_l


def _decimal(name: str, value: object) -> Decimal:
    # A float would carry binary rounding into every comparison; refuse it.
    if not isinstance(value, Decimal):
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__}")
    return value


def _require_bool(name: str, value: object) -> None:
    # None is not "no": a missing answer must never pass as a negative one.
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, not {type(value).__name__}")


def _positive(name: str, value: object) -> Decimal:
    value = _decimal(name, value)
    if not value.is_finite() or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, not {value}")
    return value


def _bounded(value: Decimal, lower: Decimal, upper: Decimal) -> Decimal:
    return min(max(value, lower), upper)


def _round_half_up(value: Decimal, exponent: Decimal) -> Decimal:
    return value.quantize(exponent, rounding=ROUND_HALF_UP)


# A score's formula in floats is within about 1e-13 of its exact value (a few
# logarithms and products of lab values, each correct to the last bit); the
# Decimal computation is within 1e-26. Where the float lands farther than this
# from a rounding boundary, both round the same way, so only a value close to
# one is computed in Decimal: the result is always the Decimal one.
_CLEAR_OF_BOUNDARY = 1e-8


def _half_up_if_clear(value: float) -> int | None:
    """``value`` rounded half up to an integer, or None when close to a half."""
    if not math.isfinite(value):
        return None
    if abs(value - (math.floor(value) + 0.5)) > _CLEAR_OF_BOUNDARY:
        return math.floor(value + 0.5)
    return None


_MELD_CREATININE_CAP = Decimal("4.0")


def meld(
    *,
    bilirubin_mg_dl: Decimal,
    inr: Decimal,
    creatinine_mg_dl: Decimal,
    dialysis_twice_past_week: bool,
) -> int:
    """Return the original UNOS MELD score, an integer from 6 to 40.

    MELD = 10 * (0.957 ln(creatinine) + 0.378 ln(bilirubin) + 1.120 ln(INR)
    + 0.643), with bilirubin and creatinine in mg/dL. Values below 1.0 are set
    to 1.0; creatinine is capped at 4.0 and set to 4.0 when the patient had
    dialysis at least twice (or 24 h of CVVHD) in the past week. The bracket
    is rounded half-up to the tenth before multiplying by 10; the result is
    capped at 40. Raises ValueError for a non-positive or non-finite value,
    TypeError for a value of the wrong type.
    """
    bilirubin = max(_positive("bilirubin_mg_dl", bilirubin_mg_dl), _ONE)
    inr = max(_positive("inr", inr), _ONE)
    creatinine = _bounded(
        _positive("creatinine_mg_dl", creatinine_mg_dl), _ONE, _MELD_CREATININE_CAP
    )
    _require_bool("dialysis_twice_past_week", dialysis_twice_past_week)
    if dialysis_twice_past_week:
        creatinine = _MELD_CREATININE_CAP
    # The bracket rounded half-up to the tenth, times 10: 10 x bracket rounded
    # half-up to an integer.
    score = _half_up_if_clear(
        10
        * (
            0.957 * math.log(creatinine)
            + 0.378 * math.log(bilirubin)
            + 1.120 * math.log(inr)
            + 0.643
        )
    )
    if score is None:
        score = _meld_exact(creatinine, bilirubin, inr)
    return min(score, _SCORE_CAP)


def _meld_exact(creatinine: Decimal, bilirubin: Decimal, inr: Decimal) -> int:
    """MELD's 10 x bracket rounded as the definition says, in Decimal."""
    with localcontext(_CONTEXT):
        bracket = (
            Decimal("0.957") * _ln(creatinine)
            + Decimal("0.378") * _ln(bilirubin)
            + Decimal("1.120") * _ln(inr)
            + Decimal("0.643")
        )
        return int(_round_half_up(bracket, Decimal("0.1")) * 10)


_SODIUM_LOW = Decimal(125)
_SODIUM_HIGH = Decimal(137)


def meld_na(*, meld_score: int, sodium_mmol_l: Decimal) -> int:
    """Return MELD-Na (OPTN 2016), an integer from 6 to 40.

    When ``meld_score`` is above 11: MELD + 1.32 (137 - Na)
    - 0.033 MELD (137 - Na), with sodium bounded to 125-137 mmol/L, rounded
    half-up to an integer and capped at 40. Otherwise ``meld_score`` unchanged.
    Raises ValueError for a MELD outside 6-40 or a non-positive or non-finite
    sodium, TypeError for a value of the wrong type.
    """
    if not isinstance(meld_score, int) or isinstance(meld_score, bool):
        raise TypeError(f"meld_score must be an int, not {type(meld_score).__name__}")
    if not 6 <= meld_score <= _SCORE_CAP:
        raise ValueError(f"meld_score must be from 6 to 40, not {meld_score}")
    sodium = _bounded(
        _positive("sodium_mmol_l", sodium_mmol_l), _SODIUM_LOW, _SODIUM_HIGH
    )
    if meld_score <= 11:
        return meld_score
    with localcontext(_CONTEXT):
        deficit = _SODIUM_HIGH - sodium
        score = (
            meld_score
            + Decimal("1.32") * deficit
            - Decimal("0.033") * meld_score * deficit
        )
        rounded = _round_half_up(score, _ONE)
    return min(int(rounded), _SCORE_CAP)


_MELD_3_CREATININE_CAP = Decimal("3.0")
_ALBUMIN_LOW = Decimal("1.5")
_ALBUMIN_HIGH = Decimal("3.5")


def meld_3(
    *,
    female: bool,
    bilirubin_mg_dl: Decimal,
    inr: Decimal,
    creatinine_mg_dl: Decimal,
    dialysis_twice_past_week: bool,
    sodium_mmol_l: Decimal,
    albumin_g_dl: Decimal,
) -> int:
    """Return MELD 3.0 (Kim et al., Gastroenterology 2021), capped at 40.

    1.33 (if female) + 4.56 ln(bilirubin) + 0.82 (137 - Na)
    - 0.24 (137 - Na) ln(bilirubin) + 9.09 ln(INR) + 11.14 ln(creatinine)
    + 1.85 (3.5 - albumin) - 1.83 (3.5 - albumin) ln(creatinine) + 6,
    with bilirubin and creatinine in mg/dL and albumin in g/dL. Bilirubin, INR
    and creatinine below 1.0 are set to 1.0; creatinine is capped at 3.0 and
    set to 3.0 with dialysis twice in the past week; sodium is bounded to
    125-137 mmol/L and albumin to 1.5-3.5 g/dL. Rounded half-up to an integer.
    Raises ValueError for a non-positive or non-finite value, TypeError for a
    value of the wrong type.
    """
    _require_bool("female", female)
    bilirubin = max(_positive("bilirubin_mg_dl", bilirubin_mg_dl), _ONE)
    inr = max(_positive("inr", inr), _ONE)
    creatinine = _bounded(
        _positive("creatinine_mg_dl", creatinine_mg_dl), _ONE, _MELD_3_CREATININE_CAP
    )
    _require_bool("dialysis_twice_past_week", dialysis_twice_past_week)
    if dialysis_twice_past_week:
        creatinine = _MELD_3_CREATININE_CAP
    sodium = _bounded(
        _positive("sodium_mmol_l", sodium_mmol_l), _SODIUM_LOW, _SODIUM_HIGH
    )
    albumin = _bounded(
        _positive("albumin_g_dl", albumin_g_dl), _ALBUMIN_LOW, _ALBUMIN_HIGH
    )
    ln_bilirubin, ln_creatinine = math.log(bilirubin), math.log(creatinine)
    sodium_deficit = float(_SODIUM_HIGH - sodium)
    albumin_deficit = float(_ALBUMIN_HIGH - albumin)
    score = _half_up_if_clear(
        (1.33 if female else 0)
        + 4.56 * ln_bilirubin
        + 0.82 * sodium_deficit
        - 0.24 * sodium_deficit * ln_bilirubin
        + 9.09 * math.log(inr)
        + 11.14 * ln_creatinine
        + 1.85 * albumin_deficit
        - 1.83 * albumin_deficit * ln_creatinine
        + 6
    )
    if score is None:
        score = _meld_3_exact(female, bilirubin, inr, creatinine, sodium, albumin)
    return min(score, _SCORE_CAP)


def _meld_3_exact(
    female: bool,
    bilirubin: Decimal,
    inr: Decimal,
    creatinine: Decimal,
    sodium: Decimal,
    albumin: Decimal,
) -> int:
    """MELD 3.0 rounded half-up as the definition says, in Decimal."""
    with localcontext(_CONTEXT):
        ln_bilirubin = _ln(bilirubin)
        ln_creatinine = _ln(creatinine)
        sodium_deficit = _SODIUM_HIGH - sodium
        albumin_deficit = _ALBUMIN_HIGH - albumin
        score = (
            (Decimal("1.33") if female else 0)
            + Decimal("4.56") * ln_bilirubin
            + Decimal("0.82") * sodium_deficit
            - Decimal("0.24") * sodium_deficit * ln_bilirubin
            + Decimal("9.09") * _ln(inr)
            + Decimal("11.14") * ln_creatinine
            + Decimal("1.85") * albumin_deficit
            - Decimal("1.83") * albumin_deficit * ln_creatinine
            + 6
        )
        return int(_round_half_up(score, _ONE))
