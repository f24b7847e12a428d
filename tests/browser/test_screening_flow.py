"""A coordinator screens two candidates; an investigator signs one off."""

import pytest

from screening.models import EligibilityDecision, Signature
from tests.browser.conftest import login, screenshot

pytestmark = pytest.mark.browser


def fill_eligible(page, number: str) -> None:
    page.fill("#id_screening_number", number)
    page.fill("#id_tbil_value", "180")
    page.fill("#id_tbil_time", "2026-06-01T08:00")
    page.fill("#id_inr", "1.8")
    page.fill("#id_creatinine_value", "90")
    fill_all_but_lab_values(page)


def fill_all_but_lab_values(page) -> None:
    """An eligible candidate's answers but current TBil, INR and creatinine
    (the values a laboratory message gives)."""
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
    # Signed consent is recorded with its date and the form's version.
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


def test_coordinator_screens_and_investigator_signs(
    page, trial, coordinator, investigator, password
):
    login(page, "coordinator", password)
    screenshot(page, "home-log")
    page.goto(f"{page.base_url}/trials/{trial.slug}/screen/")
    fill_eligible(page, "01-001")
    screenshot(page, "screen-form-filled")
    page.click("input[type=submit][name=submit]")
    page.wait_for_selector("#decision-outcome")
    assert page.get_attribute("#decision-outcome", "data-outcome") == "ELIGIBLE"
    assert page.locator("#criteria tbody tr").count() == 14
    screenshot(page, "result-eligible")

    page.goto(f"{page.base_url}/trials/{trial.slug}/screen/")
    fill_eligible(page, "01-002")
    page.fill("#id_inr", "3.4")
    page.fill("#id_pta_percent", "15")
    page.click("input[type=submit][name=submit]")
    page.wait_for_selector("#decision-outcome")
    assert page.get_attribute("#decision-outcome", "data-outcome") == "INELIGIBLE"
    row = page.locator("#criteria tr[data-code=I4]")
    assert row.get_attribute("data-outcome") == "NOT_MET"
    assert "15" in row.inner_text() and "3.4" in row.inner_text()
    screenshot(page, "result-ineligible")
    assert EligibilityDecision.unscoped.count() == 2

    page.set_viewport_size({"width": 1280, "height": 900})
    with page.expect_navigation():
        page.click("form[action$='/accounts/logout/'] button")
    login(page, "investigator", password)
    decision = EligibilityDecision.unscoped.get(screening_number="01-001")
    page.goto(f"{page.base_url}/decisions/{decision.pk}/sign/")
    # No meaning is chosen for the signer.
    assert not page.is_checked("input[name=meaning][value=CONFIRM]")
    page.check("input[name=meaning][value=CONFIRM]")
    page.fill("#id_password", "wrong password")
    page.click("input[type=submit][name=submit]")
    page.wait_for_selector(".invalid-feedback, .alert-danger")
    assert not Signature.objects.exists()
    if not page.is_checked("input[name=meaning][value=CONFIRM]"):
        page.check("input[name=meaning][value=CONFIRM]")
    page.fill("#id_password", password)
    page.click("input[type=submit][name=submit]")
    page.wait_for_selector("#signature")
    assert "Wang Jun" in page.inner_text("#signature")
    screenshot(page, "result-signed")
    assert Signature.objects.get().decision_hash == decision.content_hash
