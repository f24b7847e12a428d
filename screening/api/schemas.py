"""The API's request and response schemas, derived from the input registry.

The candidate's schema documents what the contract's parser accepts, input by
input, from ``screening.domain.inputs.INPUTS``; nothing here lists the inputs
by hand. Its fields are typed ``Any``: pydantic neither refuses nor coerces a
value (``"88,4"``, ``"<0.05"``, ``"男"``, ``2.0``), so the parser alone judges
it and names the problem at the field's path, as it does for the form and the
pre-screening files.
"""

from datetime import date, datetime
from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field, create_model

from screening.domain import units
from screening.domain.engine import CriterionKind, Decision, Outcome
from screening.domain.inputs import (
    CONFIRM_KEY,
    INPUTS,
    LAB_STATUS_WORDS,
    MAX_SERIES,
    NOT_DONE,
    PENDING,
    Input,
    InputKind,
)

_NULL = {"type": "null"}
_STRING = {"type": "string"}
_NUMBER_TEXT = {"type": "string", "examples": ["88.4", "１７１。５"]}
_SCALAR = {"anyOf": [{"type": "string"}, {"type": "number"}]}
_TIME = {
    "type": "string",
    "description": "ISO 8601 or 2025/06/02 08:30; without an offset, the site's zone",
    "examples": ["2026-06-01T08:00+08:00", "2026/06/01 08:00"],
}
_LAB_STATUS = {
    "type": "string",
    "description": "A lab value awaited or not done: "
    + ", ".join(sorted(LAB_STATUS_WORDS)),
    "examples": [PENDING, NOT_DONE],
}


def _units_text(item: Input) -> str:
    aliases = [a for a, unit in units.UNIT_ALIASES.items() if unit in item.units]
    return ", ".join((*item.units, *aliases))


def _lab_object(item: Input) -> dict:
    properties: dict[str, Any] = {
        "value": {
            **_SCALAR,
            "description": "Digits and a dot (full-width too); no commas"
            + ("; a censored result as <0.05 or >1000" if item.censorable else "")
            + "; a JSON number with more digits than a binary float keeps "
            "(170.99999999999999999) is refused: send it as text",
        },
        "time": _TIME,
        "status": _LAB_STATUS,
    }
    if item.kind is InputKind.QUANTITY:
        properties["unit"] = {
            "type": "string",
            "description": f"One of {_units_text(item)}",
            "examples": list(item.units),
        }
    if item.lab_uln:
        properties["uln"] = {**_SCALAR, "description": "The laboratory's upper limit"}
    return {"type": "object", "properties": properties, "additionalProperties": False}


def _request_schema(item: Input) -> dict:
    """What the parser accepts for one input (besides null: not available)."""
    kind = item.kind
    if kind is InputKind.TEXT:
        shapes = [{"type": "string", "examples": [item.example]}]
    elif kind is InputKind.CHOICE:
        shapes = [
            {
                "type": "string",
                "description": "One of "
                + ", ".join(
                    f"{o.value} ({', '.join(o.aliases)})" if o.aliases else o.value
                    for o in item.options
                ),
                "examples": list(item.option_values),
            },
            {"type": "integer"},
        ]
    elif kind is InputKind.DATE:
        shapes = [
            {
                "type": "string",
                "description": "2025-06-02, 2025/6/2 or 2025-6-2",
                "examples": [item.example],
            }
        ]
    elif kind is InputKind.ANSWER:
        shapes = [
            {"type": "boolean"},
            {
                "type": "string",
                "description": "yes, no or pending (是, 否, 待定, ...)",
                "examples": ["yes", "no", PENDING],
            },
        ]
    elif kind is InputKind.SERIES:
        tbil = INPUTS["tbil"]
        shapes = [
            {
                "type": "array",
                "maxItems": MAX_SERIES,
                "items": {
                    "type": "object",
                    "properties": {
                        "time": _TIME,
                        "value": _SCALAR,
                        "unit": {
                            "type": "string",
                            "description": f"One of {_units_text(tbil)}",
                            "examples": list(tbil.units),
                        },
                    },
                    "required": ["time", "value"],
                    "additionalProperties": False,
                },
            }
        ]
    else:  # NUMBER, QUANTITY
        bare = kind is InputKind.NUMBER or len(item.units) <= 1
        # A bare value or a status word stands for the object's value or status.
        shapes = [_lab_object(item), _SCALAR if bare else _LAB_STATUS]
    return {"anyOf": [*shapes, _NULL]}


def _normalised_schema(item: Input) -> dict:
    """How ``contract.normalised`` gives one input: canonical units, exact text."""
    kind = item.kind
    status = {
        "type": "object",
        "properties": {"status": {"enum": [PENDING, NOT_DONE]}},
        "required": ["status"],
        "additionalProperties": False,
    }
    if kind is InputKind.TEXT:
        shapes = [_STRING]
    elif kind is InputKind.CHOICE:
        if item.key == "he_grade":
            shapes = [{"type": "integer", "minimum": 0, "maximum": 4}]
        else:
            shapes = [{"enum": list(item.option_values)}]
    elif kind is InputKind.DATE:
        shapes = [{"type": "string", "format": "date"}]
    elif kind is InputKind.ANSWER:
        shapes = [{"type": "boolean"}, {"const": PENDING}]
    elif kind is InputKind.SERIES:
        shapes = [
            {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "value": _NUMBER_TEXT,
                        "unit": {"const": INPUTS["tbil"].canonical_unit},
                        "time": {"type": "string", "format": "date-time"},
                    },
                    "required": ["value", "unit", "time"],
                    "additionalProperties": False,
                },
            }
        ]
        return shapes[0]
    else:
        properties: dict[str, Any] = {
            "value": _NUMBER_TEXT,
            "time": {"type": "string", "format": "date-time"},
        }
        required = ["value"]
        if kind is InputKind.QUANTITY:
            properties["unit"] = {"const": item.canonical_unit}
            required.append("unit")
        if item.censorable:
            properties["comparator"] = {"enum": ["<", "<=", ">", ">="]}
        if item.lab_uln:
            properties["uln"] = _NUMBER_TEXT
        value = {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        }
        shapes = [value, status]
        if kind is InputKind.NUMBER:
            shapes.insert(0, _NUMBER_TEXT)
    return {"anyOf": [*shapes, _NULL]}


def _describe(item: Input) -> str:
    text = item.help
    if item.is_lab and item.canonical_unit:
        text = f"{text} Canonical unit: {item.canonical_unit}.".strip()
    return text


def _field(item: Input, schema: dict, *, required: bool = False):
    return (
        Any,
        Field(
            default=... if required else None,
            title=item.label,
            description=_describe(item) or None,
            json_schema_extra=schema,
        ),
    )


_CONFIRM_SCHEMA = {
    "anyOf": [
        {"type": "array", "items": {"enum": list(INPUTS)}, "uniqueItems": True},
        _NULL,
    ]
}

# Unknown fields reach the parser, which refuses them by name; the documented
# schema says they are not accepted.
CandidateIn = create_model(
    "CandidateIn",
    __config__=ConfigDict(
        extra="allow",
        json_schema_extra={
            "additionalProperties": False,
            "description": "One candidate in the screening contract: the inputs "
            "of the registry, each absent or null when not available.",
        },
    ),
    **{key: _field(item, _request_schema(item)) for key, item in INPUTS.items()},
    **{
        CONFIRM_KEY: (
            Any,
            Field(
                default=None,
                title="Unusual values confirmed",
                description="The inputs whose unusual values were checked: "
                "a decision is recorded only with each one confirmed.",
                json_schema_extra=_CONFIRM_SCHEMA,
            ),
        )
    },
)

NormalisedCandidate = create_model(
    "NormalisedCandidate",
    __config__=ConfigDict(
        json_schema_extra={
            "additionalProperties": False,
            "description": "The candidate as read: canonical units, numbers as "
            "exact decimal text.",
        },
    ),
    **{
        key: _field(item, _normalised_schema(item), required=True)
        for key, item in INPUTS.items()
    },
    **{
        CONFIRM_KEY: (
            Any,
            Field(
                default=None,
                # Present only when some value was unusual, as recorded.
                exclude_if=lambda value: value is None,
                title="Unusual values",
                json_schema_extra={
                    "type": "array",
                    "items": {"enum": list(INPUTS)},
                },
            ),
        )
    },
)


def candidate_data(candidate) -> dict:
    """The request's candidate exactly as sent (no field coerced or added)."""
    return candidate.model_dump(exclude_unset=True)


class Computed(Schema):
    age_years: int | None
    tbil_umol_l: str | None
    tbil_max_rise_per_day: str | None
    tbil_rise_from: datetime | None
    tbil_rise_to: datetime | None
    meld: int | None
    meld_na: int | None
    meld_3: int | None


class ConditionOut(Schema):
    variable: str
    outcome: Outcome
    value: str
    relation: str
    threshold: str
    bounds: str
    source: str
    note: str
    missing: list[str]


class CriterionResultOut(Schema):
    code: str
    kind: CriterionKind
    outcome: Outcome
    blocking: bool
    reason: str
    details: list[ConditionOut]
    missing: list[str]


class EvaluationOut(Schema):
    trial: str
    decision: Decision
    criteria: list[CriterionResultOut]
    blocking: list[str] = Field(description="Criteria that make it ineligible")
    unknown: list[str] = Field(description="Criteria that lack data")
    to_collect: list[str] = Field(description="Inputs that would decide them")
    unusual: list[str] = Field(
        description="Paths of plausible values outside the typical range: "
        "confirm them (confirmed_unusual) to record"
    )
    computed: Computed
    normalised: NormalisedCandidate


class OutcomeOut(CriterionResultOut):
    position: int


class SignatureOut(Schema):
    meaning: str
    signer: str
    signed_at: datetime
    override_outcome: str


class DecisionSummary(Schema):
    id: int
    trial: str
    site: str | None
    sequence: int
    screening_number: str
    screening_date: date
    outcome: Decision
    blocking_codes: list[str]
    unknown_codes: list[str]
    supersedes: int | None
    recorded_by: str
    recorded_at: datetime
    signed: bool


class DecisionOut(DecisionSummary):
    to_collect: list[str]
    outcomes: list[OutcomeOut]
    entered: dict[str, Any] = Field(description="The values as entered")
    normalised: NormalisedCandidate
    computed: Computed
    signature: SignatureOut | None
    content_hash: str


class DecisionPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[DecisionSummary]


class ConditionRule(Schema):
    id: int
    history_id: int | None
    variable: str
    operator: str
    value_low: str | None
    value_high: str | None
    values: str
    unit: str


class CriterionOut(Schema):
    id: int
    history_id: int | None
    code: str
    kind: CriterionKind
    position: int
    text: str
    text_zh_hans: str
    conditions: list[ConditionRule]


class CriteriaOut(Schema):
    trial: str
    criteria: list[CriterionOut]


class ProblemError(Schema):
    path: str = Field(
        description="The contract's field path: tbil.unit, tbil_series[1].time"
    )
    code: str
    message: str
    params: dict[str, str] = {}


class Problem(Schema):
    """RFC 9457 problem details, with the field problems under ``errors``."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[ProblemError] = []
