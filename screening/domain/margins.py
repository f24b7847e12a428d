"""How close: each numeric condition's distance to its threshold, for information.

Pure Python. Given an evaluation (``engine.evaluate``), the facts it decided on
(``facts.derive``) and a version's near-miss margin, ``margins`` returns for
every numeric comparison that the facts decide the value, the threshold, the
signed distance (value minus threshold) in the value's unit and as a
percentage of the threshold, and whether the distance is within the margin.
For a TBil level that must reach a threshold, it projects when the largest
daily rise would bring TBil there. Nothing here decides or changes an outcome:
the results are read from the evaluation, never fed back into it.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal

from .contract import Candidate, Quantity
from .engine import (
    NUMERIC_OPERATORS,
    RANGE_OPERATORS,
    ConditionSpec,
    Evaluation,
    Fact,
    Operator,
    bounds_for,
    condition_holds,
    threshold_for,
)
from .inputs import INPUTS
from .variables import VARIABLES, Kind, ThresholdUnitError, threshold_in_unit

# The TBil level and its largest daily rise, as the registry names them.
TBIL_LEVEL = "tbil_umol_l"
TBIL_RISE = "tbil_rise_per_day"
assert TBIL_LEVEL in VARIABLES and TBIL_RISE in VARIABLES  # noqa: S101
# "Reaches" only means something for a threshold the value must get above.
_RISING = frozenset({Operator.GT, Operator.GTE})
_HUNDRED = Decimal(100)
_DAY_HOURS = Decimal(24)
_MINUTE = timedelta(minutes=1)
_HOUR_MICROSECONDS = Decimal(3_600_000_000)


@dataclass(frozen=True, slots=True)
class Projection:
    """When the largest daily rise would bring TBil to the threshold.

    ``rise_per_day`` and ``threshold`` are in ``unit`` (the rise per day);
    ``hours`` counts from the value's collection time, ``at`` is that moment
    rounded up to the minute, ``hours_from_now`` counts from ``now`` (zero or
    less: the moment has passed).
    """

    rise_per_day: Decimal
    threshold: Decimal
    unit: str
    hours: Decimal
    at: datetime
    hours_from_now: Decimal


@dataclass(frozen=True, slots=True)
class ConditionMargin:
    """One numeric condition's distance to its threshold (in the value's unit).

    ``distance`` is value minus threshold (negative: below it); ``percent`` is
    the distance as a percentage of the threshold (None for a threshold of 0).
    For a range, the threshold is the nearer bound. ``near_miss``: the
    distance is at most the margin's percentage of the threshold, either side.
    ``holds``: the condition holds (as the evaluation decided).
    """

    code: str
    variable: str
    value: Decimal
    threshold: Decimal
    unit: str
    distance: Decimal
    percent: Decimal | None
    near_miss: bool
    holds: bool
    projection: Projection | None = None


def entered_units(candidate: Candidate) -> dict[str, str]:
    """The unit each numeric variable's value was entered in, when not canonical.

    Only a variable that is one laboratory input ("crp" entered in mg/dL gives
    CRP in mg/dL); computed values stay in their canonical unit.
    """
    shown = {}
    for name, variable in VARIABLES.items():
        if variable.kind is not Kind.NUMBER or len(variable.inputs) != 1:
            continue
        item = INPUTS.get(variable.inputs[0])
        quantity = candidate.values.get(variable.inputs[0])
        if item is None or not item.is_lab or not isinstance(quantity, Quantity):
            continue
        if quantity.unit and quantity.unit != variable.unit:
            shown[name] = quantity.unit
    return shown


def _unit_shown(name: str, entered: str | None) -> str:
    """The unit the value was entered in, if the variable's values convert to
    it; else the variable's own (canonical) unit, so value and unit agree."""
    canonical = VARIABLES[name].unit
    if not entered or entered == canonical:
        return canonical
    try:
        threshold_in_unit(name, Decimal(1), entered)
    except ThresholdUnitError:
        return canonical
    return entered


def _in_unit(name: str, value: Decimal, unit: str) -> Decimal:
    if unit == VARIABLES[name].unit:
        return value
    return threshold_in_unit(name, value, unit)


def _nearest(spec: ConditionSpec, fact: Fact) -> Decimal | None:
    if spec.operator in RANGE_OPERATORS:
        low, high = bounds_for(spec, fact)
        return low if abs(fact.value - low) <= abs(fact.value - high) else high
    return threshold_for(spec, fact)


def _projection(
    level: Decimal,
    threshold: Decimal,
    rise: Fact | None,
    *,
    since: datetime,
    now: datetime,
    unit: str,
) -> Projection | None:
    """Hours and moment at which the rise brings ``level`` to ``threshold``.

    None when the rise is unknown, censored, zero or negative.
    """
    if rise is None or rise.comparator or not isinstance(rise.value, Decimal):
        return None
    if rise.value <= 0:
        return None
    hours = (threshold - level) * _DAY_HOURS / rise.value
    micro = (hours * _HOUR_MICROSECONDS).to_integral_value(rounding=ROUND_CEILING)
    try:
        moment = since + timedelta(microseconds=int(micro))
        # Re-screening is worth it after the moment, never before it.
        if moment.second or moment.microsecond:
            moment = moment.replace(second=0, microsecond=0) + _MINUTE
    except OverflowError:  # a rise so slow that the moment is past year 9999
        return None
    from_now = Decimal((moment - now).total_seconds()) / 3600
    rise_unit = f"{unit}/day" if unit else ""
    return Projection(
        rise_per_day=_in_unit(TBIL_RISE, rise.value, rise_unit),
        threshold=_in_unit(TBIL_LEVEL, threshold, unit),
        unit=unit,
        hours=hours,
        at=moment,
        hours_from_now=from_now.quantize(Decimal("0.01"), rounding=ROUND_CEILING),
    )


def margins(
    evaluation: Evaluation,
    facts: Mapping[str, Fact],
    *,
    margin_percent: Decimal,
    now: datetime,
    shown_units: Mapping[str, str] | None = None,
) -> tuple[ConditionMargin, ...]:
    """Every decided numeric condition's distance to its threshold, in order.

    A condition whose fact is missing, censored, outside its window or
    without the ULN its threshold needs gives nothing. ``shown_units`` maps a
    variable to the unit its value is shown in (``entered_units``); the rest
    are shown in their canonical unit. ``now`` (timezone-aware) is what a
    projection's ``hours_from_now`` counts from; a TBil value without a
    collection time is projected from the screening time, else from ``now``.
    Raises ValueError for a margin outside 0-100 or a naive ``now``.
    """
    margin = Decimal(margin_percent)
    if not margin.is_finite() or not 0 <= margin <= _HUNDRED:
        raise ValueError(f"the near-miss margin must be 0-100 %, not {margin_percent}")
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    units = shown_units or {}
    found = []
    for result in evaluation.criteria:
        for spec in result.spec.conditions:
            if spec.operator not in NUMERIC_OPERATORS:
                continue
            if VARIABLES[spec.variable].kind is not Kind.NUMBER:
                continue
            fact = facts.get(spec.variable)
            if fact is None or fact.comparator or not isinstance(fact.value, Decimal):
                continue
            holds = condition_holds(spec, fact, result.at)
            threshold = _nearest(spec, fact) if holds is not None else None
            if threshold is None:
                continue
            distance = fact.value - threshold
            near = abs(distance) * _HUNDRED <= margin * abs(threshold)
            percent = distance * _HUNDRED / abs(threshold) if threshold else None
            unit = _unit_shown(spec.variable, units.get(spec.variable))
            projection = None
            if spec.variable == TBIL_LEVEL and spec.operator in _RISING and not holds:
                projection = _projection(
                    fact.value,
                    threshold,
                    facts.get(TBIL_RISE),
                    since=fact.time or result.at or now,
                    now=now,
                    unit=unit,
                )
            found.append(
                ConditionMargin(
                    code=result.code,
                    variable=spec.variable,
                    value=_in_unit(spec.variable, fact.value, unit),
                    threshold=_in_unit(spec.variable, threshold, unit),
                    unit=unit,
                    distance=_in_unit(spec.variable, distance, unit),
                    percent=percent,
                    near_miss=near,
                    holds=holds,
                    projection=projection,
                )
            )
    return tuple(found)
