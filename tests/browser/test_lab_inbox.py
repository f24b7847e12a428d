"""A coordinator takes a FHIR bundle through the lab inbox to a recorded decision
that shows where each value came from, in English and in Chinese."""

import pytest

from screening.labs.models import LabReview, LabSource
from tests.browser.conftest import SCREENSHOTS, login, screenshot
from tests.browser.helpers import assert_fits, english_left, switch_language, zh
from tests.labs.conftest import FIXTURES

pytestmark = pytest.mark.browser

REASON = "标本溶血，已重新抽血复查"  # typed through a Chinese input method


def _fill_the_rest(page) -> None:
    """The form's answers that no lab value gives (TBil, INR, creatinine did)."""
    page.fill("#id_initials", "ZW")
    page.select_option("#id_sex", "M")
    page.fill("#id_date_of_birth", "1980-05-17")
    page.fill("#id_screening_date", "2026-06-01")
    page.fill("#id_series-0-time", "2026-05-31T08:00")
    page.fill("#id_series-0-value", "158.6")
    page.fill("#id_pta_percent", "35")
    page.check("input[name=dialysis_twice_past_week][value=no]")
    page.fill("#id_sodium_mmol_l", "136")
    page.fill("#id_albumin_value", "32")
    page.check("input[name=he_grade][value='1']")
    page.fill("#id_il6_value", "25")
    page.fill("#id_crp_value", "18")
    page.select_option("#id_liver_failure_stage", "early")
    for item in ("able_to_communicate_and_complete", "written_informed_consent"):
        page.check(f"input[name={item}][value=yes]")
    page.fill("#id_consent_date", "2026-06-01")
    page.fill("#id_consent_form_version", "V2.0 2025-03-01")
    for item in (
        "severe_active_bleeding",
        "dic",
        "allergy_blood_products_or_study_drugs",
        "circulatory_failure",
        "severe_comorbidity",
        "diabetes",
        "investigator_excludes",
    ):
        page.check(f"input[name={item}][value=no]")


def _sources_shot(page, name: str) -> None:
    """The record's provenance block alone (the record page is long)."""
    width = page.viewport_size["width"]
    block = page.locator("#lab-sources").locator("xpath=..")
    block.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"))


def _row(page, key: str):
    return page.locator(f"tr[data-input={key}]").first


def test_a_bundle_through_the_inbox_to_the_record(page, trial, coordinator, password):
    login(page, "coordinator", password)
    page.goto(f"{page.base_url}/trials/{trial.slug}/labs/import/")
    page.set_input_files("#id_file", str(FIXTURES / "bundle.json"))
    with page.expect_navigation():
        page.locator("#lab-import-form [type=submit]").click()
    assert page.locator("tr[data-state=PENDING]").count() == 4
    assert_fits(page)
    screenshot(page, "lab-inbox-en")
    for key in ("tbil", "inr", "creatinine"):
        with page.expect_navigation():
            _row(page, key).locator(".lab-approve").click()
    assert page.locator("tr[data-state=APPROVED]").count() == 3

    switch_language(page, "zh-hans")
    il6 = _row(page, "il6")
    il6.locator(".lab-reason").click()
    page.keyboard.insert_text(REASON)
    with page.expect_navigation():
        il6.locator(".lab-reject").click()
    rejected = _row(page, "il6")
    assert rejected.get_attribute("data-state") == "REJECTED"
    assert REASON in rejected.inner_text()
    assert LabReview.objects.get(verdict="REJECTED").reason == REASON
    assert english_left(page) == []
    assert_fits(page)
    screenshot(page, "lab-inbox-zh")

    with page.expect_navigation():
        page.locator(".lab-prefill").click()
    assert page.input_value("#id_screening_number") == "01-001"
    assert page.input_value("#id_tbil_value") == "185.3"
    assert page.input_value("#id_inr") == "1.90"
    assert page.input_value("#id_creatinine_value") == "1.02"
    assert page.input_value("#id_il6_value") == ""  # rejected: not pre-filled
    _fill_the_rest(page)
    page.click("input[type=submit][name=submit]")
    page.wait_for_selector("#decision-outcome")

    sources = page.locator("#lab-sources tbody tr")
    assert sources.count() == 3
    assert page.locator("#lab-sources tr[data-source=LAB]").count() == 3
    assert zh("Where the lab values came from") in page.content()
    assert english_left(page) == []
    assert_fits(page)
    screenshot(page, "lab-record-zh")
    _sources_shot(page, "lab-sources-zh")
    digest = LabSource.objects.first().content["message_sha256"]
    assert digest in page.locator("#lab-sources").inner_text()

    switch_language(page, "en")
    assert "Where the lab values came from" in page.content()
    assert page.locator("#lab-sources tr[data-source=LAB]").count() == 3
    assert "FHIR bundle" in page.locator("#lab-sources").inner_text()
    assert_fits(page)
    screenshot(page, "lab-record-en")
    _sources_shot(page, "lab-sources-en")
