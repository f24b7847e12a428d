"""Traceability: every criterion of the loaded trial has tagged tests; the report.

The suite is collected in a separate pytest process (``--collect-only`` with the
plugin's ``--criteria-coverage``), so a criterion added to the trial without a
test tagged ``@pytest.mark.criterion("<code>")`` fails here, whichever tests
this run selected.
"""

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.validation import (
    FAILED,
    PASSED,
    SKIPPED,
    Criterion,
    Run,
    codes_from_marks,
    render_report,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def coverage(tmp_path_factory) -> dict[str, list[str]]:
    """Criterion code -> tagged node ids of the whole suite, as collected."""
    path = tmp_path_factory.mktemp("coverage") / "coverage.json"
    done = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--criteria-coverage={path}",
            "tests",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(path.read_text(encoding="utf-8"))


def test_every_criterion_of_the_loaded_trial_has_a_tagged_test(trial, coverage):
    codes = list(trial.criteria.order_by("position").values_list("code", flat=True))
    assert codes
    untested = [code for code in codes if not coverage.get(code)]
    assert not untested, f"criteria without a tagged test: {untested}"


def test_every_tagged_code_is_a_criterion_of_the_trial(trial, coverage):
    codes = set(trial.criteria.values_list("code", flat=True))
    assert set(coverage) <= codes


def test_a_test_parametrised_over_criteria_is_traced_case_by_case(coverage):
    wording = (
        "tests/trials/test_trial_data.py::test_criterion_carries_the_protocol_wording"
    )
    assert f"{wording}[I3]" in coverage["I3"]
    assert f"{wording}[I3]" not in coverage["I4"]


# --- Marks to codes ------------------------------------------------------------

KNOWN = {"I1", "I2", "E1"}


@pytest.mark.parametrize(
    ("marks", "params", "codes"),
    [
        ([pytest.mark.criterion("I1")], {}, ("I1",)),
        (
            [pytest.mark.criterion("I1", "E1"), pytest.mark.criterion("I1")],
            {},
            ("I1", "E1"),
        ),
        ([pytest.mark.criterion(from_param="code")], {"code": "I2"}, ("I2",)),
        (
            [pytest.mark.criterion(from_param=("blocking", "unknown"))],
            {"blocking": ("I1",), "unknown": ("E1", "I2")},
            ("I1", "E1", "I2"),
        ),
        ([pytest.mark.criterion(from_param="unknown")], {"unknown": ()}, ()),
    ],
)
def test_codes_from_marks(marks, params, codes):
    assert codes_from_marks([m.mark for m in marks], params, KNOWN) == codes


@pytest.mark.parametrize(
    ("mark", "params"),
    [
        (pytest.mark.criterion("I9"), {}),
        (pytest.mark.criterion("i1"), {}),
        (pytest.mark.criterion(from_param="code"), {}),
        (pytest.mark.criterion(from_param="code"), {"code": "X1"}),
        (pytest.mark.criterion("I1", param="code"), {"code": "I1"}),
    ],
)
def test_a_code_the_trial_does_not_have_is_refused(mark, params):
    with pytest.raises(ValueError, match=r"criterion|parameter|argument"):
        codes_from_marks([mark.mark], params, KNOWN)


# --- The report -------------------------------------------------------------------

SAMPLE = [
    Criterion("I1", "INCLUSION", "Age 18 to 65 | years", "年龄18至65岁"),
    Criterion("I2", "INCLUSION", "Early or intermediate stage", "早、中期"),
    Criterion("E1", "EXCLUSION", "Active bleeding", "活动性出血"),
    Criterion("E2", "EXCLUSION", "Allergy", "过敏"),
]


def sample_run() -> Run:
    age = "tests/a.py::test_age"
    return Run(
        codes={
            f"{age}[17]": ("I1",),
            f"{age}[18]": ("I1",),
            "tests/a.py::test_stage": ("I2", "E1"),
            "tests/b.py::test_bleeding": ("E1",),
        },
        results={
            f"{age}[17]": PASSED,
            f"{age}[18]": FAILED,
            "tests/a.py::test_stage": PASSED,
            "tests/b.py::test_bleeding": SKIPPED,
        },
        started=datetime(2026, 6, 1, 8, 30, tzinfo=UTC),
        meta={"Date (UTC)": "2026-06-01 08:30:00", "Git commit": "abc123"},
    )


def test_the_report_writes_the_matrix_for_a_sample():
    report = render_report(SAMPLE, sample_run(), "NCT0000, sample")
    lines = report.splitlines()
    assert lines[0] == "# Validation report: NCT0000, sample"
    assert "- Date (UTC): 2026-06-01 08:30:00" in lines
    assert "- Git commit: abc123" in lines
    assert "- Tagged tests: 4 (2 passed, 1 failed, 1 skipped)" in lines
    assert "- Result: **ATTENTION** I1 FAILED, E2 NO TEST" in lines
    start = lines.index("## Matrix") + 2
    assert lines[start : start + 6] == [
        "| Criterion | Kind | Protocol wording | 方案原文 | Tests | Cases | Result "
        "| Status |",
        "|---|---|---|---|---|---|---|---|",
        "| I1 | Inclusion | Age 18 to 65 \\| years | 年龄18至65岁 | 1 | 2 "
        "| 1 passed, 1 failed | **FAILED** |",
        "| I2 | Inclusion | Early or intermediate stage | 早、中期 | 1 | 1 | 1 passed "
        "| OK |",
        "| E1 | Exclusion | Active bleeding | 活动性出血 | 2 | 2 | 1 passed, 1 skipped "
        "| OK |",
        "| E2 | Exclusion | Allergy | 过敏 | 0 | 0 | none | **NO TEST** |",
    ]


def test_the_report_lists_each_test_and_names_the_failing_case():
    report = render_report(SAMPLE, sample_run())
    section = report.split("## I1 (Inclusion)", 1)[1].split("## I2", 1)[0]
    assert "> Age 18 to 65 \\| years" in section
    assert "> 年龄18至65岁" in section
    assert "| `tests/a.py::test_age` | 2 | **1 passed, 1 failed**: `[18]` |" in section
    assert "- `tests/a.py::test_age[17]`: passed" in section
    assert "- `tests/a.py::test_age[18]`: failed" in section
    e2 = report.split("## E2 (Exclusion)", 1)[1]
    assert "**No test is tagged with this criterion.**" in e2


def test_a_criterion_whose_tests_were_all_skipped_is_flagged_not_run():
    run = Run(
        codes={"tests/b.py::test_bleeding": ("E1",)},
        results={"tests/b.py::test_bleeding": SKIPPED},
    )
    report = render_report(SAMPLE[2:3], run)
    assert "- Result: **ATTENTION** E1 NOT RUN" in report.splitlines()
    assert "| 1 skipped | **NOT RUN** |" in report


def test_a_clean_run_says_so():
    run = Run(codes={"tests/a.py::test_stage": ("I2",)}, results={})
    run.results["tests/a.py::test_stage"] = PASSED
    report = render_report(SAMPLE[1:2], run)
    assert (
        "- Result: every criterion has tagged tests and all of them passed"
        in report.splitlines()
    )
