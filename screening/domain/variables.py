"""The fixed registry of variables that criterion conditions may name.

A variable is a fact about a candidate that the engine can compare: a number in a
canonical unit, a grade, a category, or a checklist answer. Inputs are the names of
the input contract (JSON, form, upload) that decide the variable: when a variable is
unknown, these are what the coordinator has to collect.
"""

from dataclasses import dataclass
from enum import StrEnum


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


STAGES = ("early", "intermediate", "late", "none")

CHECKLIST_ITEMS = (
    "able_to_communicate_and_complete",
    "written_informed_consent",
    "severe_active_bleeding",
    "dic",
    "allergy_blood_products_or_study_drugs",
    "circulatory_failure",
    "severe_comorbidity",
    "diabetes",
    "investigator_excludes",
)

_CHECKLIST_LABELS = {
    "able_to_communicate_and_complete": "Able to communicate and complete the study",
    "written_informed_consent": "Written informed consent signed",
    "severe_active_bleeding": "Severe active bleeding",
    "dic": "Diffuse intravascular coagulation",
    "allergy_blood_products_or_study_drugs": (
        "High degree of allergy to blood products or study drugs"
    ),
    "circulatory_failure": "Circulatory failure",
    "severe_comorbidity": ("Severe heart, lung, blood or autoimmune disease"),
    "diabetes": "Diabetes",
    "investigator_excludes": "Investigator judges the subject should not be included",
}

VARIABLES: dict[str, Variable] = {
    v.name: v
    for v in (
        Variable(
            "age_years",
            "Age",
            Kind.NUMBER,
            "years",
            ("date_of_birth", "screening_date"),
        ),
        Variable(
            "liver_failure_stage",
            "Liver failure stage",
            Kind.CATEGORY,
            inputs=("liver_failure_stage",),
            categories=STAGES,
        ),
        Variable("tbil_umol_l", "TBil", Kind.NUMBER, "umol/L", ("tbil",)),
        Variable(
            "tbil_rise_per_day",
            "largest daily rise",
            Kind.NUMBER,
            "umol/L/day",
            ("tbil_series",),
        ),
        Variable("pta_percent", "PTA", Kind.NUMBER, "%", ("pta_percent",)),
        Variable("inr", "INR", Kind.NUMBER, "", ("inr",)),
        Variable("he_grade", "HE grade", Kind.NUMBER, "", ("he_grade",)),
        Variable("il6_pg_ml", "IL-6", Kind.NUMBER, "pg/mL", ("il6",), True),
        Variable(
            "tnf_alpha_pg_ml", "TNF-alpha", Kind.NUMBER, "pg/mL", ("tnf_alpha",), True
        ),
        Variable("crp_mg_l", "CRP", Kind.NUMBER, "mg/L", ("crp",), True),
        Variable("pct_ng_ml", "PCT", Kind.NUMBER, "ng/mL", ("pct",), True),
        Variable(
            "meld",
            "MELD",
            Kind.NUMBER,
            "",
            ("tbil", "inr", "creatinine", "dialysis_twice_past_week"),
        ),
        *(
            Variable(item, _CHECKLIST_LABELS[item], Kind.BOOLEAN, inputs=(item,))
            for item in CHECKLIST_ITEMS
        ),
    )
}
