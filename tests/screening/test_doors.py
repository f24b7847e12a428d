"""Every door reads a candidate the same way: form, prescreen JSON and CSV, upload.

The registry is the one list of inputs: a door that lists a field the registry
does not know fails here. The same candidate gives the same decision, blocking
and missing codes, MELD and TBil rise through every door.
"""

import io
import itertools
import json
from decimal import Decimal
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from screening.common.words import input_label
from screening.decisions.forms import (
    ScreeningForm,
    TbilSeriesFormSet,
    field_name,
    initial_from_contract,
    post_data_from_contract,
)
from screening.domain.engine import format_number
from screening.domain.inputs import CONFIRM_KEY, INPUTS, InputKind, Part
from screening.domain.variables import VARIABLES
from screening.models import EligibilityDecision, PrescreenResult, PrescreenUpload
from screening.prescreen.files import (
    CSV_COLUMNS,
    csv_row_from_contract,
    csv_template,
    csv_text,
)
from tests.factories import eligible_candidate
from tests.screening.form_data import SCREEN_URL

pytestmark = pytest.mark.django_db

FORM_ONLY = {CONFIRM_KEY, "supersede_reason"}
SERIES_FIELDS = {"time", "value", "unit"}


def registry_fields() -> set[str]:
    """Every form field the registry declares (value, unit, ULN, time, status)."""
    names = set()
    for item in INPUTS.values():
        if item.kind is InputKind.SERIES:
            continue
        parts = (*item.parts, Part.STATUS) if item.is_lab else item.parts
        names |= {field_name(item, part) for part in parts}
    return names


# --- One list of inputs ---------------------------------------------------------


def test_the_form_has_exactly_the_registry_fields():
    form = ScreeningForm(correction=True)
    assert set(form.fields) - FORM_ONLY == registry_fields()
    assert set(TbilSeriesFormSet(prefix="series").forms[0].fields) == SERIES_FIELDS


def test_the_csv_columns_are_exactly_the_registry_columns():
    declared = [i.column(p) for i in INPUTS.values() for p in i.parts]
    assert CSV_COLUMNS == declared
    assert csv_template().splitlines()[0].split(",") == declared
    zh = csv_template(chinese=True).splitlines()[0].split(",")
    assert zh == [i.zh_column(p) for i in INPUTS.values() for p in i.parts]


def test_the_builders_list_only_registry_fields():
    candidate = eligible_candidate()
    post = post_data_from_contract(candidate)
    management = {k for k in post if k.startswith("series-")}
    assert set(post) - management <= registry_fields() | FORM_ONLY
    assert set(csv_row_from_contract(candidate)) == set(CSV_COLUMNS)
    initial, _series = initial_from_contract(candidate)
    assert set(initial) <= registry_fields() | FORM_ONLY


def test_every_input_a_variable_reads_has_words_to_collect():
    for variable in VARIABLES.values():
        for key in variable.inputs:
            assert key in INPUTS
            assert input_label(key) == INPUTS[key].collect
    assert input_label("tbil_series (12 h apart)") != "tbil_series (12 h apart)"


# --- The same candidate through every door ----------------------------------------


def doors_result(record: EligibilityDecision) -> dict:
    rise = record.computed["tbil_max_rise_per_day"]
    return {
        "decision": record.outcome,
        "blocking": list(record.blocking_codes),
        "missing": list(record.unknown_codes),
        "meld": record.meld,
        "rise": format_number(Decimal(rise)) if rise else None,
    }


def entry_result(entry: dict) -> dict:
    return {
        "decision": entry["decision"],
        "blocking": entry["blocking"],
        "missing": entry["missing"],
        "meld": entry["meld"],
        "rise": entry["tbil_max_rise_per_day"],
    }


def through_the_form(client, candidate) -> dict:
    data = post_data_from_contract(
        {**candidate, CONFIRM_KEY: [k for k, i in INPUTS.items() if i.typical]}
    )
    response = client.post(SCREEN_URL, data)
    assert response.status_code == HTTPStatus.FOUND, response.context["form"].errors
    record = EligibilityDecision.unscoped.get(
        screening_number=candidate["screening_number"]
    )
    return doors_result(record)


def through_the_command(tmp_path, candidate, fmt) -> dict:
    path = tmp_path / f"one.{fmt}"
    if fmt == "json":
        path.write_text(json.dumps([candidate]), encoding="utf-8")
    else:
        path.write_text(csv_text([candidate]), encoding="utf-8")
    out = io.StringIO()
    call_command("prescreen", str(path), stdout=out)
    (entry,) = json.loads(out.getvalue())
    assert "errors" not in entry, entry
    return entry_result(entry)


def through_the_upload(client, candidate) -> dict:
    content = csv_text([candidate]).encode("utf-8")
    response = client.post(
        "/trials/nct06904755/prescreen/",
        {"file": SimpleUploadedFile("one.csv", content, "text/csv")},
    )
    assert response.status_code == HTTPStatus.FOUND
    (stored,) = PrescreenResult.unscoped.filter(
        upload=PrescreenUpload.unscoped.latest("uploaded_at")
    )
    return entry_result(stored.result)


def all_doors(client, tmp_path, candidate) -> list[dict]:
    return [
        through_the_command(tmp_path, candidate, "json"),
        through_the_command(tmp_path, candidate, "csv"),
        through_the_upload(client, candidate),
        through_the_form(client, candidate),
    ]


CASES = {
    "eligible": {},
    "meld over 30": {
        "creatinine": {"value": "4.2", "unit": "mg/dL"},
        "inr": "2.6",
        "tbil": {"value": "30", "unit": "mg/dL", "time": "2026-06-01T08:00+08:00"},
    },
    "tbil in mg/dL, rise from the series": {
        "tbil": {"value": "9", "unit": "mg/dL", "time": "2026-06-01T08:00"},
        "tbil_series": [
            {"time": "2026-05-31 20:00", "value": "120", "unit": "umol/L"},
            {"time": "2026/5/30 08:00", "value": "5", "unit": "mg/dL"},
        ],
    },
    "consent not yet signed": {"written_informed_consent": "pending"},
    "pct below the detection limit": {
        "il6": {"value": "3"},
        "tnf_alpha": {"value": "2"},
        "crp": {"value": "2", "unit": "mg/L"},
        "pct": {"value": "<0.05"},
    },
    "il6 above the measuring range": {"il6": {"value": ">1000"}},
    "full-width digits and a Chinese full stop": {
        "creatinine": {"value": "８８。４", "unit": "umol/L"},
        "pta_percent": "３５",
    },
    "chinese answers": {
        "sex": "男",
        "liver_failure_stage": "中期",
        "he_grade": "Ⅱ级",
        "diabetes": "否",
    },
    "pending creatinine": {"creatinine": {"status": "pending"}},
    "inr with a collection time": {"inr": {"value": "1.8", "time": "2026-06-01 07:30"}},
    "labs missing": {"il6": None, "tnf_alpha": None, "crp": None, "pct": None},
    "creatinine unusual but confirmed": {
        "creatinine": {"value": "884", "unit": "umol/L"}
    },
    "excluded by diabetes": {"diabetes": True},
}


@pytest.mark.criterion("I2", "I3", "I4", "I5", "I6", "I8", "E4", "E5")
@pytest.mark.parametrize("case", CASES)
def test_every_door_gives_the_same_result(case, client, coordinator, trial, tmp_path):
    client.force_login(coordinator)
    candidate = eligible_candidate(
        screening_number=f"05-{list(CASES).index(case):03d}", **CASES[case]
    )
    results = all_doors(client, tmp_path, candidate)
    assert results[1:] == results[:-1], case


# Examples share the test's database: each gets a number of its own.
_NUMBERS = itertools.count(1)


@st.composite
def candidates(draw):
    return eligible_candidate(
        screening_number=f"06-{next(_NUMBERS):04d}",
        tbil={
            "value": draw(st.sampled_from(["150", "171", "180", "9.9", "２００"])),
            "unit": "umol/L",
            "time": "2026-06-01T08:00+08:00",
        },
        pta_percent=draw(st.sampled_from(["19.9", "20", "35", "40", "40.1", None])),
        inr=draw(st.sampled_from(["1.49", "1.5", "2.6", "2.61", None])),
        creatinine=draw(
            st.sampled_from(
                [
                    {"value": "90", "unit": "umol/L"},
                    {"value": "3.9", "unit": "mg/dL"},
                    {"status": "pending"},
                    None,
                ]
            )
        ),
        he_grade=draw(st.sampled_from([0, 1, 2, 3, "II", None])),
        crp=draw(
            st.sampled_from(
                [
                    {"value": "10", "unit": "mg/L"},
                    {"value": "10.01", "unit": "mg/L"},
                    {"value": "<5", "unit": "mg/L"},
                    None,
                ]
            )
        ),
        written_informed_consent=draw(st.sampled_from([True, False, "pending", None])),
        diabetes=draw(st.sampled_from([True, False, None])),
    )


@pytest.mark.criterion("I3", "I4", "I5", "I6", "I8", "E4", "E5")
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(candidate=candidates())
def test_any_valid_candidate_gives_the_same_result_through_every_door(
    client, coordinator, trial, tmp_path, candidate
):
    client.force_login(coordinator)
    results = all_doors(client, tmp_path, candidate)
    assert results[1:] == results[:-1]


def test_the_benchmarks_synthetic_posts_are_all_recorded(client, coordinator, trial):
    """The one builder turns every synthetic candidate into a valid form POST."""
    from datetime import date

    from screening import synthetic

    client.force_login(coordinator)
    typical = [k for k, i in INPUTS.items() if i.typical]
    for data in synthetic.candidates(25, start=date(2026, 6, 1)):
        post = post_data_from_contract({**data, CONFIRM_KEY: typical})
        response = client.post(SCREEN_URL, post)
        assert response.status_code == HTTPStatus.FOUND, response.context["form"].errors
    assert EligibilityDecision.unscoped.count() == 25
