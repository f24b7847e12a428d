"""A coordinator uploads a pre-screening file and opens one row in the form."""

import re
from datetime import date, timedelta

import pytest
from django.utils import timezone

from screening.assessment import active_criteria, assess_rows
from screening.common.csv import spreadsheet_safe
from screening.models import EligibilityDecision, PrescreenUpload
from screening.prescreen import files as prescreen
from screening.prescreen.views import _decision_label, _reason_text
from screening.synthetic import candidates
from tests.browser.conftest import login, screenshot
from tests.browser.helpers import (
    assert_fits,
    candidate_on,
    csv_row,
    english_left,
    meld_over_30,
    read_download,
    squeezed_cells,
    switch_language,
    upload_csv,
    zh,
)

pytestmark = pytest.mark.browser


def upload_rows() -> list[dict[str, str]]:
    """Eligible, E4-ineligible, incomplete and malformed rows, then synthetic ones."""
    day = timezone.localdate() - timedelta(days=3)
    malformed = csv_row(candidate_on(day, "02-004"))
    malformed.update(screening_date="2026-02-30", pta_percent="about 30")
    return [
        csv_row(candidate_on(day, "02-001")),
        csv_row(candidate_on(day, "02-002", **meld_over_30(day))),
        csv_row(candidate_on(day, "02-003", inr=None, pta_percent=None)),
        malformed,
        *(csv_row(c) for c in candidates(4, seed=6, start=day, first=30001)),
    ]


def expected_results(trial, content: bytes) -> tuple[list[str], list[list[str]]]:
    """The decisions, and the results file the English page should download."""
    entries = [
        prescreen.result_entry(row, details=True)
        for row in assess_rows(
            prescreen.uploaded_candidates(content, fmt="csv"),
            criteria=active_criteria(trial=trial),
            today=timezone.localdate(),
        )
    ]
    rows = [prescreen.result_header()] + [
        [
            str(cell)
            for cell in spreadsheet_safe(
                prescreen.result_csv_row(
                    e, decision_label=_decision_label, reason_text=_reason_text
                )
            )
        ]
        for e in entries
    ]
    return [e["decision"] or "ERROR" for e in entries], rows


def summary_count(page, label: str) -> int:
    text = page.locator("#prescreen-summary a", has_text=label).first.inner_text()
    return int(re.search(r"\((\d+)\)", text).group(1))


def test_bulk_upload_results_export_and_prefill(page, trial, coordinator, password):
    content = upload_csv(upload_rows())
    decisions, expected = expected_results(trial, content)
    assert decisions[:4] == ["ELIGIBLE", "INELIGIBLE", "INCOMPLETE", "ERROR"]

    login(page, "coordinator", password)
    page.goto(f"{page.base_url}/trials/{trial.slug}/prescreen/")
    with page.expect_download() as template:
        page.click(f"a[href$='/trials/{trial.slug}/prescreen/template.csv']")
    assert read_download(template.value)[0] == prescreen.CSV_COLUMNS

    page.set_input_files(
        "#prescreen-form input[type=file]",
        files=[{"name": "化验导出.csv", "mimeType": "text/csv", "buffer": content}],
    )
    page.click("#prescreen-form button[type=submit]")
    page.wait_for_url(re.compile(r"/prescreen/\d+/$"))
    assert page.locator("#prescreen-results").count() == 1, (
        f"results page failed: {page.inner_text('body')[:300]}"
    )

    upload = PrescreenUpload.unscoped.get()
    assert (upload.row_count, upload.error_count) == (8, 1)
    assert upload.user == coordinator
    assert not EligibilityDecision.unscoped.exists()

    for label, outcome in (
        ("Eligible", "ELIGIBLE"),
        ("Ineligible", "INELIGIBLE"),
        ("Incomplete", "INCOMPLETE"),
        ("Rows with errors", "ERROR"),
    ):
        assert summary_count(page, label) == decisions.count(outcome)
    assert page.locator("#prescreen-results tbody tr").count() == 8
    ineligible = page.inner_text("#prescreen-results tr[data-row='2']")
    assert "E4" in ineligible
    incomplete = page.inner_text("#prescreen-results tr[data-row='3']")
    assert "PTA" in incomplete and "INR" in incomplete
    malformed = page.locator("#prescreen-results tr[data-row='4']")
    # Row errors name the field as the form does, with the problem in words.
    assert "Screening date" in malformed.inner_text()
    assert "PTA" in malformed.inner_text()
    assert malformed.locator("button").count() == 0
    assert_fits(page)
    screenshot(page, "prescreen-results-en")

    with page.expect_download() as results:
        page.click("#prescreen-summary a[href$='/results.csv']")
    assert read_download(results.value) == expected

    switch_language(page, "zh-hans")
    assert page.inner_text("h1") == zh("Pre-screening results")
    assert summary_count(page, zh("Rows with errors")) == 1
    badges = page.locator("#prescreen-results tbody .badge").all_inner_texts()
    assert badges[:4] == [
        zh("Eligible"),
        zh("Ineligible"),
        zh("Incomplete"),
        zh("Error"),
    ]
    assert zh("Open in screening form") in page.inner_text("tr[data-row='1']")
    assert_fits(page)
    screenshot(page, "prescreen-results-zh")
    # Defects below are collected and reported together at the end.
    problems = []
    # The malformed row echoes what was typed ("about 30"); that is data.
    if english := [w for w in english_left(page) if w != "about"]:
        problems.append(f"the Chinese results page shows English {english}")
    if squeezed := squeezed_cells(page):
        problems.append(f"the Chinese results table squeezes {squeezed}")
    switch_language(page, "en")

    with page.expect_navigation():
        page.click("#prescreen-results tr[data-row='1'] button")
    assert page.url.endswith(f"/trials/{trial.slug}/screen/")
    assert_fits(page)
    screenshot(page, "prescreen-prefilled-form")
    day = date.fromisoformat(upload_rows()[0]["screening_date"])
    expected_fields = {
        "#id_screening_number": "02-001",
        "#id_screening_date": day.isoformat(),
        "#id_tbil_value": "180",
        "#id_tbil_time": f"{day}T08:00",
        "#id_series-0-time": f"{day - timedelta(days=1)}T08:00",
        "#id_series-0-value": "158.6",
        "#id_pta_percent": "35",
        "#id_inr": "1.8",
        "input[name=he_grade]:checked": "1",
        "input[name=written_informed_consent]:checked": "yes",
        "input[name=diabetes]:checked": "no",
        "input[name=dic]:checked": "no",
    }
    for selector, value in expected_fields.items():
        shown = page.locator(selector).input_value()
        if shown != value:
            problems.append(f"pre-filled {selector} is {shown!r}, not {value!r}")

    with page.expect_navigation():
        page.click("input[type=submit][name=submit]")
    outcome = page.locator("#decision-outcome")
    if not outcome.count():
        errors = page.locator(".invalid-feedback, .alert-danger").all_inner_texts()
        problems.append(f"the pre-filled form was refused: {errors}")
    elif outcome.get_attribute("data-outcome") != "ELIGIBLE":
        problems.append(f"recorded as {outcome.get_attribute('data-outcome')}")
    assert not problems, "\n".join(problems)
    assert EligibilityDecision.unscoped.get().screening_number == "02-001"
