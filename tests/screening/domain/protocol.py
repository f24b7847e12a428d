"""NCT06904755's criteria as engine specs, built from the protocol tuples.

The same shape the adapter builds from the database rows, without a database.
"""

from screening.domain.engine import (
    ConditionSpec,
    CriterionKind,
    CriterionSpec,
    Operator,
)
from trials.trial_data import CRITERIA


def spec_from_row(row) -> CriterionSpec:
    """The protocol tuple as the adapter would build it from the database row."""
    code, kind, _attestation, text, _text_zh, conditions = row
    return CriterionSpec(
        code=code,
        kind=CriterionKind(kind),
        conditions=tuple(
            ConditionSpec(
                variable=variable,
                operator=Operator(op),
                low=low,
                high=high,
                values=tuple(v.strip() for v in values.split(",") if v.strip()),
                unit=unit,
            )
            for variable, op, low, high, values, unit in conditions
        ),
        text=text,
    )


PROTOCOL = tuple(spec_from_row(row) for row in CRITERIA)
