"""The input registry: every input of the screening contract, declared once.

Each protocol input (what a coordinator or a laboratory gives about a candidate)
is one ``Input`` here, with its kind, units, plausibility and typical ranges,
labels, CSV column and Chinese header, LOINC codes and form section. The parser
(``contract``), the screening form, the CSV reader and writer, the pre-screening
template, the "to collect" labels and the tests' data builders are derived from
this table; nothing else lists the inputs by hand.

Pure Python: words are marked with ``N_`` and translated where they are shown.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from . import units
from .messages import N_

__all__ = [
    "CONFIRM_KEY",
    "INPUTS",
    "MAX_SERIES",
    "PENDING",
    "Input",
    "InputKind",
    "Option",
    "Part",
    "Section",
    "column_index",
    "input_for_path",
]


class InputKind(StrEnum):
    TEXT = "text"  # a code typed by hand (screening number, initials)
    CHOICE = "choice"  # one of a few options (sex, stage, HE grade)
    DATE = "date"
    NUMBER = "number"  # a lab number with one fixed unit (PTA %, INR, sodium)
    QUANTITY = "quantity"  # a lab value with a unit choice and a lab ULN
    SERIES = "series"  # earlier timed TBil measurements
    ANSWER = "answer"  # yes / no / pending


class Section(StrEnum):
    IDENTIFICATION = "identification"
    DIAGNOSIS = "diagnosis"
    LIVER = "liver"
    ENCEPHALOPATHY = "encephalopathy"
    INFLAMMATION = "inflammation"
    BLOOD_COUNT = "blood_count"
    STAGE = "stage"
    CHECKLIST = "checklist"


SECTION_TITLES: Mapping[Section, str] = MappingProxyType(
    {
        Section.IDENTIFICATION: N_("Identification"),
        Section.DIAGNOSIS: N_("Liver failure diagnosis"),
        Section.LIVER: N_("Liver function"),
        Section.ENCEPHALOPATHY: N_("Encephalopathy"),
        Section.INFLAMMATION: N_("Inflammation"),
        Section.BLOOD_COUNT: N_("Blood count"),
        Section.STAGE: N_("Stage"),
        Section.CHECKLIST: N_("Checklist"),
    }
)


class Part(StrEnum):
    """The parts of one input that a form field or a CSV column carries."""

    VALUE = ""
    UNIT = "unit"
    ULN = "uln"
    TIME = "time"
    STATUS = "status"


# A lab value may be answered "pending" (ordered, awaited) or "not done"; both
# leave the value unknown, and neither is a "no".
PENDING = "pending"
NOT_DONE = "not_done"
LAB_STATUSES = (PENDING, NOT_DONE)
# Not an input: the inputs whose unusual values the coordinator confirmed.
CONFIRM_KEY = "confirmed_unusual"
MAX_SERIES = 50

PART_HEADER_ZH: Mapping[Part, str] = MappingProxyType(
    {
        Part.UNIT: "单位",
        Part.ULN: "正常上限",
        Part.TIME: "采集时间",
        Part.STATUS: "状态",
    }
)
PART_LABELS: Mapping[Part, str] = MappingProxyType(
    {
        Part.UNIT: N_("Unit"),
        Part.ULN: N_("Lab upper limit"),
        Part.TIME: N_("Collected at"),
        Part.STATUS: N_("Status"),
    }
)


@dataclass(frozen=True, slots=True)
class Option:
    """One answer of a choice: its stored value, label and accepted spellings."""

    value: str
    label: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Input:
    key: str
    kind: InputKind
    section: Section
    label: str
    zh_header: str
    help: str = ""
    # The words of the "to collect" list; the label when empty.
    collect_label: str = ""
    # Needed before a decision can be recorded (not for pre-screening).
    required: bool = False
    # QUANTITY: the analyte of ``units``; NUMBER: the one unit shown.
    analyte: str = ""
    unit: str = ""
    # Inclusive, in the canonical unit: outside is a typing error or a wrong unit.
    bounds: tuple[Decimal, Decimal] | None = None
    # Inclusive, canonical: outside (but plausible) needs a confirmation to record.
    typical: tuple[Decimal, Decimal] | None = None
    options: tuple[Option, ...] = ()
    pattern: re.Pattern | None = None
    lab_uln: bool = False
    censorable: bool = False
    timed: bool = False
    pending_label: str = N_("Pending")
    # LOINC codes by unit ("" where one code covers every unit).
    loinc: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # A value in the contract's form, for the template's example row.
    example: object = None
    # The form shows the options as radio buttons (long descriptions).
    radio: bool = False

    @property
    def units(self) -> tuple[str, ...]:
        """Accepted units, canonical first (a NUMBER has its one unit)."""
        if self.kind is InputKind.QUANTITY:
            return units.accepted_units(self.analyte)
        return (self.unit,) if self.unit else ()

    @property
    def canonical_unit(self) -> str:
        return self.units[0] if self.units else ""

    @property
    def is_lab(self) -> bool:
        return self.kind in (InputKind.NUMBER, InputKind.QUANTITY)

    @property
    def parts(self) -> tuple[Part, ...]:
        """The parts beyond the value that a form and a CSV file carry."""
        if self.kind is InputKind.QUANTITY:
            parts = [Part.VALUE]
            if len(self.units) > 1:
                parts.append(Part.UNIT)
            if self.lab_uln:
                parts.append(Part.ULN)
            return (*parts, Part.TIME)
        if self.kind is InputKind.NUMBER:
            return (Part.VALUE, Part.TIME)
        return (Part.VALUE,)

    def column(self, part: Part = Part.VALUE) -> str:
        """The CSV column (and form field stem) of a part: ``tbil``, ``tbil_unit``."""
        return self.key if part is Part.VALUE else f"{self.key}_{part.value}"

    def zh_column(self, part: Part = Part.VALUE) -> str:
        return self.zh_header + (PART_HEADER_ZH[part] if part is not Part.VALUE else "")

    @property
    def option_values(self) -> tuple[str, ...]:
        return tuple(o.value for o in self.options)

    @property
    def collect(self) -> str:
        return self.collect_label or self.label


def _d(text: str) -> Decimal:
    return Decimal(text)


_PENDING_LABEL = N_("Pending")


def _answer(
    key,
    label,
    zh,
    collect,
    *,
    pending_label=_PENDING_LABEL,
    section=None,
    example=False,
):
    return Input(
        key,
        InputKind.ANSWER,
        section or Section.CHECKLIST,
        label,
        zh,
        collect_label=collect,
        pending_label=pending_label,
        example=example,
    )


_INPUTS = (
    Input(
        "screening_number",
        InputKind.TEXT,
        Section.IDENTIFICATION,
        N_("Screening number"),
        "筛选号",
        help=N_("Site format, for example 01-001."),
        required=True,
        # ASCII digits only: \d would also match other scripts' digits.
        pattern=re.compile(r"^[0-9]{2}-[0-9]{3,4}$"),
        example="01-001",
    ),
    Input(
        "initials",
        InputKind.TEXT,
        Section.IDENTIFICATION,
        N_("Initials"),
        "姓名缩写",
        help=N_("1 to 4 letters, no names."),
        pattern=re.compile(r"^[A-Z]{1,4}$"),
        example="ZW",
    ),
    Input(
        "sex",
        InputKind.CHOICE,
        Section.IDENTIFICATION,
        N_("Sex"),
        "性别",
        required=True,
        options=(
            Option("M", N_("Male"), ("男", "male", "m")),
            Option("F", N_("Female"), ("女", "female", "f")),
        ),
        example="M",
    ),
    Input(
        "date_of_birth",
        InputKind.DATE,
        Section.IDENTIFICATION,
        N_("Date of birth"),
        "出生日期",
        example="1980-05-17",
    ),
    Input(
        "screening_date",
        InputKind.DATE,
        Section.IDENTIFICATION,
        N_("Screening date"),
        "筛选日期",
        required=True,
        example="2026-06-01",
    ),
    # Consent (ICH E6 4.8.8: dated, and which version of the form was signed).
    # Declared with the identification, which every trial's form shows: a
    # criterion reads the checklist answer, never these. A record whose
    # written_informed_consent is "yes" needs both (contract.py).
    Input(
        "consent_date",
        InputKind.DATE,
        Section.IDENTIFICATION,
        N_("Date of written informed consent"),
        "知情同意日期",
        help=N_(
            "The date the subject signed the consent form: required when the "
            "written informed consent is signed; not after the screening date."
        ),
        collect_label=N_("date of written informed consent"),
        example="2026-06-01",
    ),
    Input(
        "consent_form_version",
        InputKind.TEXT,
        Section.IDENTIFICATION,
        N_("Consent form version"),
        "知情同意书版本号",
        help=N_(
            "As printed on the signed form, for example V2.0 2025-03-01; "
            "required when the written informed consent is signed."
        ),
        collect_label=N_("consent form version"),
        # Printable text as the form prints it (no control characters).
        pattern=re.compile(r"^[^\x00-\x1f\x7f]{1,64}$"),
        example="V2.0 2025-03-01",
    ),
    # Information on the record (type and cause of liver failure, in the
    # terms of the Chinese guideline for the diagnosis and treatment of liver
    # failure): optional, and read by a criterion only if one names them.
    Input(
        "liver_failure_type",
        InputKind.CHOICE,
        Section.DIAGNOSIS,
        N_("Type of liver failure"),
        "肝衰竭类型",
        collect_label=N_("type of liver failure"),
        options=(
            Option(
                "ALF",
                N_("Acute liver failure (ALF)"),
                ("急性肝衰竭", "acute liver failure"),
            ),
            Option(
                "SALF",
                N_("Subacute liver failure (SALF)"),
                ("亚急性肝衰竭", "subacute liver failure"),
            ),
            Option(
                "ACLF",
                N_("Acute-on-chronic liver failure (ACLF)"),
                (
                    "慢加急性肝衰竭",
                    "慢加急性（亚急性）肝衰竭",
                    "acute-on-chronic liver failure",
                ),
            ),
            Option(
                "CLF",
                N_("Chronic liver failure (CLF)"),
                ("慢性肝衰竭", "chronic liver failure"),
            ),
        ),
        example="ACLF",
    ),
    Input(
        "liver_failure_cause",
        InputKind.CHOICE,
        Section.DIAGNOSIS,
        N_("Cause of liver failure"),
        "肝衰竭病因",
        collect_label=N_("cause of liver failure"),
        options=(
            Option(
                "HBV",
                N_("Hepatitis B virus (HBV)"),
                ("乙型肝炎", "乙肝", "乙型病毒性肝炎", "hepatitis b"),
            ),
            Option(
                "HCV",
                N_("Hepatitis C virus (HCV)"),
                ("丙型肝炎", "丙肝", "丙型病毒性肝炎", "hepatitis c"),
            ),
            Option(
                "OTHER_VIRAL",
                N_("Other viral hepatitis (hepatitis A, E, other viruses)"),
                ("其他病毒性肝炎", "other viral hepatitis"),
            ),
            Option(
                "DILI",
                N_("Drug-induced liver injury (DILI)"),
                ("药物性肝损伤", "药物", "drug-induced liver injury"),
            ),
            Option(
                "ALCOHOL",
                N_("Alcohol-related liver disease"),
                ("酒精", "酒精性肝病", "alcoholic liver disease"),
            ),
            Option(
                "AUTOIMMUNE",
                N_("Autoimmune liver disease"),
                ("自身免疫性肝病", "自身免疫", "autoimmune liver disease"),
            ),
            Option(
                "WILSON",
                N_("Wilson disease"),
                ("肝豆状核变性", "wilson disease", "wilson's disease"),
            ),
            Option(
                "AFLP",
                N_("Acute fatty liver of pregnancy"),
                ("妊娠急性脂肪肝", "acute fatty liver of pregnancy"),
            ),
            Option("OTHER", N_("Other cause"), ("其他", "other cause")),
            Option(
                "UNKNOWN", N_("Unknown cause"), ("原因不明", "不明", "unknown cause")
            ),
        ),
        example="HBV",
    ),
    Input(
        "tbil",
        InputKind.QUANTITY,
        Section.LIVER,
        N_("Current total bilirubin (TBil)"),
        "总胆红素",
        help=N_("Its collection time is needed for the daily rise."),
        collect_label=N_("current TBil"),
        analyte="bilirubin",
        bounds=(_d("0"), _d("1500")),
        typical=(_d("3"), _d("850")),
        # For thresholds relative to the laboratory's limit ("TBil > 5 x ULN").
        lab_uln=True,
        timed=True,
        loinc={"umol/L": ("14631-6",), "mg/dL": ("1975-2",)},
        example={"value": "180", "unit": "umol/L", "time": "2026-06-01T08:00+08:00"},
    ),
    Input(
        "tbil_series",
        InputKind.SERIES,
        Section.LIVER,
        N_("Earlier TBil measurements"),
        "既往总胆红素",
        help=N_("Time, value and unit of each; separated by ';' in a file."),
        collect_label=N_("timed TBil measurements"),
        analyte="bilirubin",
        example=[
            {"time": "2026-05-31T08:00+08:00", "value": "158.6", "unit": "umol/L"}
        ],
    ),
    Input(
        "pta_percent",
        InputKind.NUMBER,
        Section.LIVER,
        N_("Prothrombin activity (PTA)"),
        "凝血酶原活动度",
        collect_label=N_("PTA"),
        unit="%",
        bounds=(_d("1"), _d("150")),
        typical=(_d("5"), _d("130")),
        loinc={"": ("5894-1",)},
        example="35",
    ),
    Input(
        "inr",
        InputKind.NUMBER,
        Section.LIVER,
        N_("INR"),
        "国际标准化比值",
        collect_label=N_("INR"),
        bounds=(_d("0.5"), _d("15")),
        typical=(_d("0.8"), _d("8")),
        loinc={"": ("6301-6", "34714-6")},
        example="1.8",
    ),
    # The prothrombin time and the control's, in seconds, for a criterion on
    # how much longer the patient's is (variables: ``pt_prolongation_s``).
    Input(
        "pt_seconds",
        InputKind.NUMBER,
        Section.LIVER,
        N_("Prothrombin time (PT)"),
        "凝血酶原时间",
        collect_label=N_("PT"),
        unit="s",
        bounds=(_d("5"), _d("300")),
        typical=(_d("9"), _d("120")),
        loinc={"": ("5902-2",)},
        example="21.5",
    ),
    Input(
        "pt_control_seconds",
        InputKind.NUMBER,
        Section.LIVER,
        N_("Prothrombin time of the control"),
        "凝血酶原时间对照",
        collect_label=N_("control PT"),
        unit="s",
        bounds=(_d("5"), _d("60")),
        typical=(_d("9"), _d("16")),
        example="12.5",
    ),
    Input(
        "creatinine",
        InputKind.QUANTITY,
        Section.LIVER,
        N_("Creatinine"),
        "肌酐",
        collect_label=N_("creatinine"),
        analyte="creatinine",
        bounds=(_d("1"), _d("3000")),
        typical=(_d("20"), _d("700")),
        timed=True,
        loinc={"umol/L": ("14682-9",), "mg/dL": ("2160-0",)},
        example={"value": "90", "unit": "umol/L"},
    ),
    _answer(
        "dialysis_twice_past_week",
        N_("Dialysis at least twice, or 24 hours of CVVHD, in the past week"),
        "近一周透析",
        N_("Dialysis in the past week"),
        section=Section.LIVER,
    ),
    Input(
        "sodium_mmol_l",
        InputKind.NUMBER,
        Section.LIVER,
        N_("Sodium"),
        "血钠",
        collect_label=N_("sodium"),
        unit="mmol/L",
        bounds=(_d("90"), _d("200")),
        typical=(_d("115"), _d("160")),
        loinc={"": ("2951-2",)},
        example="136",
    ),
    Input(
        "albumin",
        InputKind.QUANTITY,
        Section.LIVER,
        N_("Albumin"),
        "白蛋白",
        collect_label=N_("albumin"),
        analyte="albumin",
        bounds=(_d("5"), _d("70")),
        typical=(_d("15"), _d("55")),
        timed=True,
        loinc={"": ("1751-7",)},
        example={"value": "32", "unit": "g/L"},
    ),
    Input(
        "he_grade",
        InputKind.CHOICE,
        Section.ENCEPHALOPATHY,
        N_("Hepatic encephalopathy (West Haven grade)"),
        "肝性脑病分级",
        collect_label=N_("hepatic encephalopathy grade"),
        radio=True,
        options=(
            Option("0", N_("0: no encephalopathy"), ("无", "0级")),
            Option(
                "1",
                N_("I: trivial lack of awareness, shortened attention span"),
                ("I", "1级", "I级", "I度", "1度"),
            ),
            Option(
                "2",
                N_("II: lethargy, disorientation for time, asterixis"),
                ("II", "2级", "II级", "II度", "2度"),
            ),
            Option(
                "3",
                N_("III: somnolence to semi-stupor, confusion, gross disorientation"),
                ("III", "3级", "III级", "III度", "3度"),
            ),
            Option("4", N_("IV: coma"), ("IV", "4级", "IV级", "IV度", "4度")),
        ),
        example=1,
    ),
    *(
        Input(
            key,
            InputKind.QUANTITY,
            Section.INFLAMMATION,
            label,
            zh,
            collect_label=collect,
            analyte=key,
            bounds=bounds,
            typical=typical,
            lab_uln=True,
            censorable=True,
            timed=True,
            loinc={"": (loinc,)},
            example={"value": example, "unit": units.accepted_units(key)[0]},
        )
        for key, label, zh, collect, bounds, typical, loinc, example in (
            (
                "il6",
                N_("IL-6"),
                "白细胞介素6",
                N_("IL-6"),
                (_d("0"), _d("100000")),
                (_d("0"), _d("5000")),
                "26881-3",
                "25",
            ),
            (
                "tnf_alpha",
                N_("TNF-α"),
                "肿瘤坏死因子α",
                N_("TNF-α"),
                (_d("0"), _d("100000")),
                (_d("0"), _d("1000")),
                "3074-2",
                "12",
            ),
            (
                "crp",
                N_("CRP"),
                "C反应蛋白",
                N_("CRP"),
                (_d("0"), _d("1000")),
                (_d("0"), _d("300")),
                "1988-5",
                "18",
            ),
            (
                "pct",
                N_("PCT"),
                "降钙素原",
                N_("PCT"),
                (_d("0"), _d("1000")),
                (_d("0"), _d("200")),
                "33959-8",
                "0.3",
            ),
        )
    ),
    Input(
        "platelets",
        InputKind.NUMBER,
        Section.BLOOD_COUNT,
        N_("Platelet count"),
        "血小板计数",
        collect_label=N_("platelet count"),
        unit="10^9/L",
        bounds=(_d("1"), _d("2000")),
        typical=(_d("10"), _d("1000")),
        loinc={"": ("777-3", "26515-7")},
        example="120",
    ),
    Input(
        "liver_failure_stage",
        InputKind.CHOICE,
        Section.STAGE,
        N_("Liver failure stage (clinician's assessment)"),
        "肝衰竭分期",
        collect_label=N_("liver failure stage (clinician)"),
        options=(
            Option("early", N_("Early (30% < PTA ≤ 40%)"), ("早期",)),
            Option("intermediate", N_("Intermediate (20% < PTA ≤ 30%)"), ("中期",)),
            Option("late", N_("Late (PTA ≤ 20%)"), ("晚期",)),
            Option("none", N_("Not liver failure"), ("无", "非肝衰竭")),
        ),
        example="early",
    ),
    _answer(
        "able_to_communicate_and_complete",
        N_(
            "The subject is able to communicate well with the researchers and can "
            "complete the study in accordance with the study regulations"
        ),
        "能良好沟通并完成研究",
        N_("Able to communicate and complete the study"),
        example=True,
    ),
    _answer(
        "written_informed_consent",
        N_(
            "The subject was informed of this study and voluntarily signed the "
            "written informed consent form"
        ),
        "已签署书面知情同意书",
        N_("Written informed consent"),
        pending_label=N_("Not yet signed"),
        example=True,
    ),
    _answer(
        "severe_active_bleeding",
        N_("Severe active bleeding"),
        "严重活动性出血",
        N_("Severe active bleeding"),
    ),
    _answer(
        "dic",
        N_("Diffuse intravascular coagulation"),
        "弥散性血管内凝血",
        N_("Diffuse intravascular coagulation"),
    ),
    _answer(
        "allergy_blood_products_or_study_drugs",
        N_(
            "High degree of allergy to blood products or drugs used during "
            "treatment, such as plasma, heparin and protamine"
        ),
        "对血液制品或治疗用药高度过敏",
        N_("High degree of allergy to blood products or study drugs"),
    ),
    _answer(
        "circulatory_failure",
        N_("Circulatory failure"),
        "循环衰竭",
        N_("Circulatory failure"),
    ),
    _answer(
        "severe_comorbidity",
        N_("Other severe heart, lung, blood or autoimmune disease"),
        "其他严重心肺血液或自身免疫疾病",
        N_("Severe heart, lung, blood or autoimmune disease"),
    ),
    _answer("diabetes", N_("Diabetes"), "糖尿病", N_("Diabetes")),
    _answer(
        "investigator_excludes",
        N_(
            "May be unable to complete this study for other reasons, or the "
            "researchers believe the subject should not be included"
        ),
        "研究者认为不宜入组",
        N_("Investigator judges the subject should not be included"),
    ),
    _answer(
        "aclf_diagnosis",
        N_("A clinical diagnosis of acute-on-chronic liver failure (ACLF)"),
        "临床诊断慢加急性肝衰竭",
        N_("Clinical diagnosis of ACLF"),
        example=True,
    ),
    _answer(
        "toxic_symptoms",
        N_("Obvious gastrointestinal and/or systemic toxic symptoms"),
        "明显消化道或全身中毒症状",
        N_("Gastrointestinal or systemic toxic symptoms"),
        example=True,
    ),
    _answer(
        "ascites_none_or_mild",
        N_("No or mild ascites or pleural effusion"),
        "无或轻度腹水胸水",
        N_("No or mild ascites or pleural effusion"),
        example=True,
    ),
    _answer(
        "liver_cancer",
        N_("Primary or metastatic liver cancer"),
        "原发性或转移性肝癌",
        N_("Primary or metastatic liver cancer"),
    ),
    _answer(
        "slowly_progressing_cirrhosis",
        N_("Slowly progressing hepatic cirrhosis and hepatic failure"),
        "缓慢进展的肝硬化和肝衰竭",
        N_("Slowly progressing cirrhosis and hepatic failure"),
    ),
    _answer(
        "uncontrolled_severe_infection",
        N_("Uncontrolled severe infection"),
        "未控制的严重感染",
        N_("Uncontrolled severe infection"),
    ),
    _answer("shock", N_("Shock"), "休克", N_("Shock")),
    _answer(
        "recent_active_bleeding",
        N_(
            "Active gastrointestinal bleeding, or obvious bleeding elsewhere, "
            "in the period before screening that the criterion names"
        ),
        "筛选前活动性消化道出血或其他部位明显出血",
        N_("Recent active or obvious bleeding"),
    ),
    _answer(
        "severe_esophageal_varices",
        N_("Severe esophageal varices"),
        "重度食管静脉曲张",
        N_("Severe esophageal varices"),
    ),
)

INPUTS: Mapping[str, Input] = MappingProxyType({i.key: i for i in _INPUTS})
assert len(INPUTS) == len(_INPUTS), "an input is declared twice"  # noqa: S101

ANSWERS = tuple(k for k, i in INPUTS.items() if i.kind is InputKind.ANSWER)
LAB_INPUTS = tuple(k for k, i in INPUTS.items() if i.is_lab)

# Extra words a file may use for an answer, on top of yes/no/true/false.
ANSWER_WORDS: Mapping[str, object] = MappingProxyType(
    {
        "true": True,
        "yes": True,
        "y": True,
        "1": True,
        "是": True,
        "有": True,
        "false": False,
        "no": False,
        "n": False,
        "0": False,
        "否": False,
        "无": False,
        "pending": PENDING,
        "待定": PENDING,
        "待查": PENDING,
        "未签署": PENDING,
        "not yet signed": PENDING,
    }
)
LAB_STATUS_WORDS: Mapping[str, str] = MappingProxyType(
    {
        "pending": PENDING,
        "待回报": PENDING,
        "待定": PENDING,
        "待查": PENDING,
        "not_done": NOT_DONE,
        "not done": NOT_DONE,
        "未做": NOT_DONE,
        "未查": NOT_DONE,
    }
)


# Laboratory systems name a test by its LOINC code (``Input.loinc``) or by a
# name: the input's key, its Chinese header, or one of these spellings. A name
# not listed is refused, never matched by likeness.
# LOINC codes of the registry, checked against published test catalogues where
# one could be read here: 3074-2 (TNF-alpha, serum or plasma), 5894-1 (PT
# actual/normal, whose German synonym is the Quick value: PT activity in %),
# 6301-6 (INR), 2160-0 (creatinine, mass/volume). Not checked here, from the
# LOINC table as remembered: 1975-2 and 14631-6 (total bilirubin, mass and
# moles per volume), 14682-9 (creatinine, moles/volume), 34714-6 (INR in
# blood), 26881-3 (IL-6), 1988-5 (CRP), 33959-8 (PCT), 1751-7 (albumin),
# 2951-2 (sodium), 777-3 and 26515-7 (platelets), 5902-2 (PT in seconds; the
# control's time has no code of its own here and is matched by name only).
LAB_TEST_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "TBIL": "tbil",
        "T-BIL": "tbil",
        "血清总胆红素": "tbil",
        "PTA": "pta_percent",
        "PT%": "pta_percent",
        "凝血酶原活动度": "pta_percent",
        "凝血酶原时间活动度": "pta_percent",
        "INR": "inr",
        "PT-INR": "inr",
        "PT": "pt_seconds",
        "PT对照": "pt_control_seconds",
        "PT-对照": "pt_control_seconds",
        "国际标准化比率": "inr",
        "CREA": "creatinine",
        "CR": "creatinine",
        "肌酐": "creatinine",
        "血肌酐": "creatinine",
        "IL-6": "il6",
        "IL6": "il6",
        "白细胞介素-6": "il6",
        "白介素-6": "il6",
        "TNF-α": "tnf_alpha",
        "TNF-A": "tnf_alpha",
        "肿瘤坏死因子-α": "tnf_alpha",
        "CRP": "crp",
        "C-反应蛋白": "crp",
        "PCT": "pct",
        "ALB": "albumin",
        "NA": "sodium_mmol_l",
        "钠": "sodium_mmol_l",
        "PLT": "platelets",
    }
)


def _loinc_index() -> dict[str, tuple[str, str]]:
    index: dict[str, tuple[str, str]] = {}
    for item in INPUTS.values():
        for unit, codes in item.loinc.items():
            for code in codes:
                if code in index:
                    raise AssertionError(f"LOINC code {code} is declared twice")
                index[code] = (item.key, unit)
    return index


_LOINC_INDEX = MappingProxyType(_loinc_index())


def input_for_loinc(code: str) -> tuple[Input, str] | None:
    """The input a LOINC code reports, and the unit that code implies ("" any)."""
    found = _LOINC_INDEX.get(code)
    return (INPUTS[found[0]], found[1]) if found else None


def _test_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for item in INPUTS.values():
        if item.is_lab:
            names[item.key.casefold()] = item.key
            names[item.zh_header.casefold()] = item.key
    for name, key in LAB_TEST_NAMES.items():
        if INPUTS[key].is_lab:
            names[name.casefold()] = key
    return names


_TEST_NAMES = MappingProxyType(_test_names())


def input_for_test(name: str) -> tuple[Input, str] | None:
    """A laboratory's test code or name -> (input, implied unit), or None."""
    text = name.strip()
    return input_for_loinc(text) or (
        (INPUTS[_TEST_NAMES[text.casefold()]], "")
        if text.casefold() in _TEST_NAMES
        else None
    )


def _columns() -> dict[str, tuple[Input, Part]]:
    columns: dict[str, tuple[Input, Part]] = {}
    for item in INPUTS.values():
        for part in item.parts:
            for header in (item.column(part), item.zh_column(part)):
                if header in columns:
                    raise AssertionError(f"column {header!r} is declared twice")
                columns[header] = (item, part)
    return columns


_COLUMN_INDEX = MappingProxyType(_columns())


def column_index() -> Mapping[str, tuple[Input, Part]]:
    """Every accepted CSV header (English and Chinese) -> (input, part)."""
    return _COLUMN_INDEX


_PATH_RE = re.compile(
    r"^(?P<key>[a-z0-9_]+)(?:\[(?P<index>\d+)\])?(?:\.(?P<part>\w+))?$"
)


def input_for_path(path: str) -> tuple[Input | None, int | None, Part]:
    """A contract path ("tbil.unit", "tbil_series[1].time") -> input, row, part."""
    match = _PATH_RE.match(path)
    if not match or match["key"] not in INPUTS:
        return None, None, Part.VALUE
    index = int(match["index"]) if match["index"] is not None else None
    try:
        part = Part(match["part"] or "")
    except ValueError:
        part = Part.VALUE
    return INPUTS[match["key"]], index, part


def example_candidate() -> dict:
    """A candidate in the contract made of every input's example value."""
    return {key: item.example for key, item in INPUTS.items()}
