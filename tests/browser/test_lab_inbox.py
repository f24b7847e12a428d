"""A coordinator takes a FHIR bundle through the lab inbox to a recorded decision
that shows where each value came from, in English and in Chinese."""

import pytest

from screening.labs.models import LabReview, LabSource
from tests.browser.conftest import SCREENSHOTS, login, screenshot
from tests.browser.helpers import assert_fits, english_left, switch_language, zh
from tests.browser.test_screening_flow import fill_all_but_lab_values
from tests.labs.conftest import FIXTURES

pytestmark = pytest.mark.browser

REASON = "标本溶血，已重新抽血复查"  # typed through a Chinese input method


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
    fill_all_but_lab_values(page)
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
