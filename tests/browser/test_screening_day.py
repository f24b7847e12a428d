"""The screening day, end to end (issue 13's first "done when").

A coordinator opens the worklist, sees a candidate waiting for IL-6 with the hours
left in the screening window, re-screens with the laboratory's value, and the
candidate leaves the worklist; an investigator signs it from the sign-off queue;
the record prints to a PDF whose text holds the signer's name, the meaning and the
criteria version, in Chinese and in English.
"""

import io
import re

import pytest
from django.utils import translation
from pypdf import PdfReader

from screening.models import EligibilityDecision, Signature
from tests.browser.conftest import login, screenshot
from tests.browser.helpers import assert_fits, switch_language, zh
from tests.factories import eligible_candidate

pytestmark = pytest.mark.browser

NUMBER = "40-001"
# I6 reads any one of IL-6, TNF-alpha and CRP above its limit: TNF-alpha and CRP
# are measured and not, so the pending IL-6 decides.
WAITING = {
    "il6": {"status": "pending"},
    "tnf_alpha": {"value": "6", "unit": "pg/mL"},
    "crp": {"value": "4", "unit": "mg/L"},
    "pct": {"value": "0.04", "unit": "ng/mL"},
}


def pdf_text(page, url: str) -> str:
    """The PDF at ``url`` as the signed-in browser downloads it, as text."""
    response = page.request.get(page.base_url + url)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.body()))
    return re.sub(r"\s+", "", "".join(p.extract_text() for p in reader.pages))


def logout(page) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    with page.expect_navigation():
        page.click("form[action$='/accounts/logout/'] button")


def test_worklist_rescreen_sign_off_and_print(
    page, trial, record, coordinator, investigator, password, width
):
    waiting = record(eligible_candidate(screening_number=NUMBER, **WAITING))
    assert waiting.outcome == "INCOMPLETE"
    login(page, "coordinator", password)
    switch_language(page, "zh-hans")
    page.goto(f"{page.base_url}/trials/{trial.slug}/worklist/")
    row = page.locator("#worklist tbody tr", has_text=NUMBER)
    i6 = row.locator(".collect-group[data-code=I6]")
    assert zh("IL-6") in i6.inner_text()
    assert i6.locator(".pending").count() == 1
    # NCT06904755's version sets a 48-hour window, counted from the screening.
    left = row.locator(".hours-left")
    assert left.get_attribute("data-hours-left") == "48"
    assert "48" in left.inner_text() and "剩余" in left.inner_text()
    assert left.is_visible()
    assert_fits(page)
    screenshot(page, "day-worklist-zh")

    with page.expect_navigation():
        row.locator(f"a[href='/decisions/{waiting.pk}/correct/']").click()
    # The last values are there; the laboratory's IL-6 is typed in.
    assert page.input_value("#id_crp_value") == "4"
    page.select_option("#id_il6_status", "")
    page.fill("#id_il6_value", "25")
    page.fill("#id_supersede_reason", "IL-6 结果已回报：25 pg/mL")
    with page.expect_navigation():
        page.click("input[type=submit][name=submit]")
    page.wait_for_selector("#decision-outcome")
    assert page.get_attribute("#decision-outcome", "data-outcome") == "ELIGIBLE"
    rescreened = EligibilityDecision.unscoped.get(supersedes=waiting)
    page.goto(f"{page.base_url}/trials/{trial.slug}/worklist/")
    assert page.locator("#worklist tbody tr", has_text=NUMBER).count() == 0
    logout(page)

    login(page, "investigator", password)
    page.set_viewport_size({"width": width, "height": 900})
    switch_language(page, "en")
    page.goto(f"{page.base_url}/trials/{trial.slug}/sign-off/")
    queued = page.locator("#sign-queue tbody tr", has_text=NUMBER)
    assert queued.count() == 1
    with page.expect_navigation():
        queued.locator("a.btn").click()
    assert page.url.endswith(f"/decisions/{rescreened.pk}/sign/")
    page.check("input[name=meaning][value=CONFIRM]")
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("input[type=submit][name=submit]")
    page.wait_for_selector("#signature")
    signature = Signature.objects.get(decision=rescreened)
    assert signature.signer == investigator
    screenshot(page, "day-signed-en")

    url = f"/decisions/{rescreened.pk}/record.pdf"
    english = pdf_text(page, url)
    version = rescreened.criteria_version
    with translation.override("en"):
        meaning = str(Signature.Meaning.CONFIRM.label)
    assert "WangJun" in english
    assert re.sub(r"\s+", "", meaning) in english
    assert re.sub(r"\s+", "", version.label) in english
    switch_language(page, "zh-hans")
    chinese = pdf_text(page, url)
    with translation.override("zh-hans"):
        meaning = str(Signature.Meaning.CONFIRM.label)
    assert re.search(r"[\u4e00-\u9fff]", meaning)
    assert "WangJun" in chinese
    assert re.sub(r"\s+", "", meaning) in chinese
    assert version.label_zh_hans
    assert re.sub(r"\s+", "", version.label_zh_hans) in chinese
