"""The second trial, loaded from its file, screened in the browser in both languages.

`load_trial --file` loads PMC6247955 (ACLF); a coordinator who is a member of it
opens its own form (its inputs, not the first trial's), screens a candidate who
meets every criterion, then candidates at the edges of its thresholds, typing as
people do (an input method's full-width digits in the Chinese interface).
"""

import pytest
from django.core.management import call_command

from accounts import roles
from screening.models import EligibilityDecision
from tests.browser.conftest import login, screenshot
from tests.browser.helpers import assert_fits, switch_language, zh
from tests.factories import member_of_every_trial
from trials.files import SHIPPED
from trials.models import Trial

pytestmark = pytest.mark.browser

SLUG = "aclf-pmc6247955"
SUBMIT = "input[type=submit][name=submit]"
NO = (
    "liver_cancer",
    "slowly_progressing_cirrhosis",
    "uncontrolled_severe_infection",
    "shock",
    "recent_active_bleeding",
    "severe_esophageal_varices",
)
YES = ("aclf_diagnosis", "toxic_symptoms", "ascites_none_or_mild")


@pytest.fixture
def aclf(transactional_audit_db, coordinator):
    call_command("load_trial", "--file", str(SHIPPED[SLUG]), verbosity=0)
    trial = Trial.objects.get(slug=SLUG)
    member_of_every_trial(coordinator, roles.COORDINATOR)
    return trial


def commit_text(page, selector: str, text: str) -> None:
    """Empty the field, then commit ``text`` as an input method does."""
    field = page.locator(selector)
    field.fill("")
    field.focus()
    page.keyboard.insert_text(text)


def fill_candidate(page, number: str, *, age_dob="1980-05-17", platelets="120"):
    page.fill("#id_screening_number", number)
    page.fill("#id_initials", "LM")
    page.select_option("#id_sex", "F")
    page.fill("#id_date_of_birth", age_dob)
    page.fill("#id_screening_date", "2026-06-01")
    page.fill("#id_tbil_value", "150")
    page.fill("#id_tbil_uln", "20")
    page.fill("#id_tbil_time", "2026-06-01T08:00")
    page.fill("#id_pta_percent", "35")
    page.fill("#id_inr", "1.8")
    page.fill("#id_creatinine_value", "90")
    page.check("input[name=he_grade][value='1']")
    page.fill("#id_platelets", platelets)
    for item in YES:
        page.check(f"input[name={item}][value=yes]")
    for item in NO:
        page.check(f"input[name={item}][value=no]")


def submit(page) -> str:
    with page.expect_navigation():
        page.click(SUBMIT)
    page.wait_for_selector("#decision-outcome")
    return page.get_attribute("#decision-outcome", "data-outcome")


def outcome(page, code: str) -> str:
    return page.get_attribute(f"#criteria tr[data-code={code}]", "data-outcome")


def test_a_coordinator_screens_the_second_trial_in_both_languages(page, aclf, password):
    login(page, "coordinator", password)
    page.goto(f"{page.base_url}/trials/{SLUG}/screen/")
    # Its own inputs: the first trial's IL-6 and MELD checklist are not asked.
    assert page.locator("#id_platelets").count() == 1
    assert page.locator("#id_il6_value").count() == 0
    assert page.locator("input[name=aclf_diagnosis][value=yes]").count() == 1
    fill_candidate(page, "01-001")
    screenshot(page, "aclf-form-en")
    assert submit(page) == "ELIGIBLE"
    assert page.locator("#criteria tbody tr").count() == 16
    assert "Protocol (before Amendment 2)" in page.inner_text("body")
    assert_fits(page)
    screenshot(page, "aclf-eligible-en")

    # E7 excludes a platelet count below 50 x 10^9/L: 50 itself does not.
    page.goto(f"{page.base_url}/trials/{SLUG}/screen/")
    fill_candidate(page, "01-002", platelets="50")
    assert submit(page) == "ELIGIBLE"
    assert outcome(page, "E7") == "NOT_MET"

    switch_language(page, "zh-hans")
    page.goto(f"{page.base_url}/trials/{SLUG}/screen/")
    fill_candidate(page, "01-003")
    # An input method's full-width digits: 49 x 10^9/L is below the limit.
    commit_text(page, "#id_platelets", "４９")
    screenshot(page, "aclf-form-zh")
    assert submit(page) == "INELIGIBLE"
    assert outcome(page, "E7") == "MET"
    row = page.inner_text("#criteria tr[data-code=E7]")
    assert "49" in row
    body = page.inner_text("body")
    assert zh("Ineligible") in body
    assert "血小板" in body
    assert_fits(page)
    screenshot(page, "aclf-ineligible-zh")

    # I1: 16 to 65 completed years under version 1; 66 today is outside.
    page.goto(f"{page.base_url}/trials/{SLUG}/screen/")
    fill_candidate(page, "01-004", age_dob="1960-06-01")
    assert submit(page) == "INELIGIBLE"
    assert outcome(page, "I1") == "NOT_MET"
    page.goto(f"{page.base_url}/trials/{SLUG}/screen/")
    fill_candidate(page, "01-005", age_dob="1960-06-02")
    assert submit(page) == "ELIGIBLE"
    assert outcome(page, "I1") == "MET"

    # I5's third alternative: PTA and INR outside their bands, a PT 8 s longer
    # than the control's (typed with an input method's full-width digits)
    # meets it; exactly 5 s longer does not (both bounds are excluded).
    for number, pt, decision, i5 in [
        ("01-006", "２０．５", "ELIGIBLE", "MET"),
        ("01-007", "１７．５", "INELIGIBLE", "NOT_MET"),
    ]:
        page.goto(f"{page.base_url}/trials/{SLUG}/screen/")
        fill_candidate(page, number)
        page.fill("#id_pta_percent", "60")
        page.fill("#id_inr", "1.2")
        commit_text(page, "#id_pt_seconds", pt)
        commit_text(page, "#id_pt_control_seconds", "１２．５")
        if number == "01-006":
            screenshot(page, "aclf-form-pt-zh")
        assert submit(page) == decision
        assert outcome(page, "I5") == i5
    row = page.inner_text("#criteria tr[data-code=I5]")
    assert "(5, 20)" in row
    assert "凝血酶原时间延长" in row
    screenshot(page, "aclf-pt-zh")

    recorded = EligibilityDecision.unscoped.filter(trial=aclf)
    assert dict(recorded.values_list("screening_number", "outcome")) == {
        "01-001": "ELIGIBLE",
        "01-002": "ELIGIBLE",
        "01-003": "INELIGIBLE",
        "01-004": "INELIGIBLE",
        "01-005": "ELIGIBLE",
        "01-006": "ELIGIBLE",
        "01-007": "INELIGIBLE",
    }
    assert {d.criteria_version.number for d in recorded} == {1}
    # The record keeps what was typed, and what the engine read from it.
    typed = recorded.get(screening_number="01-003")
    assert typed.entered["platelets"] == "４９"
    assert "49" in str(typed.normalised["platelets"])
