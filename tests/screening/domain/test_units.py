"""Unit conversion: exact factors both ways, unknown units are errors."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from screening.domain.units import (
    ANALYTES,
    UnitError,
    accepted_units,
    convert,
    to_canonical,
)

D = Decimal


@pytest.mark.parametrize(
    ("analyte", "units"),
    [
        ("bilirubin", ("umol/L", "mg/dL")),
        ("creatinine", ("umol/L", "mg/dL")),
        ("albumin", ("g/L", "g/dL")),
        ("crp", ("mg/L", "mg/dL")),
        ("pct", ("ng/mL",)),
        ("il6", ("pg/mL",)),
        ("tnf_alpha", ("pg/mL",)),
    ],
)
def test_accepted_units_canonical_first(analyte, units):
    assert accepted_units(analyte) == units
    assert ANALYTES[analyte].canonical_unit == units[0]


@pytest.mark.parametrize(
    ("analyte", "value", "unit", "expected"),
    [
        ("bilirubin", "10.0", "mg/dL", "171"),
        ("bilirubin", "1", "mg/dL", "17.1"),
        ("bilirubin", "9.99", "mg/dL", "170.829"),
        ("bilirubin", "170.9", "umol/L", "170.9"),
        ("bilirubin", "171", "\u00b5mol/L", "171"),  # micro sign
        ("bilirubin", "171", "\u03bcmol/L", "171"),  # Greek mu
        ("creatinine", "1", "mg/dL", "88.4"),
        ("creatinine", "4.0", "mg/dL", "353.6"),
        ("creatinine", "133", "umol/L", "133"),
        ("creatinine", "133", "\u00b5mol/L", "133"),
        ("albumin", "3.5", "g/dL", "35"),
        ("albumin", "35", "g/L", "35"),
        ("crp", "1.2", "mg/dL", "12"),
        ("crp", "12", "mg/L", "12"),
        ("pct", "0.5", "ng/mL", "0.5"),
        ("il6", "7", "pg/mL", "7"),
        ("tnf_alpha", "8.1", "pg/mL", "8.1"),
    ],
)
def test_to_canonical(analyte, value, unit, expected):
    result = to_canonical(analyte, D(value), unit)
    assert isinstance(result, Decimal)
    assert result == D(expected)


def test_a_value_written_17_1_stays_exactly_17_1():
    assert to_canonical("bilirubin", D("1"), "mg/dL") == D("17.1")
    assert convert("bilirubin", D("17.1"), "umol/L", "mg/dL") == 1


@pytest.mark.parametrize(
    ("analyte", "value", "unit", "to_unit", "expected"),
    [
        ("bilirubin", "171", "umol/L", "mg/dL", "10"),
        ("bilirubin", "170.9", "umol/L", "mg/dL", "9.994152046783625730994152047"),
        ("bilirubin", "342.0", "\u03bcmol/L", "mg/dL", "20"),
        ("bilirubin", "10", "mg/dL", "umol/L", "171"),
        ("bilirubin", "10", "mg/dL", "\u00b5mol/L", "171"),
        ("creatinine", "353.6", "umol/L", "mg/dL", "4"),
        ("creatinine", "88.4", "umol/L", "mg/dL", "1"),
        ("creatinine", "88.3", "umol/L", "mg/dL", "0.9988687782805429864253393665"),
        ("creatinine", "2", "mg/dL", "umol/L", "176.8"),
        ("albumin", "35", "g/L", "g/dL", "3.5"),
        ("albumin", "2.8", "g/dL", "g/L", "28"),
        ("crp", "100", "mg/L", "mg/dL", "10"),
        ("crp", "5", "mg/dL", "mg/L", "50"),
        ("bilirubin", "3.1", "mg/dL", "mg/dL", "3.1"),
        ("pct", "0.05", "ng/mL", "ng/mL", "0.05"),
    ],
)
def test_convert(analyte, value, unit, to_unit, expected):
    assert convert(analyte, D(value), unit, to_unit) == D(expected)


def test_convert_writes_a_whole_result_without_exponent():
    assert str(convert("bilirubin", D("171"), "umol/L", "mg/dL")) == "10"


@pytest.mark.parametrize(
    ("analyte", "unit"),
    [
        ("bilirubin", "mmol/L"),
        ("bilirubin", "UMOL/L"),  # matched exactly, case included
        ("bilirubin", "umol/l"),
        ("bilirubin", " umol/L"),
        ("bilirubin", "mg/dl"),
        ("bilirubin", "g/L"),
        ("bilirubin", ""),
        ("bilirubin", None),
        ("creatinine", "mg/L"),
        ("albumin", "mg/dL"),
        ("albumin", "umol/L"),
        ("crp", "g/L"),
        ("crp", "\u00b5mol/L"),  # an alias only for umol/L, where accepted
        ("pct", "ng/L"),
        ("pct", "mg/dL"),
        ("il6", "ng/mL"),
        ("tnf_alpha", "pg/L"),
    ],
)
def test_unknown_unit_is_an_error_naming_analyte_and_unit(analyte, unit):
    with pytest.raises(UnitError) as raised:
        to_canonical(analyte, D("1"), unit)
    assert raised.value.analyte == analyte
    assert raised.value.unit == unit
    assert analyte in str(raised.value)
    assert repr(unit) in str(raised.value)


@pytest.mark.parametrize(
    ("unit", "to_unit"),
    [("mmol/L", "mg/dL"), ("umol/L", "mmol/L"), ("mg/dL", None)],
)
def test_convert_rejects_unknown_unit_on_either_side(unit, to_unit):
    with pytest.raises(UnitError):
        convert("bilirubin", D("1"), unit, to_unit)


def test_unit_error_is_a_value_error():
    assert issubclass(UnitError, ValueError)


@pytest.mark.parametrize("call", [accepted_units, lambda a: to_canonical(a, D(1), "")])
def test_unknown_analyte_is_a_key_error(call):
    with pytest.raises(KeyError):
        call("ferritin")


def test_tables_are_read_only():
    with pytest.raises(TypeError):
        ANALYTES["bilirubin"] = ANALYTES["crp"]  # type: ignore[index]
    with pytest.raises(TypeError):
        ANALYTES["bilirubin"].factors["mmol/L"] = D(1)  # type: ignore[index]


_values = st.decimals(
    min_value=D("0.001"), max_value=D("10000"), places=3, allow_nan=False
)
_convertible = st.sampled_from(
    [
        ("bilirubin", "umol/L", "mg/dL"),
        ("creatinine", "umol/L", "mg/dL"),
        ("albumin", "g/L", "g/dL"),
        ("crp", "mg/L", "mg/dL"),
    ]
)


@given(value=_values, units=_convertible)
def test_round_trip_from_mass_units_is_exact(value, units):
    analyte, canonical, other = units
    there = convert(analyte, value, other, canonical)
    assert convert(analyte, there, canonical, other) == value


@given(value=_values, units=_convertible)
def test_convert_agrees_with_to_canonical(value, units):
    analyte, canonical, other = units
    assert convert(analyte, value, other, canonical) == to_canonical(
        analyte, value, other
    )
