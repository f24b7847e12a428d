"""The eligibility engine: criteria as data, three outcomes, every criterion decided.

Pure Python. The engine takes plain criterion specs (built from the database rows
by ``screening.criteria``) and a mapping of facts about one candidate (built by
``screening.domain.candidate``), and returns one result per criterion, each with a
reason that names the values and thresholds used, and the candidate's decision.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

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


@dataclass(frozen=True, slots=True)
class Fact:
    """One known or unknown fact about the candidate.

    ``value`` is None when the fact is not available; ``missing`` then names the
    inputs that would decide it (defaults to the variable's own inputs).
    ``uln`` is a lab's own upper limit of normal given with a marker's value.
    ``note`` is shown after the value (for example the interval of a rise).
    """

    value: Decimal | str | bool | None
    uln: Decimal | None = None
    note: str = ""
    missing: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ConditionResult:
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


@dataclass(frozen=True, slots=True)
class CriterionResult:
    code: str
    kind: CriterionKind
    outcome: Outcome
    reason: str
    conditions: tuple[ConditionResult, ...]
    missing: tuple[str, ...] = ()

    @property
    def blocking(self) -> bool:
        """True when this result alone makes the candidate ineligible."""
        if self.kind is CriterionKind.INCLUSION:
            return self.outcome is Outcome.NOT_MET
        return self.outcome is Outcome.MET


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


def format_number(value: Decimal, *, differs_from: Decimal | None = None) -> str:
    """Show a Decimal plainly: no exponent, no trailing zeros, at most 3 places.

    When rounding to 3 places would make the value look equal to
    ``differs_from`` (a threshold it is compared with), it is shown in full.
    """
    if value == value.to_integral_value():
        return f"{value.to_integral_value() + 0:f}"
    shown = value
    if value.as_tuple().exponent < -3:
        shown = value.quantize(Decimal("0.001"))
        if differs_from is not None and shown == differs_from != value:
            shown = value
    return f"{shown.normalize():f}"


def _with_unit(value: Decimal, unit: str, *thresholds: Decimal) -> str:
    shown = format_number(value)
    for threshold in thresholds:
        if threshold is not None:
            shown = format_number(value, differs_from=threshold)
            if shown != format_number(value):
                break
    return f"{shown} {unit}" if unit else shown


def _compare(op: Operator, value: Decimal, threshold: Decimal) -> bool:
    if op is Operator.GT:
        return value > threshold
    if op is Operator.GTE:
        return value >= threshold
    if op is Operator.LT:
        return value < threshold
    return value <= threshold


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _evaluate_condition(spec: ConditionSpec, fact: Fact | None) -> ConditionResult:
    variable = VARIABLES[spec.variable]
    if fact is None or fact.value is None:
        missing = (fact.missing if fact and fact.missing else ()) or variable.inputs
        return _result(spec.variable, Outcome.UNKNOWN, "unknown", missing=missing)
    value = fact.value
    op = spec.operator

    if op in BOOLEAN_OPERATORS:
        holds = value is (op is Operator.IS_TRUE)
        parts = {"value": _yes_no(bool(value)), "relation": ":"}
    elif variable.kind is Kind.CATEGORY:
        holds = value in spec.values
        parts = {
            "value": str(value),
            "relation": "in" if holds else "not in",
            "threshold": ", ".join(spec.values),
        }
    elif op is Operator.BETWEEN:
        holds = spec.low <= value <= spec.high
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
        holds = value == spec.low
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
        holds = _compare(op, value, threshold)
        parts = {
            "value": _with_unit(value, variable.unit, threshold),
            "relation": _SYMBOL[op] if holds else _NEGATION[op],
            "threshold": format_number(threshold),
            "source": source,
        }
    outcome = Outcome.MET if holds else Outcome.NOT_MET
    return _result(spec.variable, outcome, note=fact.note, **parts)


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
    results = tuple(
        _evaluate_condition(c, facts.get(c.variable)) for c in spec.conditions
    )
    outcomes = {r.outcome for r in results}
    if Outcome.MET in outcomes:
        outcome = Outcome.MET
    elif Outcome.UNKNOWN in outcomes:
        outcome = Outcome.UNKNOWN
    else:
        outcome = Outcome.NOT_MET
    if not results:
        outcome = Outcome.UNKNOWN
    missing: tuple[str, ...] = ()
    if outcome is Outcome.UNKNOWN:
        missing = tuple(dict.fromkeys(m for r in results for m in r.missing))
    reason = "; ".join(r.reason for r in results) or "no machine-checkable condition"
    return CriterionResult(spec.code, spec.kind, outcome, reason, results, missing)


def evaluate(
    criteria: Sequence[CriterionSpec], facts: Mapping[str, Fact]
) -> Evaluation:
    """Decide every criterion, then the candidate.

    INELIGIBLE when any inclusion is NOT_MET or any exclusion is MET, even if other
    data are missing; otherwise INCOMPLETE when any criterion is UNKNOWN, with the
    inputs that would decide them; otherwise ELIGIBLE.
    """
    results = tuple(evaluate_criterion(spec, facts) for spec in criteria)
    blocking = tuple(r.code for r in results if r.blocking)
    unknown = tuple(r.code for r in results if r.outcome is Outcome.UNKNOWN)
    to_collect = tuple(
        dict.fromkeys(
            m for r in results if r.outcome is Outcome.UNKNOWN for m in r.missing
        )
    )
    if blocking:
        decision = Decision.INELIGIBLE
    elif unknown:
        decision = Decision.INCOMPLETE
    else:
        decision = Decision.ELIGIBLE
    return Evaluation(decision, results, blocking, unknown, to_collect)
