"""Numbers typed into the screening form's text fields, as a keyboard or an
input method sends them: a comma is refused at the field, a Chinese full stop
and full-width digits are read, an unusual value is recorded once confirmed."""

import pytest

from screening.models import EligibilityDecision
from tests.browser.conftest import login, screenshot
from tests.browser.test_screening_flow import fill_eligible

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("width", [1280], indirect=True),
]

CREATININE = "#id_creatinine_value"
SUBMIT = "input[type=submit][name=submit]"


def open_form(page, trial, password) -> None:
    login(page, "coordinator", password)
    page.goto(f"{page.base_url}/trials/{trial.slug}/screen/")


def type_keys(page, selector: str, text: str) -> None:
    """Empty the field, then type ``text`` key by key."""
    field = page.locator(selector)
    field.fill("")
    field.press_sequentially(text)


def commit_text(page, selector: str, text: str) -> None:
    """Empty the field, then commit ``text`` as an input method does."""
    field = page.locator(selector)
    field.fill("")
    field.focus()
    page.keyboard.insert_text(text)


def submit_and_wait(page, selector: str) -> None:
    with page.expect_navigation():
        page.click(SUBMIT)
    page.wait_for_selector(selector)


def screen_recorded(page, trial, number: str, creatinine: str, *, ime=False):
    """Screen an eligible candidate with ``creatinine`` typed; the decision."""
    page.goto(f"{page.base_url}/trials/{trial.slug}/screen/")
    fill_eligible(page, number)
    (commit_text if ime else type_keys)(page, CREATININE, creatinine)
    assert page.input_value(CREATININE) == creatinine
    submit_and_wait(page, "#decision-outcome")
    return EligibilityDecision.unscoped.get(screening_number=number)


def test_comma_is_refused_at_the_field(page, trial, coordinator, password):
    open_form(page, trial, password)
    fill_eligible(page, "01-001")
    type_keys(page, CREATININE, "88,4")
    assert page.input_value(CREATININE) == "88,4"
    submit_and_wait(page, f"{CREATININE}.is-invalid")

    assert EligibilityDecision.unscoped.count() == 0
    assert page.locator("#decision-outcome").count() == 0
    feedback = page.locator(f"#div_{CREATININE[1:]} .invalid-feedback")
    assert feedback.is_visible()
    assert "88,4: use a dot for decimals, no commas" in feedback.inner_text()
    assert page.input_value(CREATININE) == "88,4"
    screenshot(page, "typed-comma-refused")


def test_chinese_full_stop_is_read_as_a_dot(page, trial, coordinator, password):
    open_form(page, trial, password)
    typed = screen_recorded(page, trial, "01-001", "88。4", ime=True)
    assert typed.entered["creatinine"]["value"] == "88。4"
    assert typed.normalised["creatinine"]["value"] == "88.4"
    screenshot(page, "typed-full-stop-recorded")

    plain = screen_recorded(page, trial, "01-002", "88.4")
    assert plain.normalised["creatinine"] == typed.normalised["creatinine"]
    assert typed.meld is not None
    assert typed.meld == plain.meld
    assert typed.computed == plain.computed


def test_full_width_digits_are_read(page, trial, coordinator, password):
    open_form(page, trial, password)
    decision = screen_recorded(page, trial, "01-001", "２５６", ime=True)
    assert decision.entered["creatinine"]["value"] == "２５６"
    assert decision.normalised["creatinine"]["value"] == "256"


def test_unusual_value_is_recorded_once_confirmed(page, trial, coordinator, password):
    open_form(page, trial, password)
    fill_eligible(page, "01-001")
    type_keys(page, CREATININE, "884")
    submit_and_wait(page, "#confirm-unusual")

    assert EligibilityDecision.unscoped.count() == 0
    feedback = page.locator(f"#div_{CREATININE[1:]} .invalid-feedback")
    assert "is unusual: confirm or correct" in feedback.inner_text()
    assert page.input_value(CREATININE) == "884"
    confirm = page.locator("#confirm-unusual input[name=confirmed_unusual]")
    assert confirm.count() == 1
    assert confirm.get_attribute("value") == "creatinine"
    assert page.locator("#confirm-unusual").is_visible()
    screenshot(page, "typed-unusual-refused")

    confirm.check()
    submit_and_wait(page, "#decision-outcome")
    decision = EligibilityDecision.unscoped.get()
    assert "creatinine" in decision.entered["confirmed_unusual"]
    assert decision.normalised["creatinine"]["value"] == "884"
    row = page.locator("#entered tr[data-input=creatinine]")
    assert "884" in row.locator(".entered-value").inner_text()
    screenshot(page, "typed-unusual-recorded")
