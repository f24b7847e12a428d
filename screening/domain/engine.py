"""The eligibility engine: criteria as data, three outcomes, every criterion decided.

Pure Python. The engine takes plain criterion specs (built from the database rows
by ``screening.criteria``) and a mapping of facts about one candidate (built by
``screening.domain.facts``), and returns one result per criterion, each with a
reason that names the values and thresholds used, and the candidate's decision.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple

from .variables import (
    VARIABLES,
    Kind,
    ThresholdUnitError,
    takes_lab_uln,
    threshold_factor,
    uln_inputs,
)


class Operator(StrEnum):
    GT = "GT"
    GTE = "GTE"
    LT = "LT"
    LTE = "LTE"
    BETWEEN = "BETWEEN"
    # Between, both bounds excluded: above ``low`` and below ``high``.
    GT_LT = "GT_LT"
    EQ = "EQ"
    IN = "IN"
    IS_TRUE = "IS_TRUE"
    IS_FALSE = "IS_FALSE"


class CriterionKind(StrEnum):
    INCLUSION = "INCLUSION"
    EXCLUSION = "EXCLUSION"


class Outcome(StrEnum):
    MET = "MET"
    NOT_MET = "NOT_MET"
    UNKNOWN = "UNKNOWN"


class Decision(StrEnum):
    ELIGIBLE = "ELIGIBLE"
    INELIGIBLE = "INELIGIBLE"
    INCOMPLETE = "INCOMPLETE"


NUMERIC_OPERATORS = frozenset(
    {
        Operator.GT,
        Operator.GTE,
        Operator.LT,
        Operator.LTE,
        Operator.BETWEEN,
        Operator.GT_LT,
    }
)
# The operators with two bounds: BETWEEN includes them, GT_LT excludes them.
RANGE_OPERATORS = frozenset({Operator.BETWEEN, Operator.GT_LT})
BOOLEAN_OPERATORS = frozenset({Operator.IS_TRUE, Operator.IS_FALSE})


class SpecError(ValueError):
    """A criterion spec that the engine cannot evaluate (bad variable or shape)."""


# The operators a laboratory's own ULN may replace the threshold of ("above").
ULN_REPLACEABLE = frozenset({Operator.GT, Operator.GTE})
# The units a "k x ULN" row may carry for its factor k.
RELATIVE_UNITS = frozenset({"", "x ULN", "\u00d7 ULN"})


@dataclass(frozen=True, slots=True)
class ConditionSpec:
    """One machine-checkable condition; thresholds are in the variable's canonical unit.

    ``unit`` is "" or a spelling of the canonical unit (convert a threshold
    typed in another unit with ``variables.threshold_to_canonical`` first).

    ``supporting``: when it holds, the criterion is MET; when it is unknown, it
    does not keep the criterion UNKNOWN once the other (principal) conditions
    are decided, and its inputs are not asked for. A criterion whose conditions
    are all supporting has no principal condition: they are then decided as
    ordinary conditions (otherwise a criterion with no data at all would be
    NOT_MET).

    ``lookback_hours``: a value collected more than this many hours before the
    screening time is UNKNOWN ("collected ..., older than N h"); a value
    without a collection time, and a computed one without, is accepted. None:
    no window (the caller resolves a version's default into each spec).

    ``relative_to_uln``: the value is compared with k x the laboratory's ULN
    entered with it, ``low`` (and ``high`` for a range) being k; without a ULN
    the condition is UNKNOWN and asks for it.

    ``lab_uln_replaces``: a laboratory's own ULN entered with the value
    replaces ``low`` ("above" and "at or above" only). None keeps the
    behaviour before the choice was data: replaced for a marker's "above".
    """

    variable: str
    operator: Operator
    low: Decimal | None = None
    high: Decimal | None = None
    values: tuple[str, ...] = ()
    unit: str = ""
    supporting: bool = False
    lookback_hours: int | None = None
    relative_to_uln: bool = False
    lab_uln_replaces: bool | None = None
    # The comparison, compiled once from the fields above: Fact -> bool.
    holds: Callable[["Fact"], bool] = field(
        init=False, repr=False, compare=False, default=None
    )
    # ``lab_uln_replaces`` resolved: True when a lab's ULN replaces ``low``.
    uln_replaces: bool = field(init=False, repr=False, compare=False, default=False)
    # A window or a ULN multiple: deciding needs more than the compiled check.
    contextual: bool = field(init=False, repr=False, compare=False, default=False)

    def __post_init__(self):
        variable = VARIABLES.get(self.variable)
        if variable is None:
            raise SpecError(f"unknown variable {self.variable!r}")
        try:
            op = Operator(self.operator)
        except ValueError:
            raise SpecError(f"unknown operator {self.operator!r}") from None
        # Evaluation compares operators by identity: keep the enum member.
        object.__setattr__(self, "operator", op)
        self._check_rich(variable, op)
        if op in BOOLEAN_OPERATORS:
            ok = variable.kind is Kind.BOOLEAN
        elif op in RANGE_OPERATORS:
            # An open range with equal bounds holds for no value at all.
            ok = (
                variable.kind is Kind.NUMBER
                and self.low is not None
                and self.high is not None
                and (
                    self.low <= self.high
                    if op is Operator.BETWEEN
                    else self.low < self.high
                )
            )
        elif op in NUMERIC_OPERATORS:
            ok = variable.kind is Kind.NUMBER and self.low is not None
        elif op is Operator.EQ:
            ok = (
                (self.low is not None)
                if variable.kind is Kind.NUMBER
                else (len(self.values) == 1 and variable.kind is Kind.CATEGORY)
            )
        else:  # IN
            ok = variable.kind is Kind.CATEGORY and len(self.values) > 0
        if not ok:
            raise SpecError(f"{op} does not fit {self.variable} with these values")
        object.__setattr__(self, "holds", _compile(self, variable))

    def _check_rich(self, variable, op: Operator) -> None:
        """Check the window, the ULN choices and the unit; resolve the ULN choice."""
        for name in ("supporting", "relative_to_uln"):
            if not isinstance(getattr(self, name), bool):
                raise SpecError(f"{name} must be true or false")
        hours = self.lookback_hours
        if hours is not None and (
            isinstance(hours, bool) or not isinstance(hours, int) or hours <= 0
        ):
            raise SpecError(f"lookback_hours must be a whole number above 0: {hours!r}")
        replaces = self.lab_uln_replaces
        if replaces is not None and not isinstance(replaces, bool):
            raise SpecError("lab_uln_replaces must be true, false or unset")
        if self.relative_to_uln:
            if op not in NUMERIC_OPERATORS:
                raise SpecError(f"{op} cannot compare with a multiple of the ULN")
            if not takes_lab_uln(self.variable):
                raise SpecError(f"{self.variable} takes no laboratory upper limit")
            if replaces:
                raise SpecError("a threshold relative to the ULN is not replaced by it")
            if (self.low is not None and self.low <= 0) or (
                self.high is not None and self.high <= 0
            ):
                raise SpecError("a multiple of the ULN must be above 0")
            if self.unit.strip() not in RELATIVE_UNITS:
                raise SpecError(f"a multiple of the ULN has no unit, not {self.unit!r}")
            resolved = False
        else:
            if replaces and (
                op not in ULN_REPLACEABLE or not takes_lab_uln(self.variable)
            ):
                raise SpecError(
                    f"a laboratory's ULN cannot replace the threshold of "
                    f"{self.variable} {op}"
                )
            resolved = (
                replaces
                if replaces is not None
                else (variable.has_lab_uln and op is Operator.GT)
            )
            try:
                canonical = threshold_factor(self.variable, self.unit) == 1
            except ThresholdUnitError as exc:
                raise SpecError(str(exc)) from None
            if not canonical:
                raise SpecError(
                    f"the threshold of {self.variable} must be in "
                    f"{variable.unit or 'no unit'}, not {self.unit!r}"
                )
        object.__setattr__(self, "uln_replaces", resolved)
        object.__setattr__(
            self, "contextual", hours is not None or self.relative_to_uln
        )


def _compile(spec: "ConditionSpec", variable) -> Callable[["Fact"], bool]:
    """The condition as one small function of a known fact.

    A relative condition's function is only called with a fact that has a ULN.
    """
    op, low, high = spec.operator, spec.low, spec.high
    if spec.relative_to_uln:
        if op is Operator.BETWEEN:
            return lambda fact: low * fact.uln <= fact.value <= high * fact.uln
        if op is Operator.GT_LT:
            return lambda fact: low * fact.uln < fact.value < high * fact.uln
        if op is Operator.GT:
            return lambda fact: fact.value > low * fact.uln
        if op is Operator.GTE:
            return lambda fact: fact.value >= low * fact.uln
        if op is Operator.LT:
            return lambda fact: fact.value < low * fact.uln
        return lambda fact: fact.value <= low * fact.uln
    if op is Operator.IS_TRUE:
        return lambda fact: fact.value is True
    if op is Operator.IS_FALSE:
        return lambda fact: fact.value is False
    if op is Operator.IN:
        wanted = frozenset(spec.values)
        return lambda fact: fact.value in wanted
    if op is Operator.EQ:
        target = low if variable.kind is Kind.NUMBER else spec.values[0]
        return lambda fact: fact.value == target
    if op is Operator.BETWEEN:
        return lambda fact: low <= fact.value <= high
    if op is Operator.GT_LT:
        return lambda fact: low < fact.value < high
    if op is Operator.GT and spec.uln_replaces:
        # The lab's own upper limit of normal, when given, replaces the row's.
        return lambda fact: fact.value > (low if fact.uln is None else fact.uln)
    if op is Operator.GTE and spec.uln_replaces:
        return lambda fact: fact.value >= (low if fact.uln is None else fact.uln)
    if op is Operator.GT:
        return lambda fact: fact.value > low
    if op is Operator.GTE:
        return lambda fact: fact.value >= low
    if op is Operator.LT:
        return lambda fact: fact.value < low
    return lambda fact: fact.value <= low


def threshold_for(spec: "ConditionSpec", fact: "Fact") -> Decimal | None:
    """The threshold a numeric condition compares with (a lab's ULN may replace it).

    For a condition relative to the ULN, k x the fact's ULN (None without one).
    """
    if spec.relative_to_uln:
        return None if fact.uln is None else spec.low * fact.uln
    if spec.uln_replaces and fact.uln is not None:
        return fact.uln
    return spec.low


def bounds_for(spec: "ConditionSpec", fact: "Fact") -> tuple[Decimal, Decimal]:
    """A range condition's bounds (k x ULN for a relative one with a ULN)."""
    if spec.relative_to_uln and fact.uln is not None:
        return spec.low * fact.uln, spec.high * fact.uln
    return spec.low, spec.high


def condition_holds(
    spec: "ConditionSpec", fact: "Fact | None", at: datetime | None = None
) -> bool | None:
    """True, False, or None when the fact does not decide the condition.

    None for a missing fact, a value collected outside the condition's window
    before the screening time ``at`` (or with no screening time to check it
    against), a relative condition without a ULN, and a censored value that
    cannot be told.
    """
    if fact is None or fact.value is None:
        return None
    if spec.lookback_hours is not None and fact.time is not None:
        if at is None or at - fact.time > timedelta(hours=spec.lookback_hours):
            return None
    if spec.relative_to_uln and fact.uln is None:
        return None
    return spec.holds(fact) if not fact.comparator else censored_holds(spec, fact)


# For a censored value "<L" the result lies in an interval below L (open or
# closed); for ">L", above it.
_BELOW = {"<": True, "<=": False}
_ABOVE = {">": True, ">=": False}


def censored_holds(spec: "ConditionSpec", fact: "Fact") -> bool | None:
    """True, False or None (cannot tell) for a censored numeric fact.

    "<L" is not above U when L <= U and cannot be told otherwise; ">L" is above
    U when L >= U (">=L" when L > U). The same interval reasoning decides the
    other operators.
    """
    op, limit = spec.operator, fact.value
    if op not in NUMERIC_OPERATORS and op is not Operator.EQ:
        return None
    if spec.relative_to_uln and fact.uln is None:
        return None
    if fact.comparator in _BELOW:
        low, low_open = None, False
        high, high_open = limit, _BELOW[fact.comparator]
    else:
        low, low_open = limit, _ABOVE[fact.comparator]
        high, high_open = None, False
    if op is Operator.EQ:
        # A censored value never equals one number; it is not it when outside.
        target = spec.low
        if high is not None and (target > high or (target == high and high_open)):
            return False
        if low is not None and (target < low or (target == low and low_open)):
            return False
        return None
    if op in RANGE_OPERATORS:
        # A half-bounded interval is never wholly inside a range. It is wholly
        # outside when it ends below the range's lower bound (or at it, when
        # either excludes it), or starts above the upper one.
        lower, upper = bounds_for(spec, fact)
        shut = op is Operator.BETWEEN
        if high is not None and (
            high < lower or (high == lower and (high_open or not shut))
        ):
            return False
        if low is not None and (
            low > upper or (low == upper and (low_open or not shut))
        ):
            return False
        return None
    threshold = threshold_for(spec, fact)
    if op in (Operator.GT, Operator.GTE):
        strict = op is Operator.GT
        if low is not None and (
            low > threshold or (low == threshold and (low_open or not strict))
        ):
            return True
        if high is not None and (
            high < threshold or (high == threshold and (strict or high_open))
        ):
            return False
        return None
    strict = op is Operator.LT
    if high is not None and (
        high < threshold or (high == threshold and (high_open or not strict))
    ):
        return True
    if low is not None and (
        low > threshold or (low == threshold and (strict or low_open))
    ):
        return False
    return None


@dataclass(frozen=True, slots=True)
class CriterionSpec:
    code: str
    kind: CriterionKind
    conditions: tuple[ConditionSpec, ...]
    text: str = ""
    # True when some condition is not supporting: only then may a supporting
    # condition's being unknown be passed over (see ConditionSpec).
    has_principal: bool = field(init=False, repr=False, compare=False, default=True)

    def __post_init__(self):
        # An unchecked kind would silently turn an inclusion into an exclusion.
        try:
            kind = CriterionKind(self.kind)
        except ValueError:
            raise SpecError(f"unknown criterion kind {self.kind!r}") from None
        object.__setattr__(self, "kind", kind)
        object.__setattr__(
            self, "has_principal", any(not c.supporting for c in self.conditions)
        )

    def counts_unknown(self, condition: ConditionSpec) -> bool:
        """Whether this condition being unknown keeps the criterion UNKNOWN."""
        return not condition.supporting or not self.has_principal

    def decide(
        self, facts: Mapping[str, "Fact"], at: datetime | None = None
    ) -> "Outcome":
        """MET if any condition holds; UNKNOWN if none holds and one is unknown.

        A supporting condition that is unknown counts only when the criterion
        has no principal condition. ``at`` is the screening time that lookback
        windows count back from.
        """
        unknown = not self.conditions
        principal = self.has_principal
        for condition in self.conditions:
            fact = facts.get(condition.variable)
            if fact is None or fact.value is None:
                if not (condition.supporting and principal):
                    unknown = True
                continue
            if condition.contextual:
                holds = condition_holds(condition, fact, at)
            elif not fact.comparator:
                holds = condition.holds(fact)
            else:
                holds = censored_holds(condition, fact)
            if holds is None:
                if not (condition.supporting and principal):
                    unknown = True
            elif holds:
                return Outcome.MET
        return Outcome.UNKNOWN if unknown else Outcome.NOT_MET


class Fact(NamedTuple):
    """One known or unknown fact about the candidate (immutable; cheap to build).

    ``value`` is None when the fact is not available; ``missing`` then names the
    inputs that would decide it (defaults to the variable's own inputs).
    ``uln`` is a lab's own upper limit of normal given with a marker's value.
    ``note`` is shown after the value (for example the interval of a rise).
    A censored fact (``comparator``) is decided with three-valued logic: it
    meets a condition when every value it admits does, fails it when none
    does, and is unknown otherwise.
    """

    value: Decimal | str | bool | None
    uln: Decimal | None = None
    note: str = ""
    missing: tuple[str, ...] = ()
    # A censored lab result ("<", "<=", ">", ">="): ``value`` is the limit.
    comparator: str = ""
    # Why an unknown fact is unknown: "pending" (awaited) or "not_done".
    status: str = ""
    # When the value was collected (timezone-aware), for lookback windows; for
    # a computed value, the oldest collection it is computed from.
    time: datetime | None = None


class ConditionResult(NamedTuple):
    """One condition's outcome, with its reason in words and in parts.

    The parts (value shown with its unit, relation, threshold, bounds of a range,
    source of a limit, note) let a page say the same reason in another language.
    """

    variable: str
    outcome: Outcome
    reason: str
    missing: tuple[str, ...] = ()
    value: str = ""
    relation: str = ""
    threshold: str = ""
    bounds: str = ""
    source: str = ""
    note: str = ""
    # Richer conditions (shown only when set, so earlier details keep their form):
    # the collection time and window of a value outside it ("2026-06-01 08:00",
    # "72"), the factor k and the lab's ULN of a "k x ULN" threshold, and
    # whether the condition is a supporting one.
    collected: str = ""
    lookback_hours: str = ""
    factor: str = ""
    uln: str = ""
    supporting: bool = False

    def as_dict(self) -> dict:
        detail = {
            "variable": self.variable,
            "outcome": self.outcome.value,
            "value": self.value,
            "relation": self.relation,
            "threshold": self.threshold,
            "bounds": self.bounds,
            "source": self.source,
            "note": self.note,
            "missing": list(self.missing),
        }
        for name in ("collected", "lookback_hours", "factor", "uln"):
            if getattr(self, name):
                detail[name] = getattr(self, name)
        if self.supporting:
            detail["supporting"] = True
        return detail


class CriterionResult:
    """One criterion's outcome for one candidate.

    The outcome is decided at once; the reason and the per-condition results are
    worked out only when asked for, since most callers count outcomes.
    """

    __slots__ = ("spec", "facts", "outcome", "at", "_conditions")

    def __init__(
        self,
        spec: CriterionSpec,
        facts: Mapping[str, Fact],
        outcome,
        at: datetime | None = None,
    ):
        self.spec = spec
        self.facts = facts
        self.outcome = outcome
        self.at = at
        self._conditions = None

    def __repr__(self):
        return f"CriterionResult({self.code}, {self.outcome})"

    @property
    def code(self) -> str:
        return self.spec.code

    @property
    def kind(self) -> CriterionKind:
        return self.spec.kind

    @property
    def blocking(self) -> bool:
        """True when this result alone makes the candidate ineligible."""
        if self.spec.kind is CriterionKind.INCLUSION:
            return self.outcome is Outcome.NOT_MET
        return self.outcome is Outcome.MET

    @property
    def conditions(self) -> tuple[ConditionResult, ...]:
        if self._conditions is None:
            self._conditions = tuple(
                _evaluate_condition(*_cache_key(c, self.facts.get(c.variable), self.at))
                if c.contextual
                else _evaluate_condition(c, _timeless(self.facts.get(c.variable)), None)
                for c in self.spec.conditions
            )
        return self._conditions

    @property
    def reason(self) -> str:
        return (
            "; ".join(r.reason for r in self.conditions)
            or "no machine-checkable condition"
        )

    @property
    def missing(self) -> tuple[str, ...]:
        """For an UNKNOWN criterion, the inputs that would decide it."""
        if self.outcome is not Outcome.UNKNOWN:
            return ()
        found: dict[str, None] = {}
        for condition in self.spec.conditions:
            if self.spec.counts_unknown(condition):
                fact = self.facts.get(condition.variable)
                found.update(dict.fromkeys(condition_missing(condition, fact, self.at)))
        return tuple(found)


def condition_missing(
    spec: ConditionSpec, fact: Fact | None, at: datetime | None = None
) -> tuple[str, ...]:
    """The inputs that would decide an undecided condition (() when decided).

    A missing fact names its own (or the variable's) inputs; a value outside
    the window asks for the value again; no screening time asks for the
    screening date; a relative condition without a ULN asks for the ULN.
    """
    variable = VARIABLES[spec.variable]
    if fact is None or fact.value is None:
        return (fact.missing if fact is not None else ()) or variable.inputs
    if spec.lookback_hours is not None and fact.time is not None:
        if at is None:
            return ("screening_date",)
        if at - fact.time > timedelta(hours=spec.lookback_hours):
            return variable.inputs
    if spec.relative_to_uln and fact.uln is None:
        return uln_inputs(spec.variable)
    if fact.comparator and censored_holds(spec, fact) is None:
        return variable.inputs
    return ()


@dataclass(frozen=True, slots=True)
class Evaluation:
    decision: Decision
    criteria: tuple[CriterionResult, ...]
    blocking: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    to_collect: tuple[str, ...] = field(default=())


_SYMBOL = {
    Operator.GT: ">",
    Operator.GTE: ">=",
    Operator.LT: "<",
    Operator.LTE: "<=",
}
# The relation that holds when a comparison fails, for the reason text.
_NEGATION = {
    Operator.GT: "<=",
    Operator.GTE: "<",
    Operator.LT: ">=",
    Operator.LTE: ">",
}


_THOUSANDTH = Decimal("0.001")


def format_number(value: Decimal, *, differs_from: Decimal | None = None) -> str:
    """Show a Decimal plainly: no exponent, no trailing zeros, at most 3 places.

    When rounding to 3 places would make the value look equal to
    ``differs_from`` (a threshold it is compared with), it is shown in full.
    """
    exponent = value.as_tuple().exponent
    if exponent >= 0:
        return str(int(value))
    if exponent >= -3:  # shown exactly
        text = f"{value:f}".rstrip("0").rstrip(".")
        return "0" if text == "-0" else text
    shown = value.quantize(_THOUSANDTH) + 0  # + 0 turns -0.000 into 0.000
    if differs_from is not None and shown == differs_from != value:
        shown = value
    text = f"{shown:f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _with_unit(value: Decimal, unit: str, *thresholds: Decimal) -> str:
    shown = format_number(value)
    if value.as_tuple().exponent < -3:  # rounded for display: keep it honest
        for threshold in thresholds:
            if threshold is not None:
                candidate = format_number(value, differs_from=threshold)
                if candidate != shown:
                    shown = candidate
                    break
    return f"{shown} {unit}" if unit else shown


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


# Reasons repeat (checklist answers, categories, common lab values): a result
# depends only on the condition and the fact, both immutable, so it is shared.
# The screening time and the fact's collection time matter only to a condition
# with a window; ``_cache_key`` leaves them out otherwise, so results stay shared.
def _cache_key(spec: ConditionSpec, fact: Fact | None, at: datetime | None):
    if fact is None or fact.time is None:
        return spec, fact, None
    if spec.lookback_hours is None:
        return spec, fact._replace(time=None), None
    return spec, fact, at


def _timeless(fact: Fact | None) -> Fact | None:
    return fact if fact is None or fact.time is None else fact._replace(time=None)


def _moment(time: datetime, at: datetime | None) -> str:
    """A collection time as shown: in the screening time's zone when there is one."""
    shown = time.astimezone(at.tzinfo) if at is not None and at.tzinfo else time
    return shown.strftime("%Y-%m-%d %H:%M")


def _shown_value(spec: ConditionSpec, variable, fact: Fact) -> str:
    if variable.kind is Kind.BOOLEAN:
        return _yes_no(bool(fact.value))
    if variable.kind is Kind.CATEGORY:
        return str(fact.value)
    return fact.comparator + _with_unit(fact.value, variable.unit)


def _factor_text(spec: ConditionSpec) -> str:
    if spec.operator in RANGE_OPERATORS:
        return _bounds_text(spec.operator, spec.low, spec.high)
    return format_number(spec.low)


def _bounds_text(op: Operator, low: Decimal, high: Decimal) -> str:
    """A range as reasons show it: "20-50" with its bounds, "(5, 20)" without."""
    if op is Operator.GT_LT:
        return f"({format_number(low)}, {format_number(high)})"
    return f"{format_number(low)}-{format_number(high)}"


def _source(spec: ConditionSpec, variable, fact: Fact) -> str:
    """Which limit decided a numeric comparison, when a lab's ULN is in play.

    "lab ULN": the laboratory's own limit replaced the row's threshold;
    "default ULN": it could have, but none was given; "protocol threshold":
    the row says a lab's limit does not replace its threshold; "x lab ULN": the
    threshold is a multiple of the lab's limit. "" otherwise (as before).
    """
    if spec.relative_to_uln:
        return "x lab ULN"
    if spec.uln_replaces:
        return "lab ULN" if fact.uln is not None else "default ULN"
    if (
        spec.lab_uln_replaces is False
        and spec.operator in ULN_REPLACEABLE
        and takes_lab_uln(spec.variable)
    ):
        return "protocol threshold"
    return ""


def _window_result(spec, variable, fact, at) -> ConditionResult | None:
    """The UNKNOWN result of a value outside its window (None when inside)."""
    if spec.lookback_hours is None or fact.time is None:
        return None
    hours = str(spec.lookback_hours)
    if at is not None and at - fact.time <= timedelta(hours=spec.lookback_hours):
        return None
    value = _shown_value(spec, variable, fact)
    collected = _moment(fact.time, at)
    if at is None:
        relation = "no screening time"
        reason = (
            f"{variable.label} {value} collected {collected}: no screening date "
            f"to check the {hours} h window"
        )
    else:
        relation = "too old"
        reason = f"{variable.label} {value} collected {collected}, older than {hours} h"
    return ConditionResult(
        variable=spec.variable,
        outcome=Outcome.UNKNOWN,
        reason=reason,
        missing=condition_missing(spec, fact, at),
        value=value,
        relation=relation,
        note=fact.note,
        collected=collected,
        lookback_hours=hours,
        supporting=spec.supporting,
    )


@lru_cache(maxsize=4096)
def _evaluate_condition(
    spec: ConditionSpec, fact: Fact | None, at: datetime | None = None
) -> ConditionResult:
    result = _condition_result(spec, fact, at)
    if spec.supporting and not result.supporting:
        result = result._replace(supporting=True)
    return result


def _condition_result(
    spec: ConditionSpec, fact: Fact | None, at: datetime | None
) -> ConditionResult:
    variable = VARIABLES[spec.variable]
    if fact is None or fact.value is None:
        missing = (fact.missing if fact and fact.missing else ()) or variable.inputs
        relation = _STATUS_RELATION.get(fact.status if fact else "", "unknown")
        return _result(spec.variable, Outcome.UNKNOWN, relation, missing=missing)
    outside = _window_result(spec, variable, fact, at)
    if outside is not None:
        return outside
    if spec.relative_to_uln and fact.uln is None:
        value = _shown_value(spec, variable, fact)
        factor = _factor_text(spec)
        return ConditionResult(
            variable=spec.variable,
            outcome=Outcome.UNKNOWN,
            reason=(
                f"{variable.label} {value}: needs the laboratory's upper limit of "
                f"normal (threshold {factor} x ULN)"
            ),
            missing=uln_inputs(spec.variable),
            value=value,
            relation="needs ULN",
            source="x lab ULN",
            note=fact.note,
            factor=factor,
        )
    if fact.comparator:
        return _censored_result(spec, variable, fact)
    value = fact.value
    op = spec.operator
    # The same compiled check that decided the criterion: one source of truth.
    holds = spec.holds(fact)
    relative = {}
    if spec.relative_to_uln:
        relative = {"factor": _factor_text(spec), "uln": format_number(fact.uln)}

    if op in BOOLEAN_OPERATORS:
        parts = {"value": _yes_no(bool(value)), "relation": ":"}
    elif variable.kind is Kind.CATEGORY:
        parts = {
            "value": str(value),
            "relation": "in" if holds else "not in",
            "threshold": ", ".join(spec.values),
        }
    elif op in RANGE_OPERATORS:
        lower, upper = bounds_for(spec, fact)
        parts = {
            "value": _with_unit(value, variable.unit, lower, upper),
            "bounds": _bounds_text(op, lower, upper),
            "source": "x lab ULN" if spec.relative_to_uln else "",
        }
        shut = op is Operator.BETWEEN
        if holds:
            parts["relation"] = "within"
        elif value < lower or (value == lower and not shut):
            parts.update(relation="<" if shut else "<=", threshold=format_number(lower))
        else:
            parts.update(relation=">" if shut else ">=", threshold=format_number(upper))
    elif op is Operator.EQ:
        parts = {
            "value": _with_unit(value, "", spec.low),
            "relation": "=" if holds else "!=",
            "threshold": format_number(spec.low),
        }
    else:
        threshold = threshold_for(spec, fact)
        parts = {
            "value": _with_unit(value, variable.unit, threshold),
            "relation": _SYMBOL[op] if holds else _NEGATION[op],
            "threshold": format_number(threshold),
            "source": _source(spec, variable, fact),
        }
    outcome = Outcome.MET if holds else Outcome.NOT_MET
    return _result(spec.variable, outcome, note=fact.note, **relative, **parts)


_STATUS_RELATION = {"pending": "pending", "not_done": "not done"}
# The relation a censored value has to a threshold: (holds, not, cannot tell).
CENSORED_RELATIONS = {
    Operator.GT: ("above", "not above", "cannot tell if above"),
    Operator.GTE: ("at or above", "not at or above", "cannot tell if at or above"),
    Operator.LT: ("below", "not below", "cannot tell if below"),
    Operator.LTE: ("at or below", "not at or below", "cannot tell if at or below"),
    Operator.BETWEEN: ("within", "outside", "cannot tell if within"),
    Operator.GT_LT: ("within", "outside", "cannot tell if within"),
    Operator.EQ: ("equal to", "not equal to", "cannot tell if equal to"),
}


def _censored_result(spec, variable, fact) -> ConditionResult:
    holds = censored_holds(spec, fact)
    if spec.operator in RANGE_OPERATORS:
        lower, upper = bounds_for(spec, fact)
        threshold = _bounds_text(spec.operator, lower, upper)
    else:
        threshold = format_number(threshold_for(spec, fact))
    met, not_met, unknown = CENSORED_RELATIONS[spec.operator]
    relation, outcome = {
        True: (met, Outcome.MET),
        False: (not_met, Outcome.NOT_MET),
        None: (unknown, Outcome.UNKNOWN),
    }[holds]
    source = "" if spec.operator is Operator.EQ else _source(spec, variable, fact)
    relative = {}
    suffix = f" ({source})" if source else ""
    if spec.relative_to_uln:
        relative = {"factor": _factor_text(spec), "uln": format_number(fact.uln)}
        suffix = f" ({relative['factor']} x lab ULN {relative['uln']})"
    value = fact.comparator + _with_unit(fact.value, variable.unit)
    return ConditionResult(
        variable=spec.variable,
        outcome=outcome,
        reason=f"{variable.label} {value}, {relation} {threshold}" + suffix,
        missing=variable.inputs if holds is None else (),
        value=value,
        relation=relation,
        threshold=threshold,
        source=source,
        **relative,
    )


def _result(
    variable_name: str,
    outcome: Outcome,
    relation: str,
    *,
    value: str = "",
    threshold: str = "",
    bounds: str = "",
    source: str = "",
    note: str = "",
    missing: tuple[str, ...] = (),
    factor: str = "",
    uln: str = "",
) -> ConditionResult:
    variable = VARIABLES[variable_name]
    label = variable.label
    # A multiple of the lab's ULN names the factor and the limit it multiplied.
    suffix = f" ({factor} x lab ULN {uln})" if factor else f" ({source})"
    if relation == "unknown":
        wording = "not answered" if variable.kind is Kind.BOOLEAN else "not available"
        reason = f"{label} {wording}"
    elif relation in _STATUS_RELATION.values():
        reason = f"{label} {relation}"
    elif relation == ":":
        reason = f"{label}: {value}"
    elif relation == "within":
        reason = f"{label} {value} within {bounds}"
        if factor:
            reason += suffix
    else:
        reason = f"{label} {value} {relation} {threshold}"
        if bounds:
            reason += f" (outside {bounds})"
        if source:
            reason += suffix
    if note:
        reason += f" ({note})"
    return ConditionResult(
        variable=variable_name,
        outcome=outcome,
        reason=reason,
        missing=missing,
        value=value,
        relation=relation,
        threshold=threshold,
        bounds=bounds,
        source=source,
        note=note,
        factor=factor,
        uln=uln,
    )


def evaluate_criterion(
    spec: CriterionSpec,
    facts: Mapping[str, Fact],
    *,
    screening_time: datetime | None = None,
) -> CriterionResult:
    """MET if any condition holds; UNKNOWN if none holds and one is unknown."""
    at = _screening_time(screening_time)
    return CriterionResult(spec, facts, spec.decide(facts, at), at)


def _screening_time(at: datetime | None) -> datetime | None:
    if at is not None and at.utcoffset() is None:
        raise ValueError("the screening time must be timezone-aware")
    return at


def evaluate(
    criteria: Sequence[CriterionSpec],
    facts: Mapping[str, Fact],
    *,
    screening_time: datetime | None = None,
) -> Evaluation:
    """Decide every criterion, then the candidate.

    INELIGIBLE when any inclusion is NOT_MET or any exclusion is MET, even if other
    data are missing; otherwise INCOMPLETE when any criterion is UNKNOWN, with the
    inputs that would decide them; otherwise ELIGIBLE. Every criterion is
    decided: none is skipped after a failure.

    ``screening_time`` (timezone-aware) is what lookback windows count back
    from: ``facts.screening_time`` (the record time, at the latest the end of
    the screening date). Without it, a value with a collection time under a
    window is UNKNOWN and asks for the screening date.
    """
    at = _screening_time(screening_time)
    results = []
    blocking = []
    unknown = []
    to_collect: dict[str, None] = {}
    inclusion, not_met = CriterionKind.INCLUSION, Outcome.NOT_MET
    for spec in criteria:
        outcome = spec.decide(facts, at)
        result = CriterionResult(spec, facts, outcome, at)
        results.append(result)
        if outcome is Outcome.UNKNOWN:
            unknown.append(spec.code)
            to_collect.update(dict.fromkeys(result.missing))
        elif (outcome is not_met) is (spec.kind is inclusion):
            blocking.append(spec.code)
    if blocking:
        decision = Decision.INELIGIBLE
    elif unknown:
        decision = Decision.INCOMPLETE
    else:
        decision = Decision.ELIGIBLE
    return Evaluation(
        decision, tuple(results), tuple(blocking), tuple(unknown), tuple(to_collect)
    )
