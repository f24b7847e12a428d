"""The fixed registry of variables that criterion conditions may name.

A variable is a fact about a candidate that the engine can compare: a number in a
canonical unit, a grade, a category, or a checklist answer. Inputs are the names of
the input contract (JSON, form, upload) that decide the variable: when a variable is
unknown, these are what the coordinator has to collect.
"""

from dataclasses import dataclass
from enum import StrEnum

from .inputs import INPUTS, InputKind, Section
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
