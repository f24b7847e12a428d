"""The eligibility engine: criteria as data, three outcomes, every criterion decided.

Pure Python. The engine takes plain criterion specs (built from the database rows
by ``screening.criteria``) and a mapping of facts about one candidate (built by
``screening.domain.facts``), and returns one result per criterion, each with a
reason that names the values and thresholds used, and the candidate's decision.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple

from .variables import VARIABLES, Kind


class Operator(StrEnum):
    GT = "GT"
    GTE = "GTE"
    LT = "LT"
    LTE = "LTE"
    BETWEEN = "BETWEEN"
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
    {Operator.GT, Operator.GTE, Operator.LT, Operator.LTE, Operator.BETWEEN}
)
BOOLEAN_OPERATORS = frozenset({Operator.IS_TRUE, Operator.IS_FALSE})


class SpecError(ValueError):
    """A criterion spec that the engine cannot evaluate (bad variable or shape)."""


@dataclass(frozen=True, slots=True)
class ConditionSpec:
    variable: str
    operator: Operator
    low: Decimal | None = None
    high: Decimal | None = None
    values: tuple[str, ...] = ()
    unit: str = ""
    # The comparison, compiled once from the fields above: Fact -> bool.
    holds: Callable[["Fact"], bool] = field(
        init=False, repr=False, compare=False, default=None
    )

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
        if op in BOOLEAN_OPERATORS:
            ok = variable.kind is Kind.BOOLEAN
        elif op is Operator.BETWEEN:
            ok = (
                variable.kind is Kind.NUMBER
                and self.low is not None
                and self.high is not None
                and self.low <= self.high
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


def _compile(spec: "ConditionSpec", variable) -> Callable[["Fact"], bool]:
    """The condition as one small function of a known fact."""
    op, low, high = spec.operator, spec.low, spec.high
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
    if op is Operator.GT and variable.has_lab_uln:
        # The lab's own upper limit of normal, when given, replaces the row's.
        return lambda fact: fact.value > (low if fact.uln is None else fact.uln)
    if op is Operator.GT:
        return lambda fact: fact.value > low
    if op is Operator.GTE:
        return lambda fact: fact.value >= low
    if op is Operator.LT:
        return lambda fact: fact.value < low
    return lambda fact: fact.value <= low


def threshold_for(spec: "ConditionSpec", fact: "Fact") -> Decimal | None:
    """The threshold a numeric condition compares with (a lab's ULN may replace it)."""
    if (
        spec.operator is Operator.GT
        and VARIABLES[spec.variable].has_lab_uln
        and fact.uln is not None
    ):
        return fact.uln
    return spec.low


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
    if op is Operator.BETWEEN:
        # A half-bounded interval is never wholly inside a range.
        if high is not None and (high < spec.low or (high == spec.low and high_open)):
            return False
        if low is not None and (low > spec.high or (low == spec.high and low_open)):
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

    def __post_init__(self):
        # An unchecked kind would silently turn an inclusion into an exclusion.
        try:
            kind = CriterionKind(self.kind)
        except ValueError:
            raise SpecError(f"unknown criterion kind {self.kind!r}") from None
        object.__setattr__(self, "kind", kind)

    def decide(self, facts: Mapping[str, "Fact"]) -> "Outcome":
        """MET if any condition holds; UNKNOWN if none holds and one is unknown."""
        unknown = not self.conditions
        for condition in self.conditions:
            fact = facts.get(condition.variable)
            if fact is None or fact.value is None:
                unknown = True
                continue
            holds = (
                condition.holds(fact)
                if not fact.comparator
                else censored_holds(condition, fact)
            )
            if holds is None:
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

    def as_dict(self) -> dict:
        return {
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


class CriterionResult:
    """One criterion's outcome for one candidate.

    The outcome is decided at once; the reason and the per-condition results are
    worked out only when asked for, since most callers count outcomes.
    """

    __slots__ = ("spec", "facts", "outcome", "_conditions")

    def __init__(self, spec: CriterionSpec, facts: Mapping[str, Fact], outcome):
        self.spec = spec
        self.facts = facts
        self.outcome = outcome
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
                _evaluate_condition(c, self.facts.get(c.variable))
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
            fact = self.facts.get(condition.variable)
            if (
                fact is None
                or fact.value is None
                or (fact.comparator and censored_holds(condition, fact) is None)
            ):
                inputs = (fact.missing if fact is not None else ()) or VARIABLES[
                    condition.variable
                ].inputs
                found.update(dict.fromkeys(inputs))
        return tuple(found)


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
@lru_cache(maxsize=4096)
def _evaluate_condition(spec: ConditionSpec, fact: Fact | None) -> ConditionResult:
    variable = VARIABLES[spec.variable]
    if fact is None or fact.value is None:
        missing = (fact.missing if fact and fact.missing else ()) or variable.inputs
        relation = _STATUS_RELATION.get(fact.status if fact else "", "unknown")
        return _result(spec.variable, Outcome.UNKNOWN, relation, missing=missing)
    if fact.comparator:
        return _censored_result(spec, variable, fact)
    value = fact.value
    op = spec.operator
    # The same compiled check that decided the criterion: one source of truth.
    holds = spec.holds(fact)

    if op in BOOLEAN_OPERATORS:
        parts = {"value": _yes_no(bool(value)), "relation": ":"}
    elif variable.kind is Kind.CATEGORY:
        parts = {
            "value": str(value),
            "relation": "in" if holds else "not in",
            "threshold": ", ".join(spec.values),
        }
    elif op is Operator.BETWEEN:
        parts = {
            "value": _with_unit(value, variable.unit, spec.low, spec.high),
            "bounds": f"{format_number(spec.low)}-{format_number(spec.high)}",
        }
        if holds:
            parts["relation"] = "within"
        elif value < spec.low:
            parts.update(relation="<", threshold=format_number(spec.low))
        else:
            parts.update(relation=">", threshold=format_number(spec.high))
    elif op is Operator.EQ:
        parts = {
            "value": _with_unit(value, "", spec.low),
            "relation": "=" if holds else "!=",
            "threshold": format_number(spec.low),
        }
    else:
        threshold = spec.low
        source = ""
        if variable.has_lab_uln and op is Operator.GT:
            if fact.uln is not None:
                threshold, source = fact.uln, "lab ULN"
            else:
                source = "default ULN"
        parts = {
            "value": _with_unit(value, variable.unit, threshold),
            "relation": _SYMBOL[op] if holds else _NEGATION[op],
            "threshold": format_number(threshold),
            "source": source,
        }
    outcome = Outcome.MET if holds else Outcome.NOT_MET
    return _result(spec.variable, outcome, note=fact.note, **parts)


_STATUS_RELATION = {"pending": "pending", "not_done": "not done"}
# The relation a censored value has to a threshold: (holds, not, cannot tell).
CENSORED_RELATIONS = {
    Operator.GT: ("above", "not above", "cannot tell if above"),
    Operator.GTE: ("at or above", "not at or above", "cannot tell if at or above"),
    Operator.LT: ("below", "not below", "cannot tell if below"),
    Operator.LTE: ("at or below", "not at or below", "cannot tell if at or below"),
    Operator.BETWEEN: ("within", "outside", "cannot tell if within"),
    Operator.EQ: ("equal to", "not equal to", "cannot tell if equal to"),
}


def _censored_result(spec, variable, fact) -> ConditionResult:
    holds = censored_holds(spec, fact)
    if spec.operator is Operator.BETWEEN:
        threshold = f"{format_number(spec.low)}-{format_number(spec.high)}"
    else:
        threshold = format_number(threshold_for(spec, fact))
    met, not_met, unknown = CENSORED_RELATIONS[spec.operator]
    relation, outcome = {
        True: (met, Outcome.MET),
        False: (not_met, Outcome.NOT_MET),
        None: (unknown, Outcome.UNKNOWN),
    }[holds]
    source = ""
    if variable.has_lab_uln and spec.operator is Operator.GT:
        source = "lab ULN" if fact.uln is not None else "default ULN"
    value = fact.comparator + _with_unit(fact.value, variable.unit)
    return ConditionResult(
        variable=spec.variable,
        outcome=outcome,
        reason=f"{variable.label} {value}, {relation} {threshold}"
        + (f" ({source})" if source else ""),
        missing=variable.inputs if holds is None else (),
        value=value,
        relation=relation,
        threshold=threshold,
        source=source,
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
) -> ConditionResult:
    variable = VARIABLES[variable_name]
    label = variable.label
    if relation == "unknown":
        wording = "not answered" if variable.kind is Kind.BOOLEAN else "not available"
        reason = f"{label} {wording}"
    elif relation in _STATUS_RELATION.values():
        reason = f"{label} {relation}"
    elif relation == ":":
        reason = f"{label}: {value}"
    elif relation == "within":
        reason = f"{label} {value} within {bounds}"
    else:
        reason = f"{label} {value} {relation} {threshold}"
        if bounds:
            reason += f" (outside {bounds})"
        if source:
            reason += f" ({source})"
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
    )


def evaluate_criterion(
    spec: CriterionSpec, facts: Mapping[str, Fact]
) -> CriterionResult:
    """MET if any condition holds; UNKNOWN if none holds and one is unknown."""
    return CriterionResult(spec, facts, spec.decide(facts))


def evaluate(
    criteria: Sequence[CriterionSpec], facts: Mapping[str, Fact]
) -> Evaluation:
    """Decide every criterion, then the candidate.

    INELIGIBLE when any inclusion is NOT_MET or any exclusion is MET, even if other
    data are missing; otherwise INCOMPLETE when any criterion is UNKNOWN, with the
    inputs that would decide them; otherwise ELIGIBLE. Every criterion is
    decided: none is skipped after a failure.
    """
    results = []
    blocking = []
    unknown = []
    to_collect: dict[str, None] = {}
    inclusion, not_met = CriterionKind.INCLUSION, Outcome.NOT_MET
    for spec in criteria:
        outcome = spec.decide(facts)
        result = CriterionResult(spec, facts, outcome)
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
