"""Laboratory unit conversion for the analytes the protocol uses.

Every analyte has one canonical unit and a fixed list of accepted units, each
with an exact Decimal factor to the canonical unit. A unit that is not on the
list is an error, never a guess: the same number means very different things in
mg/dL and umol/L.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

__all__ = [
    "ANALYTES",
    "UCUM_UNITS",
    "UNIT_ALIASES",
    "Analyte",
    "UnitError",
    "accepted_units",
    "convert",
    "to_canonical",
]


class UnitError(ValueError):
    """Unknown unit for an analyte (never guessed).

    ``analyte`` and ``unit`` hold the offending values so that callers can
    report them per field without parsing the message.
    """

    def __init__(self, analyte: str, unit: object) -> None:
        self.analyte = analyte
        self.unit = unit
        known = ANALYTES.get(analyte)
        accepted = ", ".join(known.factors) if known else "none"
        super().__init__(
            f"unknown unit {unit!r} for {analyte}; accepted units: {accepted}"
        )


@dataclass(frozen=True, slots=True)
class Analyte:
    """An analyte, its canonical unit and the factor to canonical per unit."""

    name: str
    canonical_unit: str
    factors: Mapping[str, Decimal]


def _analyte(name: str, canonical_unit: str, others: dict[str, str]) -> Analyte:
    factors = {canonical_unit: Decimal(1)}
    factors.update((unit, Decimal(factor)) for unit, factor in others.items())
    return Analyte(name, canonical_unit, MappingProxyType(factors))


ANALYTES: Mapping[str, Analyte] = MappingProxyType(
    {
        analyte.name: analyte
        for analyte in (
            # Factors are strings so that Decimal holds them exactly.
            _analyte("bilirubin", "umol/L", {"mg/dL": "17.1"}),
            _analyte("creatinine", "umol/L", {"mg/dL": "88.4"}),
            _analyte("albumin", "g/L", {"g/dL": "10"}),
            _analyte("crp", "mg/L", {"mg/dL": "10"}),
            _analyte("pct", "ng/mL", {}),
            _analyte("il6", "pg/mL", {}),
            _analyte("tnf_alpha", "pg/mL", {}),
        )
    }
)

# Lab printouts spell micro with the micro sign (U+00B5) or the Greek small
# letter mu (U+03BC); both mean exactly "umol/L".
UNIT_ALIASES: Mapping[str, str] = MappingProxyType(
    {"\u00b5mol/L": "umol/L", "\u03bcmol/L": "umol/L"}
)

# UCUM unit codes (a FHIR Quantity's ``code`` with system
# http://unitsofmeasure.org) -> the unit the registry accepts: the one mapping
# of laboratory messages onto this module's units. "" is a dimensionless
# result (the INR, whose registry entry has no unit). A code not listed is
# refused, never read as the nearest spelling.
UCUM_UNITS: Mapping[str, str] = MappingProxyType(
    {
        "umol/L": "umol/L",
        "mg/dL": "mg/dL",
        "g/L": "g/L",
        "g/dL": "g/dL",
        "mg/L": "mg/L",
        "ng/mL": "ng/mL",
        "pg/mL": "pg/mL",
        "mmol/L": "mmol/L",
        "%": "%",
        "10*9/L": "10^9/L",
        "s": "s",
        "{INR}": "",
        "{ratio}": "",
        "1": "",
    }
)


def _get(analyte: str) -> Analyte:
    try:
        return ANALYTES[analyte]
    except KeyError:
        raise KeyError(f"unknown analyte {analyte!r}") from None


def _factor(analyte: str, unit: object) -> Decimal:
    try:
        return _FACTORS[analyte, unit]
    except (KeyError, TypeError):  # an unknown pair (or an unhashable unit)
        pass
    factors = _get(analyte).factors
    spelled = UNIT_ALIASES.get(unit, unit) if isinstance(unit, str) else unit
    if isinstance(spelled, str) and spelled in factors:
        return factors[spelled]
    raise UnitError(analyte, unit)


# Every accepted (analyte, unit) pair, aliases too: the answer of ``_factor``
# below without its checks, for the pairs that pass them.
_FACTORS: Mapping[tuple[str, str], Decimal] = MappingProxyType(
    {
        (name, unit): factor
        for name, analyte in ANALYTES.items()
        for unit, factor in (
            *analyte.factors.items(),
            *(
                (alias, analyte.factors[canonical])
                for alias, canonical in UNIT_ALIASES.items()
                if canonical in analyte.factors
            ),
        )
    }
)


def accepted_units(analyte: str) -> tuple[str, ...]:
    """Return the units accepted for ``analyte``, canonical unit first.

    The micro-sign aliases of "umol/L" are accepted by the conversions but not
    listed here. Raises KeyError for an unknown analyte.
    """
    return tuple(_get(analyte).factors)


def to_canonical(analyte: str, value: Decimal, unit: str) -> Decimal:
    """Return ``value`` given in ``unit`` expressed in the analyte's canonical unit.

    The value is multiplied by the unit's exact factor, so "10.0 mg/dL"
    bilirubin is Decimal("171.00") umol/L. Raises UnitError for a unit not
    accepted for the analyte (including None and ""), KeyError for an unknown
    analyte.
    """
    return value * _factor(analyte, unit)


def convert(analyte: str, value: Decimal, unit: str, to_unit: str) -> Decimal:
    """Return ``value`` given in ``unit`` expressed in ``to_unit``.

    Goes through the canonical unit: multiply by the source factor, then divide
    by the target factor (Decimal division in the current context). A whole
    result is written with exponent 0 (10, not 1E+1). A value is returned
    unchanged when both units are the same. Raises UnitError for either
    unit not accepted for the analyte, KeyError for an unknown analyte.
    """
    source = _factor(analyte, unit)
    target = _factor(analyte, to_unit)
    if source == target:
        return value
    converted = value * source / target
    # An exact whole quotient can come out as e.g. 1E+1; same value, plain form.
    if converted.is_finite() and converted.as_tuple().exponent > 0:
        return converted.quantize(Decimal(1))
    return converted
