"""How close as a coordinator sees it: record page and worklist, both languages."""

import pytest

from tests.browser.conftest import login, screenshot
from tests.browser.helpers import assert_fits, switch_language, zh
from tests.screening.test_how_close import close_call

pytestmark = pytest.mark.browser


def test_how_close_on_the_record_page_and_the_worklist(
    page, trial, record, coordinator, password
):
    decision = record(close_call("43-001", he_grade=None))
    login(page, "coordinator", password)

    page.goto(page.base_url + decision.get_absolute_url())
    block = page.locator("#how-close")
    crp = block.locator("li[data-variable=crp_mg_l]")
    assert crp.get_attribute("data-near-miss") == "1"
    assert "CRP 9.2 mg/L: 0.8 below 10 (8\u00a0%)" in crp.inner_text()
    tbil = block.locator("li[data-variable=tbil_umol_l] .tbil-projection")
    assert "+17.1/day" in tbil.inner_text()
    assert "06-01 22:03" in tbil.inner_text()
    assert page.get_attribute("#decision-outcome", "data-outcome") == "INCOMPLETE"
    assert_fits(page)
    screenshot(page, "how-close-record-en")

    page.goto(page.base_url + f"/trials/{trial.slug}/worklist/")
    line = page.locator("#worklist .how-close[data-code=I6]")
    assert "0.8 below 10 (8\u00a0%)" in line.inner_text()
    assert page.locator("#worklist .tbil-projection").count() == 1
    assert_fits(page)
    screenshot(page, "how-close-worklist-en")

    switch_language(page, "zh-hans")
    assert zh("near miss") in page.locator("#worklist").inner_text()
    assert_fits(page)
    screenshot(page, "how-close-worklist-zh")
    page.goto(page.base_url + decision.get_absolute_url())
    assert zh("How close") in page.content()
    assert_fits(page)
    screenshot(page, "how-close-record-zh")
