"""The fixed registry of variables that criterion conditions may name.

A variable is a fact about a candidate that the engine can compare: a number in a
canonical unit, a grade, a category, or a checklist answer. Inputs are the names of
the input contract (JSON, form, upload) that decide the variable: when a variable is
unknown, these are what the coordinator has to collect.
"""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from . import units
from .inputs import INPUTS, InputKind, Part, Section
from .messages import N_


class Kind(StrEnum):
    NUMBER = "NUMBER"
    CATEGORY = "CATEGORY"
    BOOLEAN = "BOOLEAN"


@dataclass(frozen=True, slots=True)
class Variable:
    name: str
    label: str
    kind: Kind
    unit: str = ""
    inputs: tuple[str, ...] = ()
    # An inflammatory marker: "elevated" compares against the lab's own upper
    # limit of normal when one was given with the value.
    has_lab_uln: bool = False
    categories: tuple[str, ...] = ()


STAGES = INPUTS["liver_failure_stage"].option_values
CHECKLIST_ITEMS = tuple(
    key
    for key, item in INPUTS.items()
    if item.kind is InputKind.ANSWER and item.section is Section.CHECKLIST
)

VARIABLES: dict[str, Variable] = {
    v.name: v
    for v in (
        Variable(
            "age_years",
            N_("Age"),
            Kind.NUMBER,
            "years",
            ("date_of_birth", "screening_date"),
        ),
        Variable(
            "liver_failure_stage",
            N_("Liver failure stage"),
            Kind.CATEGORY,
            inputs=("liver_failure_stage",),
            categories=STAGES,
        ),
        # Information on the record; a criterion may still name them.
        *(
            Variable(
                key,
                INPUTS[key].label,
                Kind.CATEGORY,
                inputs=(key,),
                categories=INPUTS[key].option_values,
            )
            for key in ("liver_failure_type", "liver_failure_cause")
        ),
        Variable("tbil_umol_l", N_("TBil"), Kind.NUMBER, "umol/L", ("tbil",)),
        Variable(
            "tbil_rise_per_day",
            N_("largest daily rise"),
            Kind.NUMBER,
            "umol/L/day",
            ("tbil_series",),
        ),
        Variable("pta_percent", N_("PTA"), Kind.NUMBER, "%", ("pta_percent",)),
        Variable("inr", N_("INR"), Kind.NUMBER, "", ("inr",)),
        # The patient's PT minus the control's: how much longer it is.
        Variable(
            "pt_prolongation_s",
            N_("PT prolongation"),
            Kind.NUMBER,
            "s",
            ("pt_seconds", "pt_control_seconds"),
        ),
        Variable("he_grade", N_("HE grade"), Kind.NUMBER, "", ("he_grade",)),
        Variable("il6_pg_ml", N_("IL-6"), Kind.NUMBER, "pg/mL", ("il6",), True),
        Variable(
            "tnf_alpha_pg_ml",
            N_("TNF-alpha"),
            Kind.NUMBER,
            "pg/mL",
            ("tnf_alpha",),
            True,
        ),
        Variable("crp_mg_l", N_("CRP"), Kind.NUMBER, "mg/L", ("crp",), True),
        Variable("pct_ng_ml", N_("PCT"), Kind.NUMBER, "ng/mL", ("pct",), True),
        Variable(
            "creatinine_umol_l",
            N_("Creatinine"),
            Kind.NUMBER,
            "umol/L",
            ("creatinine",),
        ),
        Variable(
            "platelets_10e9_l",
            N_("Platelets"),
            Kind.NUMBER,
            "10^9/L",
            ("platelets",),
        ),
        Variable(
            "meld",
            N_("MELD"),
            Kind.NUMBER,
            "",
            ("tbil", "inr", "creatinine", "dialysis_twice_past_week"),
        ),
        *(
            Variable(item, INPUTS[item].collect, Kind.BOOLEAN, inputs=(item,))
            for item in CHECKLIST_ITEMS
        ),
    )
}


# --- Thresholds typed by an admin: units checked against the variable ----------

# Spellings of a unitless variable's scale that a threshold row may carry.
THRESHOLD_UNIT_ALIASES: dict[str, tuple[str, ...]] = {
    "he_grade": ("West Haven grade",),
}


class ThresholdUnitError(ValueError):
    """A threshold's unit that is not a unit of its variable (never guessed).

    ``code`` is "unit_other_analyte" when the unit belongs to another analyte
    (``analytes`` names them), else "unit_unknown"; ``accepted`` lists the units
    the variable takes, canonical first.
    """

    def __init__(self, variable: str, unit: object, accepted: tuple[str, ...]):
        self.variable = variable
        self.unit = unit
        self.accepted = accepted
        self.analytes = tuple(
            name
            for name, analyte in units.ANALYTES.items()
            if isinstance(unit, str)
            and units.UNIT_ALIASES.get(unit, unit) in analyte.factors
        )
        self.code = "unit_other_analyte" if self.analytes else "unit_unknown"
        label = VARIABLES[variable].label if variable in VARIABLES else variable
        shown = ", ".join(repr(u) if not u else u for u in accepted)
        if self.analytes:
            problem = (
                f"{unit!r} is a unit of {', '.join(self.analytes)}, not of {label}"
            )
        else:
            problem = f"unknown unit {unit!r} for {label}"
        super().__init__(f"{problem}; accepted units: {shown}")


def _analyte_of(variable: Variable) -> tuple[str, str] | None:
    """(analyte, suffix) when the variable is an analyte in a unit of its own.

    "umol/L/day" is bilirubin's "umol/L" per day: every bilirubin unit with
    "/day" is a unit of the daily rise. A score computed from labs (MELD) has
    no unit and so no analyte.
    """
    for key in variable.inputs:
        analyte = INPUTS[key].analyte if key in INPUTS else ""
        if not analyte or analyte not in units.ANALYTES:
            continue
        canonical = units.ANALYTES[analyte].canonical_unit
        if variable.unit == canonical:
            return analyte, ""
        if variable.unit.startswith(canonical + "/"):
            return analyte, variable.unit[len(canonical) :]
    return None


def threshold_units(name: str) -> tuple[str, ...]:
    """The units a threshold of ``name`` may be typed in, canonical first.

    An analyte's accepted units (with a per-day suffix for a rise); otherwise
    the variable's one unit and the scale's spelling ("" for a unitless
    number). A blank unit always means the canonical unit. Raises KeyError
    for an unknown variable.
    """
    variable = VARIABLES[name]
    found = _analyte_of(variable)
    if found is not None:
        analyte, suffix = found
        return tuple(u + suffix for u in units.accepted_units(analyte))
    return (variable.unit, *THRESHOLD_UNIT_ALIASES.get(name, ()))


def threshold_factor(name: str, unit: object) -> Decimal:
    """The exact factor from ``unit`` to ``name``'s canonical unit.

    Raises ThresholdUnitError for a unit that is not one of the variable's
    (another analyte's, or unknown), KeyError for an unknown variable.
    """
    variable = VARIABLES[name]
    accepted = threshold_units(name)
    if unit is None:
        raise ThresholdUnitError(name, unit, accepted)
    if isinstance(unit, str):
        text = unit.strip()
        if text == "":
            return Decimal(1)
        found = _analyte_of(variable)
        if found is not None:
            analyte, suffix = found
            if text.endswith(suffix):
                base = text[: len(text) - len(suffix)] if suffix else text
                try:
                    return units.to_canonical(analyte, Decimal(1), base)
                except units.UnitError:
                    pass
        elif text in accepted:
            return Decimal(1)
    raise ThresholdUnitError(name, unit, accepted)


def threshold_to_canonical(name: str, value: Decimal, unit: object) -> Decimal:
    """A threshold typed in ``unit`` as the variable's canonical value.

    "1 mg/dL" for CRP (canonical mg/L) is 10; "pg/mL" for CRP raises
    ThresholdUnitError. A blank unit is the canonical unit.
    """
    factor = threshold_factor(name, unit)
    return value if factor == 1 else value * factor


def threshold_in_unit(name: str, value: Decimal, unit: object) -> Decimal:
    """A canonical threshold shown in ``unit`` (the other way of showing it).

    Exact for the protocol's factors where the quotient terminates (10 mg/L is
    1 mg/dL); otherwise rounded in the current Decimal context.
    """
    factor = threshold_factor(name, unit)
    if factor == 1:
        return value
    shown = value / factor
    if shown.is_finite() and shown.as_tuple().exponent > 0:
        return shown.quantize(Decimal(1))
    return shown


def _uln_input(name: str):
    """The one laboratory input whose value (and ULN) the variable is, if any.

    A score computed from several values (MELD reads TBil, INR and creatinine)
    is not a laboratory value and has no ULN, even when one of its inputs has.
    """
    keys = VARIABLES[name].inputs
    if len(keys) == 1 and keys[0] in INPUTS and INPUTS[keys[0]].lab_uln:
        return INPUTS[keys[0]]
    return None


def takes_lab_uln(name: str) -> bool:
    """True when the variable's value may come with a laboratory's own ULN."""
    return _uln_input(name) is not None


def uln_inputs(name: str) -> tuple[str, ...]:
    """The form fields and CSV columns of the ULN that decides ``name`` ("crp_uln")."""
    item = _uln_input(name)
    return () if item is None else (item.column(Part.ULN),)
