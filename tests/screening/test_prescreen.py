"""The prescreen command: files of candidates in, the JSON/CSV contract out.

Real database (the protocol's rows loaded by the ``trial`` fixture); nothing is
ever recorded as a decision.
"""

import csv
import io
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from screening.assessment import site_zone
from screening.criteria import criteria_load
from screening.domain.contract import parse_candidate
from screening.domain.engine import Outcome, evaluate
from screening.domain.facts import derive
from screening.domain.variables import CHECKLIST_ITEMS
from screening.models import CriterionOutcome, EligibilityDecision
from screening.prescreen.files import CSV_COLUMNS, csv_template
from tests.factories import amend, eligible_candidate
from trials.models import Condition
from trials.services import version_active

pytestmark = pytest.mark.django_db

D = Decimal
CONTRACT_KEYS = {
    "screening_number",
    "decision",
    "age_years",
    "meld",
    "meld_na",
    "meld_3",
    "tbil_umol_l",
    "tbil_max_rise_per_day",
    "criteria",
    "blocking",
    "missing",
}
CODES = [
    *("I1", "I2", "I3", "I4", "I5", "I6", "I7", "I8"),
    *("E1", "E2", "E3", "E4", "E5", "E6"),
]
ONLY_CRP_7 = {
    "il6": {"value": "5", "unit": "pg/mL"},
    "tnf_alpha": {"value": "6", "unit": "pg/mL"},
    "crp": {"value": "7", "unit": "mg/L"},
    "pct": {"value": "0.03", "unit": "ng/mL"},
}


def run(path, *args) -> str:
    out = io.StringIO()
    call_command("prescreen", str(path), "--trial", "nct06904755", *args, stdout=out)
    return out.getvalue()


def run_json(path, *args) -> list[dict]:
    return json.loads(run(path, *args))


def write_json(tmp_path, records, name="candidates.json"):
    path = tmp_path / name
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


def write_csv(tmp_path, rows, name="candidates.csv"):
    path = tmp_path / name
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def csv_row(**overrides) -> dict:
    """An eligible candidate as a CSV row (columns of the README template)."""
    row = {
        "screening_number": "01-001",
        "initials": "ZW",
        "sex": "M",
        "date_of_birth": "1980-05-17",
        "screening_date": "2026-06-01",
        "liver_failure_stage": "early",
        "tbil": "180",
        "tbil_unit": "umol/L",
        "tbil_time": "2026-06-01T08:00+08:00",
        "tbil_series": "2026-05-31T08:00+08:00 158.6 umol/L",
        "pta_percent": "35",
        "inr": "1.8",
        "creatinine": "90",
        "creatinine_unit": "umol/L",
        "dialysis_twice_past_week": "no",
        "sodium_mmol_l": "136",
        "albumin": "32",
        "albumin_unit": "g/L",
        "he_grade": "1",
        "il6": "25",
        "tnf_alpha": "12",
        "crp": "18",
        "crp_unit": "mg/L",
        "pct": "0.3",
        "able_to_communicate_and_complete": "yes",
        "written_informed_consent": "yes",
        **{item: "no" for item in CHECKLIST_ITEMS[2:]},
    }
    row.update(overrides)
    return row


def outcomes(entry) -> dict[str, str]:
    return {c["code"]: c["outcome"] for c in entry["criteria"]}


@pytest.fixture
def mixed_file(tmp_path, trial):
    """Eligible, ineligible and incomplete candidates, deliberately out of order."""
    return write_json(
        tmp_path,
        [
            eligible_candidate(screening_number="01-003"),
            eligible_candidate(screening_number="01-001", date_of_birth="1950-01-01"),
            eligible_candidate(screening_number="01-002", creatinine=None),
        ],
    )


@pytest.mark.criterion("I1", "E4")
def test_json_output_follows_input_order_with_the_contract_keys(mixed_file):
    results = run_json(mixed_file)
    assert [r["screening_number"] for r in results] == ["01-003", "01-001", "01-002"]
    for entry in results:
        assert CONTRACT_KEYS <= set(entry)
        assert [c["code"] for c in entry["criteria"]] == CODES
        for item in entry["criteria"]:
            assert {"code", "kind", "outcome", "reason"} <= set(item)
            assert item["kind"] == (
                "INCLUSION" if item["code"][0] == "I" else "EXCLUSION"
            )
            assert item["reason"]
    eligible, ineligible, incomplete = results
    assert [r["decision"] for r in results] == ["ELIGIBLE", "INELIGIBLE", "INCOMPLETE"]
    assert (eligible["blocking"], eligible["missing"]) == ([], [])
    assert (ineligible["blocking"], ineligible["missing"]) == (["I1"], [])
    assert (incomplete["blocking"], incomplete["missing"]) == ([], ["E4"])


@pytest.mark.criterion("I1", "I3", "E4")
def test_json_output_carries_the_computed_values(mixed_file):
    eligible, ineligible, incomplete = run_json(mixed_file)
    assert eligible["age_years"] == 46
    assert ineligible["age_years"] == 76
    assert eligible["meld"] == 22
    assert isinstance(eligible["meld_na"], int)
    assert isinstance(eligible["meld_3"], int)
    assert D(eligible["tbil_umol_l"]) == D(180)
    # 158.6 -> 180 umol/L over 24 hours.
    assert D(eligible["tbil_max_rise_per_day"]) == D("21.4")
    assert incomplete["meld"] is None
    assert incomplete["meld_na"] is None
    assert incomplete["meld_3"] is None
    assert outcomes(incomplete)["E4"] == "UNKNOWN"
    assert outcomes(ineligible)["I1"] == "NOT_MET"
    reason = {c["code"]: c["reason"] for c in ineligible["criteria"]}["I1"]
    assert "76" in reason and "65" in reason


@pytest.mark.criterion("I1", "E4")
def test_csv_output_has_one_row_per_candidate(mixed_file):
    rows = list(csv.DictReader(io.StringIO(run(mixed_file, "--format", "csv"))))
    assert [r["screening_number"] for r in rows] == ["01-003", "01-001", "01-002"]
    assert [r["decision"] for r in rows] == ["ELIGIBLE", "INELIGIBLE", "INCOMPLETE"]
    assert rows[0]["meld"] == "22"
    assert rows[0]["age_years"] == "46"
    assert rows[1]["blocking"] == "I1"
    assert rows[2]["missing"] == "E4"
    assert "creatinine" in rows[2]["to_collect"].split()
    for code in CODES:
        assert code in rows[0]["reasons"]


@pytest.mark.criterion("I3", "I5", "I6", "E5")
def test_csv_input_is_read_row_by_row(tmp_path, trial):
    path = write_csv(
        tmp_path,
        [
            csv_row(screening_number="02-001"),
            csv_row(screening_number="02-002", he_grade="3"),
            csv_row(screening_number="02-003", diabetes=""),
            csv_row(screening_number="02-004", crp="1.01", crp_unit="mg/dL", il6=""),
        ],
    )
    results = run_json(path)
    assert [r["screening_number"] for r in results] == [
        "02-001",
        "02-002",
        "02-003",
        "02-004",
    ]
    assert [r["decision"] for r in results] == [
        "ELIGIBLE",
        "INELIGIBLE",
        "INCOMPLETE",
        "ELIGIBLE",
    ]
    assert results[1]["blocking"] == ["I5"]
    assert results[2]["missing"] == ["E5"]
    assert D(results[0]["tbil_max_rise_per_day"]) == D("21.4")


def test_the_csv_template_is_a_readable_input(tmp_path, trial):
    path = tmp_path / "template.csv"
    path.write_text(csv_template(), encoding="utf-8")
    (entry,) = run_json(path)
    assert entry["screening_number"] == "01-001"
    assert "errors" not in entry
    assert entry["decision"] in {"ELIGIBLE", "INELIGIBLE", "INCOMPLETE"}
    assert [c["code"] for c in entry["criteria"]] == CODES


def test_a_malformed_candidate_is_reported_and_the_others_evaluated(tmp_path, trial):
    path = write_json(
        tmp_path,
        [
            eligible_candidate(screening_number="01-001"),
            eligible_candidate(
                screening_number="01-002",
                pta_percent="thirty",
                tbil={"value": "10", "unit": "mmol/L"},
            ),
            eligible_candidate(screening_number="01-003", dic="maybe"),
            eligible_candidate(screening_number="01-004"),
        ],
    )
    results = run_json(path)  # no CommandError: the exit status stays 0
    assert [r["screening_number"] for r in results] == [
        "01-001",
        "01-002",
        "01-003",
        "01-004",
    ]
    assert results[0]["decision"] == results[3]["decision"] == "ELIGIBLE"
    assert results[1]["decision"] is None
    assert set(results[1]["errors"]) == {"pta_percent", "tbil.unit"}
    assert set(results[2]["errors"]) == {"dic"}
    assert all(results[1]["errors"][k] for k in results[1]["errors"])


@pytest.mark.parametrize("entry", [42, "01-001", None, [], ["01-001"]])
def test_an_entry_that_is_not_an_object_is_reported(tmp_path, trial, entry):
    path = write_json(tmp_path, [entry, eligible_candidate()])
    bad, good = run_json(path)
    assert bad["decision"] is None
    assert "candidate" in bad["errors"]
    assert good["decision"] == "ELIGIBLE"


def test_a_json_number_a_float_would_round_is_refused_by_name(tmp_path, trial):
    """170.99999999999999999 is the float 171.0: refused, never decided as 171."""
    tbil = {"value": "@", "unit": "umol/L", "time": "2026-06-01T08:00+08:00"}
    parts = json.dumps([eligible_candidate(tbil=tbil)] * 2).split('"@"')
    path = tmp_path / "candidates.json"
    text = parts[0] + "170.99999999999999999" + parts[1] + "0.00001" + parts[2]
    path.write_text(text, encoding="utf-8")
    inexact, tiny = run_json(path)
    assert inexact["decision"] is None
    assert list(inexact["errors"]) == ["tbil.value"]
    assert "send it as text" in inexact["errors"]["tbil.value"][0]
    # 0.00001 (the float 1e-05) is read as written, not refused as "1e-05".
    assert "errors" not in tiny, tiny
    assert tiny["decision"] == "INELIGIBLE"


def test_malformed_rows_in_csv_output_name_the_field(tmp_path, trial):
    path = write_json(tmp_path, [eligible_candidate(inr="1,5"), eligible_candidate()])
    rows = list(csv.DictReader(io.StringIO(run(path, "--format", "csv"))))
    assert len(rows) == 2
    assert rows[0]["decision"] == "ERROR"
    assert rows[0]["errors"].startswith("inr")
    assert rows[1]["decision"] == "ELIGIBLE"


def test_a_csv_row_with_a_malformed_series_is_reported(tmp_path, trial):
    path = write_csv(
        tmp_path,
        [csv_row(tbil_series="yesterday 150"), csv_row(screening_number="01-002")],
    )
    bad, good = run_json(path)
    assert set(bad["errors"]) == {"tbil_series[0].time", "tbil_series[0].unit"}
    assert good["decision"] == "ELIGIBLE"


@pytest.mark.parametrize(
    ("cell", "errors"),
    [
        # A unit forgotten: the time is not read as the value.
        ("2026-05-31 08:00 158.6", {"tbil_series[0].unit": "the unit is required"}),
        (
            "158.6 umol/L",
            {"tbil_series[0].time": "each measurement needs a time, a value"},
        ),
        (
            "2026-05-31 08:00 158.6 mmol/L",
            {"tbil_series[0].unit": "unknown unit (accepted: umol/L, mg/dL)"},
        ),
        (
            "2026-05-31 08:00 158.6 umol/L; 2026-05-30 08:00 140",
            {"tbil_series[1].unit": "the unit is required"},
        ),
    ],
)
def test_a_series_cell_names_what_a_measurement_lacks(tmp_path, trial, cell, errors):
    path = write_csv(tmp_path, [csv_row(tbil_series=cell)])
    (bad,) = run_json(path)
    assert set(bad["errors"]) == set(errors)
    for where, words in errors.items():
        assert bad["errors"][where][0].startswith(words)


def test_a_measurement_time_out_of_range_is_reported_not_fatal(tmp_path, trial):
    path = write_json(
        tmp_path,
        [
            eligible_candidate(
                tbil={
                    "value": "180",
                    "unit": "umol/L",
                    "time": "9999-12-31T23:59-14:00",
                },
                tbil_series=[],
            ),
            eligible_candidate(screening_number="01-002"),
        ],
    )
    bad, good = run_json(path)
    assert "tbil.time" in bad["errors"]
    assert good["decision"] == "ELIGIBLE"


def test_an_empty_list_gives_an_empty_list(tmp_path, trial):
    assert run_json(write_json(tmp_path, [])) == []


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("candidates.json", b"{not json"),
        ("candidates.json", b""),
        ("candidates.json", b'{"screening_number": "01-001"}'),
        ("candidates.json", b"\xff\xfe\x00\x81garbage\x9c\x00"),
        ("candidates.json", b"[" * 100_000),
        ("candidates.csv", b""),
        ("candidates.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xd8\xff"),
        ("candidates.csv", b"name,age\nZW,45\n"),
    ],
)
def test_an_unreadable_file_is_a_command_error(tmp_path, trial, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CommandError):
        run(path)
    assert EligibilityDecision.unscoped.count() == 0


def test_a_missing_file_is_a_command_error(tmp_path, trial):
    with pytest.raises(CommandError):
        run(tmp_path / "no-such-file.json")


def test_a_directory_is_a_command_error(tmp_path, trial):
    with pytest.raises(CommandError):
        run(tmp_path)


def test_an_unknown_trial_is_a_command_error(mixed_file):
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("prescreen", str(mixed_file), "--trial", "nct0", stdout=out)


def test_the_input_format_can_be_forced(tmp_path, trial):
    path = tmp_path / "candidates.txt"
    path.write_text(json.dumps([eligible_candidate()]), encoding="utf-8")
    (entry,) = run_json(path, "--input-format", "json")
    assert entry["decision"] == "ELIGIBLE"


def test_prescreening_records_nothing(mixed_file, tmp_path):
    run(mixed_file)
    run(mixed_file, "--format", "csv")
    run(write_csv(tmp_path, [csv_row()]))
    assert EligibilityDecision.unscoped.count() == 0
    assert CriterionOutcome.objects.count() == 0


# --- The protocol is decided from the rows ---------------------------------------


def crp_condition(trial) -> Condition:
    return Condition.objects.get(
        criterion__version=version_active(trial=trial),
        criterion__code="I6",
        variable="crp_mg_l",
    )


def lower_crp_threshold(trial, value: Decimal) -> None:
    """An amendment that lowers the CRP threshold, signed into force."""

    def lower(draft):
        condition = Condition.objects.get(
            criterion__version=draft, criterion__code="I6", variable="crp_mg_l"
        )
        condition.value_low = value
        condition.full_clean()
        condition.save()

    amend(trial, lower)


def i6_result(trial):
    zone = site_zone()
    parsed = parse_candidate(
        eligible_candidate(**ONLY_CRP_7), today=timezone.localdate(), tz=zone
    )
    facts = derive(parsed, tz=zone).facts
    evaluation = evaluate(criteria_load(trial=trial).specs, facts)
    (result,) = [r for r in evaluation.criteria if r.code == "I6"]
    return result


@pytest.mark.criterion("I6")
def test_changing_the_crp_threshold_row_changes_the_answer(trial):
    assert crp_condition(trial).value_low == D(10)
    before = i6_result(trial)
    assert before.outcome is Outcome.NOT_MET
    lower_crp_threshold(trial, D(5))
    after = i6_result(trial)
    assert after.outcome is Outcome.MET
    crp = [c for c in after.conditions if c.variable == "crp_mg_l"][0]
    assert crp.outcome is Outcome.MET
    assert "5" in crp.reason and "7" in crp.reason


@pytest.mark.criterion("I6")
def test_changing_the_crp_threshold_row_changes_prescreen(tmp_path, trial):
    path = write_json(tmp_path, [eligible_candidate(**ONLY_CRP_7)])
    (before,) = run_json(path)
    assert outcomes(before)["I6"] == "NOT_MET"
    assert before["decision"] == "INELIGIBLE"
    assert before["blocking"] == ["I6"]
    lower_crp_threshold(trial, D(5))
    (after,) = run_json(path)
    assert outcomes(after)["I6"] == "MET"
    assert after["decision"] == "ELIGIBLE"
    assert after["blocking"] == []
