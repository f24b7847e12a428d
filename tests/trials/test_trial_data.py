"""The loaded trial matches the protocol of NCT06904755, and loading is idempotent."""

import re
from decimal import Decimal as D
from io import StringIO

import pytest
from django.core.management import call_command

from trials.models import Condition, Criterion, Trial
from trials.services import (
    LOAD_REASON,
    trial_load_protocol,
    version_active,
    version_draft_create,
)

pytestmark = pytest.mark.django_db

INCLUSION = Criterion.Kind.INCLUSION
EXCLUSION = Criterion.Kind.EXCLUSION

# The eligibility criteria as listed in ../shared/trial/ (NCT06904755), in order.
PROTOCOL_WORDING = {
    "I1": "Age range from 18 to 65 years old",
    "I2": "Patients with acute liver failure in the early and intermediate stages "
    "caused by various reasons",
    "I3": "Total bilirubin (TBil) ≥ 171μmol/L or an increase of ≥ 17.1μmol/L per day",
    "I4": "Prothrombin activity (PTA) between 20% and 40% (or INR between 1.5 and 2.6)",
    "I5": "No hepatic encephalopathy or encephalopathy below grade II "
    "(including grade II)",
    "I6": "Elevated inflammatory markers (IL-6 / TNF-α / CRP, etc.)",
    "I7": "The subjects are able to communicate well with the researchers and can "
    "complete the study in accordance with the study regulations",
    "I8": "The subjects must be informed of this study and voluntarily sign a "
    "written informed consent form before the experiment",
    "E1": "Patients with severe active bleeding or diffuse intravascular coagulation",
    "E2": "Patients with a high degree of allergy to blood products or drugs used "
    "during treatment, such as plasma, heparin, and protamine",
    "E3": "Patients with circulatory failure",
    "E4": "Patients with a MELD score > 30",
    "E5": "Patients with other severe heart diseases, lung diseases, blood diseases, "
    "autoimmune diseases, or diabetes",
    "E6": "Subjects who may be unable to complete this study for other reasons or "
    "who the researchers believe should not be included",
}

# code -> (kind, clinician's attestation, conditions in order), each condition
# (variable, operator, low, high, categories).
PROTOCOL = {
    "I1": (INCLUSION, False, [("age_years", "BETWEEN", D(18), D(65), "")]),
    "I2": (
        INCLUSION,
        True,
        [("liver_failure_stage", "IN", None, None, "early,intermediate")],
    ),
    "I3": (
        INCLUSION,
        False,
        [
            ("tbil_umol_l", "GTE", D(171), None, ""),
            ("tbil_rise_per_day", "GTE", D("17.1"), None, ""),
        ],
    ),
    "I4": (
        INCLUSION,
        False,
        [
            ("pta_percent", "BETWEEN", D(20), D(40), ""),
            ("inr", "BETWEEN", D("1.5"), D("2.6"), ""),
        ],
    ),
    "I5": (INCLUSION, False, [("he_grade", "LTE", D(2), None, "")]),
    "I6": (
        INCLUSION,
        False,
        [
            ("il6_pg_ml", "GT", D(7), None, ""),
            ("tnf_alpha_pg_ml", "GT", D("8.1"), None, ""),
            ("crp_mg_l", "GT", D(10), None, ""),
            ("pct_ng_ml", "GT", D("0.05"), None, ""),
        ],
    ),
    "I7": (
        INCLUSION,
        True,
        [("able_to_communicate_and_complete", "IS_TRUE", None, None, "")],
    ),
    "I8": (INCLUSION, True, [("written_informed_consent", "IS_TRUE", None, None, "")]),
    "E1": (
        EXCLUSION,
        True,
        [
            ("severe_active_bleeding", "IS_TRUE", None, None, ""),
            ("dic", "IS_TRUE", None, None, ""),
        ],
    ),
    "E2": (
        EXCLUSION,
        True,
        [("allergy_blood_products_or_study_drugs", "IS_TRUE", None, None, "")],
    ),
    "E3": (EXCLUSION, True, [("circulatory_failure", "IS_TRUE", None, None, "")]),
    "E4": (EXCLUSION, False, [("meld", "GT", D(30), None, "")]),
    "E5": (
        EXCLUSION,
        True,
        [
            ("severe_comorbidity", "IS_TRUE", None, None, ""),
            ("diabetes", "IS_TRUE", None, None, ""),
        ],
    ),
    "E6": (EXCLUSION, True, [("investigator_excludes", "IS_TRUE", None, None, "")]),
}

UNITS = {
    "age_years": "years",
    "tbil_umol_l": "umol/L",
    "tbil_rise_per_day": "umol/L/day",
    "pta_percent": "%",
    "il6_pg_ml": "pg/mL",
    "tnf_alpha_pg_ml": "pg/mL",
    "crp_mg_l": "mg/L",
    "pct_ng_ml": "ng/mL",
}


def _conditions(criterion):
    return [
        (c.variable, c.operator, c.value_low, c.value_high, c.values)
        for c in criterion.conditions.order_by("position", "id")
    ]


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text.replace("\\", "")).rstrip(";.")


def test_trial_is_loaded_with_registry_facts(trial):
    assert trial.slug == "nct06904755"
    assert trial.registry_id == "NCT06904755"
    assert trial.title == (
        "Safety and Effectiveness of Mesenchymal Stem Cells in Blood Purification "
        "for the Treatment of Liver Failure"
    )
    assert trial.title_zh_hans
    assert trial.sponsor == "Kebo Zhong"
    assert "Zhujiang Hospital" in trial.site
    assert trial.status == Trial.Status.RECRUITING


def test_exactly_the_protocol_criteria_in_protocol_order(trial):
    rows = list(trial.criteria.order_by("position"))
    assert [r.code for r in rows] == [*(f"I{n}" for n in range(1, 9))] + [
        f"E{n}" for n in range(1, 7)
    ]
    assert [r.position for r in rows] == list(range(1, 15))
    assert all(r.active for r in rows)


@pytest.mark.criterion(from_param="code")
@pytest.mark.parametrize("code", list(PROTOCOL))
def test_criterion_kind_and_attestation(trial, code):
    kind, attestation, _conditions_expected = PROTOCOL[code]
    criterion = trial.criteria.get(code=code)
    assert criterion.kind == kind
    assert criterion.is_attestation is attestation


@pytest.mark.criterion(from_param="code")
@pytest.mark.parametrize("code", list(PROTOCOL))
def test_criterion_thresholds_are_the_protocol(trial, code):
    _kind, _attestation, expected = PROTOCOL[code]
    assert _conditions(trial.criteria.get(code=code)) == expected


@pytest.mark.criterion(from_param="code")
@pytest.mark.parametrize("code", list(PROTOCOL))
def test_conditions_are_valid_and_carry_the_registry_unit(trial, code):
    for condition in trial.criteria.get(code=code).conditions.all():
        condition.full_clean()
        assert condition.unit == UNITS.get(condition.variable, condition.unit)


@pytest.mark.criterion(from_param="code")
@pytest.mark.parametrize("code", list(PROTOCOL_WORDING))
def test_criterion_carries_the_protocol_wording(trial, code):
    criterion = trial.criteria.get(code=code)
    assert _squeeze(criterion.text) == _squeeze(PROTOCOL_WORDING[code])
    assert criterion.text_zh_hans.strip()
    assert re.search(r"[\u4e00-\u9fff]", criterion.text_zh_hans)


@pytest.mark.criterion("I1", "I3", "I4", "E4")
def test_chinese_wording_keeps_the_protocol_numbers(trial):
    texts = dict(trial.criteria.values_list("code", "text_zh_hans"))
    assert "18" in texts["I1"] and "65" in texts["I1"]
    assert "171" in texts["I3"] and "17.1" in texts["I3"]
    assert "20" in texts["I4"] and "40" in texts["I4"]
    assert "1.5" in texts["I4"] and "2.6" in texts["I4"]
    assert "30" in texts["E4"]


def test_load_trial_command_reports_the_criteria_created():
    out = StringIO()
    call_command("load_trial", stdout=out)
    assert "NCT06904755" in out.getvalue()
    assert "1 version(s), 14 criteria, 21 conditions created" in out.getvalue()
    assert "version 1: loaded as ACTIVE" in out.getvalue()
    assert Criterion.objects.count() == 14
    assert Condition.objects.count() == 21


def test_load_trial_twice_creates_nothing_new():
    call_command("load_trial", stdout=StringIO())
    counts = (
        Trial.objects.count(),
        Criterion.objects.count(),
        Condition.objects.count(),
        Trial.history.count(),
        Criterion.history.count(),
        Condition.history.count(),
    )
    out = StringIO()
    call_command("load_trial", stdout=out)
    assert "unchanged" in out.getvalue()
    assert "created" not in out.getvalue()
    assert (
        Trial.objects.count(),
        Criterion.objects.count(),
        Condition.objects.count(),
        Trial.history.count(),
        Criterion.history.count(),
        Condition.history.count(),
    ) == counts
    assert counts[:3] == (1, 14, 21)


def test_service_returns_the_trial_and_the_number_created():
    trial, created = trial_load_protocol()
    assert created == 14
    again, created_again = trial_load_protocol()
    assert again.pk == trial.pk
    assert created_again == 0


def test_load_writes_history_with_a_reason(trial):
    assert set(Criterion.history.values_list("history_change_reason", flat=True)) == {
        LOAD_REASON
    }
    assert set(Condition.history.values_list("history_change_reason", flat=True)) == {
        LOAD_REASON
    }
    assert Criterion.history.filter(history_type="+").count() == 14


def test_reload_keeps_a_drafts_edits_and_the_trials(trial):
    draft = version_draft_create(trial=trial, user=None, label="Amendment 1")
    crp = Condition.objects.get(criterion__version=draft, variable="crp_mg_l")
    crp.value_low = D(5)
    crp._change_reason = "Amendment 1"
    crp.save()
    Criterion.objects.filter(version=draft, code="E6").update(active=False)
    Trial.objects.filter(pk=trial.pk).update(status=Trial.Status.CLOSED)

    out = StringIO()
    call_command("load_trial", stdout=out)

    assert "unchanged" in out.getvalue()
    assert "kept: trial: status differ" in out.getvalue()
    crp.refresh_from_db()
    assert crp.value_low == D(5)
    assert not Criterion.objects.get(version=draft, code="E6").active
    assert Trial.objects.get(pk=trial.pk).status == Trial.Status.CLOSED
    active = version_active(trial=trial)
    assert Condition.objects.get(
        criterion__version=active, variable="crp_mg_l"
    ).value_low == D(10)
    assert trial.versions.count() == 2
