"""The engine's specs from criteria data: one builder, for a row and a snapshot.

A condition's data is the mapping a record's criteria snapshot stores for it
(``screening/criteria.py``): ``variable``, ``operator``, ``value_low`` and
``value_high`` (text, or a Decimal from a row), ``values`` (comma-separated
categories), ``unit``, ``supporting``, ``lookback_hours``, ``relative_to_uln``
and ``lab_uln_replaces``. ``trials.models.Condition.to_spec`` and the rebuilding
of a record's criteria from its snapshot both go through ``condition_spec``, so
a record read again is evaluated against exactly the specs it was decided on.
"""

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from screening.domain.engine import (
    ConditionSpec,
    CriterionKind,
    CriterionSpec,
    Operator,
    SpecError,
)
from screening.domain.inputs import INPUTS
from screening.domain.variables import VARIABLES

# The fields of a condition's data (a criterion row's, a snapshot's).
SPEC_FIELDS = (
    "variable",
    "operator",
    "value_low",
    "value_high",
    "values",
    "unit",
    "supporting",
    "lookback_hours",
    "relative_to_uln",
    "lab_uln_replaces",
)

# Variables read from a timed laboratory value: a version's default window applies.
TIMED_VARIABLES = frozenset(
    name
    for name, v in VARIABLES.items()
    if any(key in INPUTS and INPUTS[key].timed for key in v.inputs)
)


def lookback_hours(
    variable: str, own: int | None, default_lookback_hours: int | None
) -> int | None:
    """A condition's window: its own, else the version's for a timed variable."""
    if own is not None:
        return own
    return default_lookback_hours if variable in TIMED_VARIABLES else None


def category_values(values: str | None) -> tuple[str, ...]:
    """The categories of a comma-separated list, trimmed, empty ones dropped."""
    return tuple(v.strip() for v in (values or "").split(",") if v.strip())


def _number(value, name: str) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(value).normalize()
    except (InvalidOperation, TypeError, ValueError):
        raise SpecError(f"{name}: not a number: {value!r}") from None


def condition_spec(
    data: Mapping, *, default_lookback_hours: int | None = None
) -> ConditionSpec:
    """The engine's spec of one condition (raises SpecError if malformed, KeyError
    without a variable or operator).

    ``default_lookback_hours``: the version's window, for a timed variable whose
    data names none (a snapshot already holds the window that applied).
    """
    variable = data["variable"]
    if variable not in VARIABLES:
        raise SpecError(f"unknown variable {variable!r}")
    try:
        operator = Operator(data["operator"])
    except ValueError:
        raise SpecError(f"unknown operator {data['operator']!r}") from None
    return ConditionSpec(
        variable=variable,
        operator=operator,
        low=_number(data.get("value_low"), "value_low"),
        high=_number(data.get("value_high"), "value_high"),
        values=category_values(data.get("values")),
        unit=data.get("unit") or "",
        supporting=bool(data.get("supporting")),
        lookback_hours=lookback_hours(
            variable, data.get("lookback_hours"), default_lookback_hours
        ),
        relative_to_uln=bool(data.get("relative_to_uln")),
        lab_uln_replaces=data.get("lab_uln_replaces"),
    )


def specs_from_snapshot(snapshot: Iterable[Mapping]) -> tuple[CriterionSpec, ...]:
    """The criteria of a snapshot (each entry: ``code``, ``kind``, ``text`` and
    its ``conditions``' data) as the engine sees them.

    Raises ValueError (a SpecError is one), KeyError or TypeError for a snapshot
    the engine cannot read.
    """
    return tuple(
        CriterionSpec(
            code=entry["code"],
            kind=CriterionKind(entry["kind"]),
            conditions=tuple(condition_spec(c) for c in entry.get("conditions", ())),
            text=entry.get("text", ""),
        )
        for entry in snapshot
    )
