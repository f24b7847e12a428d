"""The new pages in English and Simplified Chinese, at desktop and phone width.

The coordinator's worklist, the investigator's sign-off queue and sign page,
the record an investigator disagreed with, the pre-screening purge (monitor)
and its tombstone, and the criteria versions: a trial admin runs the impact
dry-run of a draft that lowers CRP to 5 mg/L, signs its activation by typing
the password, and copies the version now in force into a new draft.
"""

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from screening.decisions.services import signature_record
from screening.prescreen.files import uploaded_candidates
from screening.prescreen.services import prescreen_upload_record
from screening.versions.services import impact_report_record
from tests.browser.conftest import SCREENSHOTS, login, screenshot
from tests.browser.helpers import (
    CJK,
    OVERFLOW_JS,
    candidate_on,
    csv_row,
    english_left,
    squeezed_cells,
    switch_language,
    upload_csv,
)
from tests.browser.test_pages import Tour
from tests.factories import TEST_PASSWORD, eligible_candidate
from trials.models import Condition
from trials.services import version_draft_create

pytestmark = pytest.mark.browser

TRIAL = "/trials/nct06904755"
AMENDMENT = "Protocol v2.0 (amendment 1)"
# Typed by the investigator and the monitor at the Guangzhou site.
DISAGREE_REASON = "CRP 8 mg/L，临床判断存在全身炎症反应"
PURGE_REASONS = {"zh": "上传错了文件：另一项研究的候选人", "en": "Wrong file uploaded"}
# The other markers of I6 (any one elevated) not elevated: CRP decides.
QUIET = {
    "il6": {"value": "5", "unit": "pg/mL"},
    "tnf_alpha": {"value": "6", "unit": "pg/mL"},
    "pct": {"value": "0.04", "unit": "ng/mL"},
}


# Besides test_pages' rules: API, ACLF and PDF (kept in Chinese: "API 令牌",
# "慢加急性肝衰竭（ACLF）", "打印 / PDF"), the version labels a
# trial admin typed, file names, hashes and criterion row ids ("I6 r17").
ALLOWED = {"API", "ACLF", "PDF", "lab-export", *re.findall(r"[A-Za-z]{3,}", AMENDMENT)}
ALLOWED |= {"Protocol", "registered"}


def allowed(word: str) -> bool:
    return word in ALLOWED or bool(re.fullmatch(r"[0-9a-f]{16,}|r\d+", word))


class NewTour(Tour):
    """As in test_pages, but the screenshot is taken before any check."""

    def done(self, name: str) -> None:
        screenshot(self.page, f"new-{name}-{self.language}")
        layout = self.page.evaluate(OVERFLOW_JS)
        self.expect(
            layout["scrollWidth"] <= layout["innerWidth"] + 1,
            f"{name}: overflows horizontally {layout}",
        )
        squeezed = squeezed_cells(self.page)
        self.expect(not squeezed, f"{name}: table text squeezed {squeezed}")
        if self.language == "zh":
            heading = self.page.inner_text("h1")
            self.expect(CJK.search(heading), f"{name}: heading in English {heading!r}")
            left = [w for w in english_left(self.page) if not allowed(w)]
            if left:
                self.english[name] = left


def lower_crp(trial, trial_admin):
    """Draft v2: I6's CRP threshold lowered from 10 to 5 mg/L, with its dry-run."""
    draft = version_draft_create(trial=trial, user=trial_admin, label=AMENDMENT)
    crp = Condition.objects.get(
        criterion__version=draft, criterion__code="I6", variable="crp_mg_l"
    )
    crp.value_low = Decimal("5")
    crp._change_reason = "Amendment 1: CRP > 5 mg/L"
    crp.full_clean()
    crp.save()
    impact_report_record(version=draft, user=trial_admin)
    return draft


def seed(trial, record, coordinator, investigator, trial_admin) -> dict:
    waiting = record(
        eligible_candidate(
            screening_number="03-001",
            **{**QUIET, "il6": None},
            crp={"value": "4", "unit": "mg/L"},
        )
    )
    unsigned = record(eligible_candidate(screening_number="03-002", initials="LM"))
    disagreed = record(
        eligible_candidate(
            screening_number="03-003",
            initials="CH",
            crp={"value": "8", "unit": "mg/L"},
            **QUIET,
        )
    )
    signature_record(
        decision=disagreed,
        signer=investigator,
        password=TEST_PASSWORD,
        meaning="DISAGREE",
        override_outcome="ELIGIBLE",
        reason=DISAGREE_REASON,
    )
    uploads = {}
    day = timezone.localdate() - timedelta(days=2)
    for site, language, name in (
        (4, "zh", "化验导出.csv"),
        (5, "en", "lab-export.csv"),
    ):
        content = upload_csv(
            [csv_row(candidate_on(day, f"0{site}-00{n}")) for n in (1, 2)]
        )
        uploads[language] = prescreen_upload_record(
            trial=trial,
            user=coordinator,
            file_name=name,
            file_format="csv",
            content=content,
            records=list(uploaded_candidates(content, fmt="csv")),
        )
        assert uploads[language].error_count == 0
    draft = lower_crp(trial, trial_admin)
    assert (waiting.outcome, unsigned.outcome, disagreed.outcome) == (
        "INCOMPLETE",
        "ELIGIBLE",
        "INELIGIBLE",
    )
    return {
        "waiting": waiting,
        "unsigned": unsigned,
        "disagreed": disagreed,
        "uploads": uploads,
        "draft": draft,
    }


def logout(page) -> None:
    width = page.viewport_size["width"]
    page.set_viewport_size({"width": 1280, "height": 900})
    with page.expect_navigation():
        page.click("form[action$='/accounts/logout/'] button")
    page.set_viewport_size({"width": width, "height": 900})


def row_of(page, table: str, number: str):
    return page.locator(f"#{table} tbody tr", has_text=number)


# --- Monitor: purge a mistaken upload from the upload log ------------------------


def tour_purge(tour: NewTour, upload) -> None:
    page, t = tour.page, tour.t
    tour.visit(f"{TRIAL}/audit/uploads/")
    assert tour.h1() == t("Upload log")
    button = page.locator(f"form[action$='/prescreen/{upload.pk}/purge/'] button")
    assert button.inner_text() == t("Purge…")
    with page.expect_navigation():
        button.click()
    assert tour.h1() == t("Purge a pre-screening upload")
    assert upload.file_sha256 in page.inner_text("main")
    assert page.locator("#id_reason").is_visible()
    tour.done("purge")
    page.locator("#id_reason").fill(PURGE_REASONS[tour.language])
    with page.expect_navigation():
        page.click("#prescreen-purge-form button[type=submit]")
    assert page.url.endswith(f"{TRIAL}/audit/uploads/")
    assert PURGE_REASONS[tour.language] in page.inner_text("#audit-log")
    assert page.locator(f"form[action$='/prescreen/{upload.pk}/purge/']").count() == 0
    tour.done("upload-log-purged")


# --- Coordinator: the worklist and a purged upload's tombstone ---------------------


def tour_coordinator(tour: NewTour, data: dict) -> None:
    page, t = tour.page, tour.t
    tour.visit(f"{TRIAL}/worklist/")
    assert tour.h1() == t("Worklist: candidates waiting for data")
    rows = page.locator("#worklist tbody tr")
    assert rows.count() == 1
    waiting = row_of(page, "worklist", "03-001")
    to_collect = waiting.locator("td").nth(1).inner_text()
    assert t("IL-6") in to_collect, to_collect
    assert "I6" in to_collect
    assert waiting.locator(
        f"a[href='/decisions/{data['waiting'].pk}/correct/']"
    ).count()
    assert t("Re-screen with the new values") in waiting.inner_text()
    tour.done("worklist")

    upload = data["uploads"]["zh"]
    tour.visit(f"/prescreen/{upload.pk}/")
    assert tour.h1() == t("Pre-screening results")
    tombstone = page.inner_text("#prescreen-purged")
    assert t("This upload was purged") in tombstone
    assert PURGE_REASONS["zh"] in tombstone and upload.file_sha256 in tombstone
    assert "04-001" not in page.inner_text("main")
    tour.done("prescreen-purged")


# --- Investigator: the sign-off queue, the sign page, a disagreement ---------------


def tour_investigator(tour: NewTour, data: dict) -> None:
    page, t = tour.page, tour.t
    tour.visit(f"{TRIAL}/sign-off/")
    assert tour.h1() == t("Sign-off queue")
    numbers = page.locator("#sign-queue tbody tr td:first-child").all_inner_texts()
    assert "03-002" in numbers, numbers
    assert "03-003" not in numbers  # signed already
    unsigned = row_of(page, "sign-queue", "03-002")
    assert t("Eligible") in unsigned.inner_text()
    assert "v1" in unsigned.inner_text()
    tour.done("sign-queue")

    with page.expect_navigation():
        unsigned.locator("a.btn", has_text=t("Sign off")).click()
    assert page.url.endswith(f"/decisions/{data['unsigned'].pk}/sign/")
    assert page.locator("input[name=meaning]").count() == 2
    assert page.locator("input[name=meaning]:checked").count() == 0
    assert page.input_value("select[name=override_outcome]") == ""
    assert page.input_value("#id_password") == ""
    tour.done("sign")

    disagreed = data["disagreed"]
    tour.visit(f"/decisions/{disagreed.pk}/")
    effective = page.locator("#effective-outcome")
    assert effective.get_attribute("data-outcome") == "ELIGIBLE"
    assert t("Investigator's decision:") in effective.inner_text()
    assert DISAGREE_REASON in effective.inner_text()
    engine = page.locator("#decision-outcome")
    assert engine.get_attribute("data-outcome") == "INELIGIBLE"
    # The investigator's decision comes first, above the engine's assessment.
    assert effective.bounding_box()["y"] < engine.bounding_box()["y"]
    first_banner = page.locator(".decision-banner").first
    assert first_banner.get_attribute("id") == "effective-outcome"
    tour.done("decision-disagreed")


# --- Trial admin: versions, dry-run, signed activation, a new draft ---------------


def tour_versions_before(tour: NewTour, data: dict) -> None:
    page, t = tour.page, tour.t
    tour.visit(f"{TRIAL}/versions/")
    assert tour.h1() == t("Criteria versions")
    draft_row = row_of(page, "versions", AMENDMENT)
    assert draft_row.locator("td").first.inner_text() == "v2"
    assert draft_row.locator("td").nth(2).inner_text() == t("Draft")
    assert page.locator("#new-draft").is_visible()
    tour.done("versions")

    tour.visit(f"{TRIAL}/versions/2/impact/")
    flips = page.locator("#impact-flips tbody tr")
    assert flips.count() == 1
    flip = flips.first.inner_text()
    assert "03-003" in flip and "I6" in flip
    i6 = flips.first.locator("[data-code=I6]").inner_text()
    assert i6.startswith(f"I6 {t('Not met')} → {t('Met')}"), i6
    assert t("Ineligible") in flip and t("Eligible") in flip
    tour.done("impact")


def run_dry_run_and_sign(tour: NewTour, other: NewTour, password: str) -> None:
    """The dry-run again, then the activation page in both languages, signed."""
    page, t = tour.page, tour.t
    page.goto(f"{page.base_url}{TRIAL}/versions/2/impact/")
    switch_language(page, code(tour))
    before = page.inner_text("#impact-summary")
    with page.expect_navigation():
        page.locator("button", has_text=t("Run the dry-run")).click()
    assert page.url.endswith(f"{TRIAL}/versions/2/impact/")
    assert page.inner_text("#impact-summary") == before  # same data, same result
    with page.expect_navigation():
        page.locator("a.btn", has_text=t("Sign the activation")).click()
    assert page.url.endswith(f"{TRIAL}/versions/2/activate/")
    assert "03-003" in page.inner_text("#impact-flips")
    tour.done("activate")

    # The other language's view of the page, then back to sign.
    switch_language(page, code(other))
    other.done("activate")
    switch_language(page, code(tour))

    page.check("#id_confirm")
    page.locator("#id_password").press_sequentially(password)
    with page.expect_navigation():
        page.click("form.col-lg-6 [type=submit]")
    assert page.url.endswith(f"{TRIAL}/versions/"), page.url
    assert t("Signed.") in page.inner_text("main")


def tour_versions_after(tour: NewTour, signer_name: str) -> None:
    page, t = tour.page, tour.t
    tour.visit(f"{TRIAL}/versions/")
    assert t("In force: v%(number)s (%(label)s).", number=2, label=AMENDMENT) in (
        page.inner_text("main")
    )
    v2 = row_of(page, "versions", AMENDMENT)
    assert v2.locator("td").nth(2).inner_text() == t("Active")
    assert signer_name in v2.locator("td").nth(5).inner_text()
    v1 = page.locator("#versions tbody tr").last
    assert v1.locator("td").first.inner_text() == "v1"
    assert v1.locator("td").nth(2).inner_text() == t("Retired")
    tour.done("versions-signed")


def copy_into_draft(tour: NewTour) -> None:
    page, t = tour.page, tour.t
    page.fill("#id_label", "Protocol v3.0 (amendment 2)")
    with page.expect_navigation():
        page.locator("#new-draft button[type=submit]").click()
    assert t(
        "Draft v%(number)s created: edit its criteria in the admin.", number=3
    ) in (page.inner_text("main"))
    v3 = row_of(page, "versions", "Protocol v3.0 (amendment 2)")
    assert v3.locator("td").first.inner_text() == "v3"
    assert v3.locator("td").nth(2).inner_text() == t("Draft")
    tour.done("versions-new-draft")


def code(tour: NewTour) -> str:
    return "zh-hans" if tour.language == "zh" else "en"


def in_both(page, tours: dict, visit) -> None:
    """Chinese first, then English (the page's own language button)."""
    for language in ("zh", "en"):
        switch_language(page, "zh-hans" if language == "zh" else "en")
        visit(tours[language])


def test_new_pages_in_english_and_chinese(
    page,
    width,
    trial,
    record,
    coordinator,
    investigator,
    monitor,
    trial_admin,
    password,
):
    data = seed(trial, record, coordinator, investigator, trial_admin)
    tours = {"en": NewTour(page, "en"), "zh": NewTour(page, "zh")}

    login(page, "monitor", password)
    in_both(page, tours, lambda tour: tour_purge(tour, data["uploads"][tour.language]))
    logout(page)

    login(page, "coordinator", password)
    in_both(page, tours, lambda tour: tour_coordinator(tour, data))
    logout(page)

    login(page, "investigator", password)
    in_both(page, tours, lambda tour: tour_investigator(tour, data))
    logout(page)

    login(page, "trialadmin", password)
    # A trial admin reads no log: the home page sends them to the Django admin,
    # which has no language buttons.
    page.goto(f"{page.base_url}{TRIAL}/versions/")
    in_both(page, tours, lambda tour: tour_versions_before(tour, data))
    # At 1280 px the admin signs in English, on a phone in Chinese.
    signing, other = (
        (tours["en"], tours["zh"]) if width == 1280 else (tours["zh"], tours["en"])
    )
    run_dry_run_and_sign(signing, other, password)
    data["draft"].refresh_from_db()
    assert data["draft"].state == "ACTIVE"
    name = trial_admin.get_full_name()
    in_both(page, tours, lambda tour: tour_versions_after(tour, name))
    copy_into_draft(tours["en"])

    report = SCREENSHOTS / f"english-on-chinese-new-pages-{width}.json"
    report.write_text(json.dumps(tours["zh"].english, ensure_ascii=False, indent=1))
    problems = tours["en"].problems + tours["zh"].problems
    problems += [
        f"zh: {name} shows English {words}"
        for name, words in tours["zh"].english.items()
    ]
    assert not problems, "\n".join(problems)
