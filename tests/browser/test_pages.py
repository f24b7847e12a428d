"""Every page in English and Simplified Chinese, at desktop and phone width.

Each page is loaded, checked for its real content and for fitting the screen,
and saved as a screenshot to look at.
"""

import json
import re

import pytest

from screening.decisions.services import signature_record
from tests.browser.conftest import SCREENSHOTS, login, screenshot
from tests.browser.helpers import (
    CJK,
    assert_fits,
    candidate_on,
    english_left,
    seed_log,
    squeezed_cells,
    switch_language,
    zh,
)
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.browser

TRIAL = "/trials/nct06904755"
# Typed by a coordinator at the Guangzhou site.
CORRECTION_REASON = "INR 和 PTA 化验结果已回报"


class Tour:
    """Visits pages in one language; records English left on Chinese pages."""

    def __init__(self, page, language: str):
        self.page = page
        self.language = language
        self.english = {}
        self.problems = []

    def expect(self, condition: bool, problem: str) -> None:
        """A check reported at the end, so one defect does not hide the others."""
        if not condition:
            self.problems.append(f"{self.language}: {problem}")

    def t(self, message: str, **params) -> str:
        if self.language == "zh":
            return zh(message, **params)
        return message % params if params else message

    def visit(self, path: str) -> None:
        self.page.goto(self.page.base_url + path)
        assert self.page.get_attribute("html", "lang") == (
            "zh-hans" if self.language == "zh" else "en"
        )

    def done(self, name: str) -> None:
        assert_fits(self.page)
        screenshot(self.page, f"{name}-{self.language}")
        squeezed = squeezed_cells(self.page)
        self.expect(not squeezed, f"{name}: table text squeezed {squeezed}")
        if self.language == "zh":
            assert CJK.search(self.page.inner_text("h1")), f"{name}: heading in English"
            left = english_left(self.page)
            if left:
                self.english[name] = left

    def h1(self) -> str:
        return self.page.inner_text("h1")


def seed_pages(record, investigator) -> dict:
    decisions = seed_log(record)
    signature_record(
        decision=decisions["01-001"],
        signer=investigator,
        password=TEST_PASSWORD,
        meaning="CONFIRM",
    )
    incomplete = decisions["01-006"]
    decisions["01-006 corrected"] = record(
        candidate_on(incomplete.screening_date, "01-006"),
        supersedes=incomplete,
        supersede_reason=CORRECTION_REASON,
    )
    return decisions


def tour_investigator_pages(tour: Tour, decisions: dict) -> None:
    page, t = tour.page, tour.t

    tour.visit(f"{TRIAL}/log/")
    assert tour.h1() == t("Screening log")
    assert page.locator("#log tbody tr").count() == 7
    badges = page.locator("#log tbody .badge").all_inner_texts()
    for outcome in ("Eligible", "Ineligible", "Incomplete"):
        assert t(outcome) in badges
    assert page.locator("#export-csv").is_visible()
    assert page.locator("#export-excel").is_visible()
    headers = page.locator("#log thead th").all_inner_texts()
    assert t("Screening number") in headers[1]
    tour.done("log")

    tour.visit(f"{TRIAL}/funnel/")
    assert tour.h1() == t("Screening funnel")
    counts = {
        name: page.inner_text(f"[data-count={name}]")
        for name in ("screened", "eligible", "ineligible", "incomplete")
    }
    # Latest record per candidate: the correction made 01-006 eligible.
    assert counts == {
        "screened": "6",
        "eligible": "2",
        "ineligible": "4",
        "incomplete": "0",
    }
    assert page.locator("#reasons-chart").is_visible()
    assert page.locator("#reasons-chart rect").count() == 2
    reasons = page.locator("#reasons-table tbody tr").evaluate_all(
        "rows => rows.map(r => [r.cells[0].innerText, r.cells[2].innerText])"
    )
    assert reasons == [["I1", "1"], ["E4", "3"]]
    assert t("Eligible") in page.inner_text("#funnel-counts")
    tour.done("funnel")

    tour.visit(f"{TRIAL}/prescreen/")
    assert tour.h1() == t("Bulk pre-screening")
    assert page.locator("#prescreen-form input[type=file]").count() == 1
    assert page.locator(f"a[href='{TRIAL}/prescreen/template.csv']").inner_text() == (
        t("Download the CSV template")
    )
    tour.done("prescreen-upload")

    tour.visit(f"{TRIAL}/screen/")
    assert tour.h1() == t("Screen a candidate")
    assert page.inner_text("label[for=id_tbil_value]").startswith(
        t("Current total bilirubin (TBil)")
    )
    assert page.inner_text("label[for=id_pta_percent]").startswith(
        t("Prothrombin activity (PTA)")
    )
    legends = page.locator("legend").all_inner_texts()
    assert t("Identification") in legends and t("Liver function") in legends
    assert page.locator("input[name=he_grade]").count() >= 5
    tour.done("screen-form")

    eligible = decisions["01-001"]
    tour.visit(f"/decisions/{eligible.pk}/")
    assert page.get_attribute("#decision-outcome", "data-outcome") == "ELIGIBLE"
    assert page.locator("#criteria tbody tr").count() == 14
    assert page.locator("#criteria tr[data-outcome=UNKNOWN]").count() == 0
    i3 = page.inner_text("#criteria tr[data-code=I3]")
    assert ("总胆红素" if tour.language == "zh" else "Total bilirubin") in i3
    assert "Wang Jun" in page.inner_text("#signature")
    assert t("Investigator sign-off") in page.inner_text("#signature")
    tour.done("decision-eligible")

    ineligible = decisions["01-002"]
    tour.visit(f"/decisions/{ineligible.pk}/")
    assert page.get_attribute("#decision-outcome", "data-outcome") == "INELIGIBLE"
    assert t("Ineligible") in page.inner_text("#decision-outcome")
    e4 = page.locator("#criteria tr[data-code=E4]")
    assert e4.get_attribute("data-outcome") == "MET"
    assert "table-danger" in e4.get_attribute("class")
    assert ("终末期肝病模型评分" if tour.language == "zh" else "MELD score") in (
        e4.inner_text()
    )
    tour.done("decision-ineligible")

    incomplete = decisions["01-006"]
    tour.visit(f"/decisions/{incomplete.pk}/")
    assert page.get_attribute("#decision-outcome", "data-outcome") == "INCOMPLETE"
    assert page.get_attribute("#criteria tr[data-code=I4]", "data-outcome") == (
        "UNKNOWN"
    )
    to_collect = page.locator("#to-collect li").all_inner_texts()
    assert t("PTA") in to_collect and t("INR") in to_collect
    successor = incomplete.superseded_by
    superseded = t(
        'This record has been superseded by <a href="%(url)s">#%(seq)s</a>.',
        url=successor.get_absolute_url(),
        seq=successor.sequence,
    )
    assert re.sub("<[^>]+>", "", superseded) in page.inner_text("main")
    tour.done("decision-incomplete")

    tour.visit(f"/decisions/{incomplete.pk}/candidate/")
    assert tour.h1() == t("Candidate %(screening_number)s", screening_number="01-006")
    chain = page.locator("#chain tbody tr")
    assert chain.count() == 2
    assert CORRECTION_REASON in chain.nth(1).inner_text()
    assert f"#{incomplete.sequence}" in chain.nth(1).inner_text()
    tour.done("candidate")

    to_sign = decisions["01-003"]
    tour.visit(f"/decisions/{to_sign.pk}/sign/")
    assert tour.h1() == t(
        "Sign off screening %(number)s (#%(seq)s)",
        number="01-003",
        seq=to_sign.sequence,
    )
    assert page.locator("#id_password").is_visible()
    assert page.inner_text("label[for=id_password]").startswith(t("Your password"))
    tour.done("sign")

    tour.visit(f"/decisions/{ineligible.pk}/correct/")
    assert tour.h1() == t("Correct or re-screen %(number)s", number="01-002")
    assert page.input_value("#id_screening_number") == "01-002"
    assert page.input_value("#id_inr") == "2.5"
    assert page.input_value("#id_tbil_value") == "600"
    # The measurement time as entered, in the form's datetime-local format.
    screened = ineligible.screening_date.isoformat()
    tour.expect(
        page.input_value("#id_tbil_time") == f"{screened}T08:00",
        f"correction form: TBil time is {page.input_value('#id_tbil_time')!r}",
    )
    assert page.locator("#id_supersede_reason").is_visible()
    tour.done("correct")


def tour_access_log(tour: Tour) -> None:
    page = tour.page
    tour.visit("/accounts/access-log/")
    assert tour.h1() == tour.t("Access log")
    text = page.inner_text("main table")
    assert "investigator" in text and "monitor" in text
    tour.done("access-log")
    for kind, title in (
        ("exports", "Export log"),
        ("uploads", "Upload log"),
        ("criteria", "Criteria history"),
    ):
        tour.visit(f"{TRIAL}/audit/{kind}/")
        assert tour.h1() == tour.t(title)
        assert page.locator("#audit-log").count() == 1
        tour.done(f"audit-{kind}")


def test_every_page_in_english_and_chinese(
    page, width, record, investigator, monitor, password
):
    decisions = seed_pages(record, investigator)
    english, chinese = Tour(page, "en"), Tour(page, "zh")

    page.goto(page.base_url + "/accounts/login/")
    assert page.inner_text("h1") == "Log in"
    english.done("login")
    switch_language(page, "zh-hans")
    assert page.inner_text("h1") == zh("Log in")
    assert page.inner_text("#login-submit") == zh("Log in")
    chinese.done("login")

    login(page, "investigator", password)
    tour_investigator_pages(chinese, decisions)
    switch_language(page, "en")
    tour_investigator_pages(english, decisions)

    page.set_viewport_size({"width": 1280, "height": 900})
    with page.expect_navigation():
        page.click("form[action$='/accounts/logout/'] button")
    page.set_viewport_size({"width": width, "height": 900})
    login(page, "monitor", password)
    tour_access_log(english)
    switch_language(page, "zh-hans")
    tour_access_log(chinese)

    report = SCREENSHOTS / f"english-on-chinese-pages-{width}.json"
    report.write_text(json.dumps(chinese.english, ensure_ascii=False, indent=1))
    problems = english.problems + chinese.problems
    problems += [
        f"zh: {name} shows English {words}" for name, words in chinese.english.items()
    ]
    assert not problems, "\n".join(problems)
