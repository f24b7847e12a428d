"""The second trial's criteria (PMC6247955, ACLF) at and around each threshold.

No database: the criteria are read from the shipped trial file
(trials/data/aclf-pmc6247955.json), version 1 (as loaded, active) and version 2
(Amendment 2: age, PTA and platelet count), and a candidate goes through the
parser, the derived facts and the engine.
"""

import json
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from screening.domain.contract import parse_candidate
from screening.domain.engine import (
    ConditionSpec,
    CriterionSpec,
    Decision,
    Operator,
    Outcome,
    evaluate,
)
from screening.domain.facts import derive
from tests.validation import item_codes, trial_criteria
from trials.files import SHIPPED

MET, NOT_MET, UNKNOWN = Outcome.MET, Outcome.NOT_MET, Outcome.UNKNOWN
SITE = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 6, 1)
FILE = json.loads(
    SHIPPED["aclf-pmc6247955"].read_text(encoding="utf-8"), parse_float=Decimal
)


def _decimal(value):
    return None if value is None else Decimal(value)


def specs(number: int) -> tuple[CriterionSpec, ...]:
    """A version of the file as the adapter builds it from the loaded rows."""
    (version,) = [v for v in FILE["versions"] if v["number"] == number]
    return tuple(
        CriterionSpec(
            code=c["code"],
            kind=c["kind"],
            text=c["text"],
            conditions=tuple(
                ConditionSpec(
                    variable=k["variable"],
                    operator=Operator(k["operator"]),
                    low=_decimal(k["value_low"]),
                    high=_decimal(k["value_high"]),
                    values=tuple(k["values"]),
                    unit=k["unit"],
                    supporting=k["supporting"],
                    lookback_hours=k["lookback_hours"],
                    relative_to_uln=k["relative_to_uln"],
                    lab_uln_replaces=k["lab_uln_replaces"],
                )
                for k in c["conditions"]
            ),
        )
        for c in version["criteria"]
        if c["active"]
    )


V1, V2 = specs(1), specs(2)


def aclf_candidate(**overrides) -> dict:
    """A candidate in the input contract who meets every criterion of both versions."""
    data = {
        "screening_number": "01-001",
        "sex": "F",
        "date_of_birth": "1980-05-17",
        "screening_date": "2026-06-01",
        "tbil": {
            "value": "150",
            "unit": "umol/L",
            "uln": "20",
            "time": "2026-06-01T08:00+08:00",
        },
        "pta_percent": "35",
        "inr": "1.8",
        # 2 s longer than the control: I5's third alternative does not hold,
        # so each of the other two is tested alone.
        "pt_seconds": "14.5",
        "pt_control_seconds": "12.5",
        "he_grade": 1,
        "platelets": "120",
        "creatinine": {"value": "90", "unit": "umol/L"},
        "aclf_diagnosis": True,
        "toxic_symptoms": True,
        "ascites_none_or_mild": True,
        "liver_cancer": False,
        "slowly_progressing_cirrhosis": False,
        "uncontrolled_severe_infection": False,
        "shock": False,
        "recent_active_bleeding": False,
        "severe_esophageal_varices": False,
    }
    data.update(overrides)
    return data


def assess(data, version=V1):
    parsed = parse_candidate(data, today=TODAY, tz=SITE)
    return evaluate(version, derive(parsed, tz=SITE).facts)


def outcome_of(evaluation, code):
    (result,) = [r for r in evaluation.criteria if r.code == code]
    return result.outcome


def born_years_before(years: int) -> str:
    return date(TODAY.year - years, TODAY.month, TODAY.day).isoformat()


@pytest.mark.criterion(*(c.code for c in trial_criteria("ACLF")))
@pytest.mark.parametrize("version", [V1, V2], ids=["v1", "v2"])
def test_the_reference_candidate_is_eligible_under_both_versions(version):
    evaluation = assess(aclf_candidate(), version)
    assert evaluation.decision is Decision.ELIGIBLE, evaluation.criteria


def flat(value: str, unit: str) -> list[dict]:
    """The same TBil a day before: a daily rise of 0, known."""
    return [{"time": "2026-05-31T08:00+08:00", "value": value, "unit": unit}]


def numeric_cases():
    both = (("v1", V1), ("v2", V2))
    # I1: age 16-65, 15-66 after Amendment 2 (completed years, both ends in).
    for age, v1, v2 in [
        (14, NOT_MET, NOT_MET),
        (15, NOT_MET, MET),
        (16, MET, MET),
        (65, MET, MET),
        (66, NOT_MET, MET),
        (67, NOT_MET, NOT_MET),
    ]:
        for (name, version), outcome in zip(both, (v1, v2), strict=True):
            data = {"date_of_birth": born_years_before(age)}
            yield pytest.param(
                "ACLF:I1", version, data, outcome, id=f"I1-age{age}-{name}"
            )
    # I4: TBil > 5 x the laboratory's ULN (a ULN of 20 umol/L: above 100).
    for value, uln, unit, outcome in [
        ("100", "20", "umol/L", NOT_MET),
        ("100.1", "20", "umol/L", MET),
        ("99.9", "20", "umol/L", NOT_MET),
        # In mg/dL with the ULN in mg/dL: 5 x 1.2 = 6.0.
        ("6.0", "1.2", "mg/dL", NOT_MET),
        ("6.1", "1.2", "mg/dL", MET),
    ]:
        tbil = {"value": value, "unit": unit, "uln": uln, "time": "2026-06-01T08:00"}
        data = {"tbil": tbil, "tbil_series": flat(value, unit)}
        yield pytest.param(
            "ACLF:I4", V1, data, outcome, id=f"I4-tbil{value}{unit}-uln{uln}"
        )
    # Without the laboratory's ULN (and no daily rise) the criterion is unknown,
    # and the ULN is what to collect.
    no_uln = {"value": "300", "unit": "umol/L", "time": "2026-06-01T08:00"}
    data = {"tbil": no_uln, "tbil_series": flat("300", "umol/L")}
    yield pytest.param("ACLF:I4", V1, data, UNKNOWN, id="I4-no-uln")
    # ... or a daily rise > 17.1 umol/L (1 mg/dL): TBil itself below 5 x ULN.
    for rise, outcome in [("17.0", NOT_MET), ("17.1", NOT_MET), ("17.2", MET)]:
        current = Decimal(80) + Decimal(rise)
        data = {
            "tbil": {
                "value": str(current),
                "unit": "umol/L",
                "uln": "20",
                "time": "2026-06-01T08:00+08:00",
            },
            "tbil_series": [
                {"time": "2026-05-31T08:00+08:00", "value": "80", "unit": "umol/L"}
            ],
        }
        yield pytest.param("ACLF:I4", V1, data, outcome, id=f"I4-rise{rise}")
    # I5: PTA 20-50 % (10-50 % after Amendment 2), or INR 1.6-4.0.
    inr_out = "1.2"
    for pta, v1, v2 in [
        ("9.9", NOT_MET, NOT_MET),
        ("10", NOT_MET, MET),
        ("19.9", NOT_MET, MET),
        ("20", MET, MET),
        ("50", MET, MET),
        ("50.1", NOT_MET, NOT_MET),
    ]:
        for (name, version), outcome in zip(both, (v1, v2), strict=True):
            data = {"pta_percent": pta, "inr": inr_out}
            yield pytest.param(
                "ACLF:I5", version, data, outcome, id=f"I5-pta{pta}-{name}"
            )
    pta_out = "60"
    for inr, outcome in [
        ("1.59", NOT_MET),
        ("1.6", MET),
        ("4.0", MET),
        ("4.01", NOT_MET),
    ]:
        data = {"pta_percent": pta_out, "inr": inr}
        yield pytest.param("ACLF:I5", V1, data, outcome, id=f"I5-inr{inr}")
    # ... or a PT more than 5 s and less than 20 s longer than the control
    # (both bounds excluded), whatever the PTA and INR.
    for pt, control, outcome in [
        ("17.4", "12.5", NOT_MET),  # 4.9 s
        ("17.5", "12.5", NOT_MET),  # 5 s: not more than 5
        ("17.6", "12.5", MET),  # 5.1 s
        ("32.4", "12.5", MET),  # 19.9 s
        ("32.5", "12.5", NOT_MET),  # 20 s: not less than 20
        ("32.6", "12.5", NOT_MET),  # 20.1 s
        ("12", "12.5", NOT_MET),  # shorter than the control
    ]:
        data = {
            "pta_percent": pta_out,
            "inr": inr_out,
            "pt_seconds": pt,
            "pt_control_seconds": control,
        }
        for name, version in both:
            yield pytest.param(
                "ACLF:I5", version, data, outcome, id=f"I5-pt{pt}-{control}-{name}"
            )
    # I6: encephalopathy at most grade II; E6: grade III or IV.
    for grade, i6, e6 in [(0, MET, NOT_MET), (2, MET, NOT_MET), (3, NOT_MET, MET)]:
        yield pytest.param("ACLF:I6", V1, {"he_grade": grade}, i6, id=f"I6-he{grade}")
        yield pytest.param("ACLF:E6", V1, {"he_grade": grade}, e6, id=f"E6-he{grade}")
    yield pytest.param("ACLF:E6", V1, {"he_grade": 4}, MET, id="E6-he4")
    # E7: platelets < 50 x 10^9/L (< 40 after Amendment 2).
    for count, v1, v2 in [
        ("39.9", MET, MET),
        ("40", MET, NOT_MET),
        ("49.9", MET, NOT_MET),
        ("50", NOT_MET, NOT_MET),
    ]:
        for (name, version), outcome in zip(both, (v1, v2), strict=True):
            data = {"platelets": count}
            yield pytest.param(
                "ACLF:E7", version, data, outcome, id=f"E7-plt{count}-{name}"
            )
    # E8: creatinine > 1.5 mg/dL (132.6 umol/L), typed in either unit.
    for value, unit, outcome in [
        ("132.6", "umol/L", NOT_MET),
        ("132.7", "umol/L", MET),
        ("1.5", "mg/dL", NOT_MET),
        ("1.51", "mg/dL", MET),
        ("1.49", "mg/dL", NOT_MET),
    ]:
        data = {"creatinine": {"value": value, "unit": unit}}
        yield pytest.param("ACLF:E8", V1, data, outcome, id=f"E8-creat{value}{unit}")


@pytest.mark.criterion(from_param="code")
@pytest.mark.parametrize(
    ("code", "version", "change", "outcome"), list(numeric_cases())
)
def test_each_threshold_at_and_around_its_boundary(code, version, change, outcome):
    evaluation = assess(aclf_candidate(**change), version)
    assert outcome_of(evaluation, code.removeprefix("ACLF:")) is outcome


ANSWERS = {
    "I2": ("aclf_diagnosis", True),
    "I3": ("toxic_symptoms", True),
    "I7": ("ascites_none_or_mild", True),
    "E1": ("liver_cancer", False),
    "E2": ("slowly_progressing_cirrhosis", False),
    "E3": ("uncontrolled_severe_infection", False),
    "E4": ("shock", False),
    "E5": ("recent_active_bleeding", False),
    "E9": ("severe_esophageal_varices", False),
}


def answer_cases():
    for code, (item, eligible_answer) in ANSWERS.items():
        inclusion = code.startswith("I")
        for answer in (True, False, None):
            if answer is None:
                outcome, decision = UNKNOWN, Decision.INCOMPLETE
            else:
                outcome = MET if answer else NOT_MET
                decision = (
                    Decision.ELIGIBLE
                    if answer == eligible_answer
                    else Decision.INELIGIBLE
                )
            assert inclusion is eligible_answer
            yield pytest.param(
                f"ACLF:{code}",
                {item: answer},
                outcome,
                decision,
                id=f"{code}-{item}-{answer}",
            )


@pytest.mark.criterion(from_param="code")
@pytest.mark.parametrize(
    ("code", "answer", "outcome", "decision"), list(answer_cases())
)
@pytest.mark.parametrize("version", [V1, V2], ids=["v1", "v2"])
def test_each_answer_decides_its_criterion_alone(
    code, answer, outcome, decision, version
):
    evaluation = assess(aclf_candidate(**answer), version)
    assert outcome_of(evaluation, code.removeprefix("ACLF:")) is outcome
    assert evaluation.decision is decision


@pytest.mark.criterion("ACLF:I5")
@pytest.mark.parametrize(
    ("missing", "asked"),
    [
        (("pt_seconds",), ("pt_seconds",)),
        (("pt_control_seconds",), ("pt_control_seconds",)),
        (("pt_seconds", "pt_control_seconds"), ("pt_seconds", "pt_control_seconds")),
    ],
)
def test_without_the_pt_a_candidate_failing_pta_and_inr_is_not_excluded_by_i5(
    missing, asked
):
    data = aclf_candidate(pta_percent="60", inr="1.2")
    for key in missing:
        del data[key]
    evaluation = assess(data)
    assert outcome_of(evaluation, "I5") is UNKNOWN
    assert evaluation.decision is Decision.INCOMPLETE
    assert evaluation.to_collect == asked
    # A PTA or an INR that holds decides without the PT.
    assert outcome_of(assess({**data, "inr": "1.6"}), "I5") is MET


@pytest.mark.criterion("ACLF:I5")
@pytest.mark.parametrize(
    ("statuses", "asked", "relation"),
    [
        ({"pt_seconds": "pending"}, ("pt_seconds",), "pending"),
        ({"pt_control_seconds": "not_done"}, ("pt_control_seconds",), "not done"),
        (
            {"pt_seconds": "pending", "pt_control_seconds": "pending"},
            ("pt_seconds", "pt_control_seconds"),
            "pending",
        ),
        # Not the same status: the prolongation is just not available.
        (
            {"pt_seconds": "pending", "pt_control_seconds": "not_done"},
            ("pt_seconds", "pt_control_seconds"),
            "unknown",
        ),
    ],
)
def test_a_pending_pt_is_not_a_no(statuses, asked, relation):
    data = aclf_candidate(pta_percent="60", inr="1.2", **statuses)
    evaluation = assess(data)
    assert outcome_of(evaluation, "I5") is UNKNOWN
    assert evaluation.to_collect == asked
    (i5,) = [r for r in evaluation.criteria if r.code == "I5"]
    assert i5.conditions[2].relation == relation


@pytest.mark.criterion("ACLF:I5")
def test_the_pt_reason_names_the_prolongation_and_its_open_range():
    data = aclf_candidate(
        pta_percent="60", inr="1.2", pt_seconds="17.5", pt_control_seconds="12.5"
    )
    (i5,) = [r for r in assess(data).criteria if r.code == "I5"]
    assert i5.conditions[2].reason == "PT prolongation 5 s <= 5 (outside (5, 20))"
    data["pt_seconds"] = "20.5"
    (i5,) = [r for r in assess(data).criteria if r.code == "I5"]
    assert i5.conditions[2].reason == "PT prolongation 8 s within (5, 20)"


def test_without_the_laboratory_uln_it_is_what_to_collect():
    no_uln = {"value": "300", "unit": "umol/L", "time": "2026-06-01T08:00"}
    evaluation = assess(aclf_candidate(tbil=no_uln, tbil_series=flat("300", "umol/L")))
    assert evaluation.decision is Decision.INCOMPLETE
    assert evaluation.to_collect == ("tbil_uln",)


def test_the_amendment_changes_exactly_age_pta_and_platelets():
    v1 = {s.code: s.conditions for s in V1}
    v2 = {s.code: s.conditions for s in V2}
    assert v1.keys() == v2.keys()
    assert {code for code in v1 if v1[code] != v2[code]} == {"I1", "I5", "E7"}


def test_every_criterion_of_the_trial_has_a_tagged_test_here(request):
    tagged = {
        code
        for item in request.session.items
        if item.module is request.module
        for code in item_codes(item)
    }
    assert {c.code for c in trial_criteria("ACLF")} <= tagged


def test_tbil_takes_a_laboratory_uln_and_a_score_computed_from_it_does_not():
    from screening.domain.variables import takes_lab_uln, uln_inputs

    assert takes_lab_uln("tbil_umol_l")
    assert uln_inputs("tbil_umol_l") == ("tbil_uln",)
    assert not takes_lab_uln("meld")
    assert uln_inputs("meld") == ()
