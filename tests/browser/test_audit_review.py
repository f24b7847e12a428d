"""A monitor reviews a month of the audit trail and signs it: both languages,
both widths; a wrong password first, then the right one."""

import pytest
from django.utils import timezone

from screening.decisions.services import signature_record
from screening.models import Signature
from tests.browser.conftest import login, screenshot
from tests.browser.helpers import (
    assert_fits,
    english_left,
    squeezed_cells,
    switch_language,
    zh,
)
from tests.factories import eligible_candidate

pytestmark = pytest.mark.browser

SECTIONS = (
    "corrections",
    "per_version",
    "overrides",
    "self_signing",
    "out_of_hours",
    "reauth_failures",
    "exports",
    "access_changes",
)


def _seed(record, investigator, password):
    wrong = record(eligible_candidate(screening_number="61-001", inr="3.5"))
    record(
        eligible_candidate(screening_number="61-001"),
        supersedes=wrong,
        supersede_reason="INR was mistyped",
    )
    overridden = record(eligible_candidate(screening_number="61-002"))
    signature_record(
        decision=overridden,
        signer=investigator,
        password=password,
        meaning=Signature.Meaning.DISAGREE,
        reason="Heavy drinking reported by family",
        override_outcome="INELIGIBLE",
    )


def _words(language):
    def word(message, **params):
        if language == "en":
            return message % params if params else message
        return zh(message, **params)

    return word


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_monitor_reviews_a_month_and_signs_it(
    page, trial, record, investigator, monitor, password, language
):
    _seed(record, investigator, password)
    word = _words(language)
    today = timezone.localdate()
    first = today.replace(day=1)
    login(page, "monitor", password)
    page.goto(page.base_url + f"/trials/{trial.slug}/audit-review/")
    if language != "en":
        switch_language(page, language)
    period = page.locator("#review-period")
    period.locator("input[name=date_from]").fill(first.isoformat())
    period.locator("input[name=date_to]").fill(today.isoformat())
    with page.expect_navigation():
        period.locator("button[type=submit]").click()

    assert word("Audit-trail review") in page.locator("h1").inner_text()
    assert page.locator("#verify-audit .alert-success").is_visible()
    for key in SECTIONS:
        assert page.locator(f"#section-{key}").is_visible(), key
    corrections = page.locator("#section-corrections")
    assert corrections.locator("[data-count]").get_attribute("data-count") == "1"
    assert "INR was mistyped" in corrections.inner_text()
    overrides = page.locator("#section-overrides")
    assert "Heavy drinking reported by family" in overrides.inner_text()
    assert page.locator("#past-reviews").is_visible()
    assert_fits(page)
    screenshot(page, f"audit-review-{language}")
    if language != "en":
        left = english_left(page)
        assert left == [], left
    assert squeezed_cells(page) == []

    # A wrong password: refused on the field, and the attempt joins the report.
    sign = page.locator("#review-sign")
    sign.locator("input[name=password]").fill("not-my-password")
    with page.expect_navigation():
        sign.locator("input[type=submit]").click()
    sign = page.locator("#review-sign")
    assert word("The password is not correct.") in sign.inner_text()
    failures = page.locator("#section-reauth_failures")
    assert failures.locator("[data-count]").get_attribute("data-count") == "1"
    assert_fits(page)
    screenshot(page, f"audit-review-wrong-password-{language}")

    sign.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        sign.locator("input[type=submit]").click()
    assert word("Signed.") in page.locator(".alert-success").first.inner_text()
    listed = page.locator("#past-reviews tbody tr")
    assert listed.count() == 1
    row = listed.first.inner_text()
    assert first.isoformat() in row and today.isoformat() in row
    assert monitor.get_full_name() in row
    assert_fits(page)
    if language != "en":
        assert english_left(page) == []
    screenshot(page, f"audit-review-signed-{language}")
