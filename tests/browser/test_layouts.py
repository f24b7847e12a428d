"""Lists as tables at 1280 px and as cards at 390 px, the menu, and the error pages.

The screening log, a candidate's history, the worklist, the sign-off queue and
the 403 and 404 pages, in English and Simplified Chinese, at both widths: nothing
wider than the screen, no table cell cut off at 1280 px, each record's decision
on screen at 390 px, the current page marked in a menu whose links have a
contrast of at least 4.5:1, and people named by full name (in Chinese on the
Chinese pages). One live server, one log-in per user and width.
"""

from datetime import date

import pytest

from accounts.models import Profile
from screening.decisions.services import signature_record
from tests.browser.conftest import login, screenshot
from tests.browser.helpers import meld_over_30, squeezed_cells, switch_language, zh
from tests.factories import TEST_PASSWORD, eligible_candidate

pytestmark = pytest.mark.browser

TRIAL = "/trials/nct06904755"
NAMES = {
    "coordinator": ("Fang", "Wang", "王芳"),
    "investigator": ("Jianguo", "Li", "李建国"),
}
CORRECTION_REASON = "INR 和 PTA 化验结果已回报，按新值重新筛选该候选人"

LAYOUT_JS = """() => {
  const inner = window.innerWidth;
  const cut = [];
  for (const cell of document.querySelectorAll('main table th, main table td')) {
    const box = cell.getBoundingClientRect();
    if (!box.width) continue;
    const frame = cell.closest('.table-responsive');
    const right = Math.min(inner, frame ? frame.getBoundingClientRect().right : inner);
    if (box.left < -1 || box.right > right + 1) {
      cut.push(`${cell.tagName} "${cell.innerText.trim().slice(0, 20)}" right=${
        Math.round(box.right)} limit=${Math.round(right)}`);
    }
  }
  return {
    scrollWidth: document.scrollingElement.scrollWidth,
    innerWidth: inner,
    cut: cut.slice(0, 6),
  };
}"""

# Contrast (WCAG 2) of each menu link's text on the colour behind it, as drawn.
CONTRAST_JS = """() => {
  const rgba = c => { const v = c.match(/[\\d.]+/g).map(Number);
    return v.length === 3 ? [...v, 1] : v; };
  const lum = rgb => rgb.slice(0, 3).map(v => v / 255)
    .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const behind = el => {
    for (; el; el = el.parentElement) {
      const c = rgba(getComputedStyle(el).backgroundColor);
      if (c[3] > 0) return c;
    }
    return [255, 255, 255, 1];
  };
  const links = document.querySelectorAll('nav.navbar a, nav.navbar .navbar-text');
  return [...links].map(link => {
    const [r, g, b, a] = rgba(getComputedStyle(link).color);
    const bg = behind(link);
    const fg = [r, g, b].map((v, i) => a * v + (1 - a) * bg[i]);
    const [hi, lo] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    return {text: link.textContent.trim(), ratio: (hi + 0.05) / (lo + 0.05)};
  });
}"""


def seed(trial, record, coordinator, investigator) -> dict:
    for user, (first, last, chinese) in (
        (coordinator, NAMES["coordinator"]),
        (investigator, NAMES["investigator"]),
    ):
        user.first_name, user.last_name = first, last
        user.save()
        Profile.objects.create(user=user, display_name_zh=chinese)
    signed = record(eligible_candidate(screening_number="07-001"))
    signature_record(
        decision=signed, signer=investigator, password=TEST_PASSWORD, meaning="CONFIRM"
    )
    ineligible = record(
        eligible_candidate(
            screening_number="07-002",
            **meld_over_30(date(2026, 6, 1)),
        )
    )
    signature_record(
        decision=ineligible,
        signer=investigator,
        password=TEST_PASSWORD,
        meaning="DISAGREE",
        override_outcome="ELIGIBLE",
        reason="临床判断：MELD 评分系急性期一过性升高",
    )
    incomplete = record(
        eligible_candidate(screening_number="07-003", inr=None, pta_percent=None)
    )
    corrected = record(
        eligible_candidate(screening_number="07-003"),
        supersedes=incomplete,
        supersede_reason=CORRECTION_REASON,
    )
    waiting = record(
        eligible_candidate(
            screening_number="07-004", inr=None, pta_percent=None, tbil_series=[]
        )
    )
    record(eligible_candidate(screening_number="07-005"))
    assert (incomplete.outcome, corrected.outcome, waiting.outcome) == (
        "INCOMPLETE",
        "ELIGIBLE",
        "INCOMPLETE",
    )
    return {"corrected": corrected, "waiting": waiting}


class Check:
    """The checks of one page in one language; problems are reported together."""

    def __init__(self, page, width: int, problems: list):
        self.page, self.width, self.problems = page, width, problems
        self.language = "en"

    def t(self, message: str) -> str:
        return zh(message) if self.language == "zh" else message

    def expect(self, condition, problem: str) -> None:
        if not condition:
            self.problems.append(f"{self.width} {self.language}: {problem}")

    def open(self, path: str, name: str, *, status: int = 200) -> None:
        response = self.page.goto(self.page.base_url + path)
        assert response.status == status, (path, response.status)
        screenshot(self.page, f"layout-{name}-{self.language}")
        layout = self.page.evaluate(LAYOUT_JS)
        self.expect(
            layout["scrollWidth"] <= layout["innerWidth"],
            f"{name}: wider than the screen {layout}",
        )
        if self.width >= 1280:
            self.expect(not layout["cut"], f"{name}: cells cut off {layout['cut']}")
            squeezed = squeezed_cells(self.page)
            self.expect(not squeezed, f"{name}: table text squeezed {squeezed}")
        for link in self.page.evaluate(CONTRAST_JS):
            self.expect(link["ratio"] >= 4.5, f"{name}: menu contrast {link}")

    def current(self, name: str, href: str | None, value: str = "page") -> None:
        marked = self.page.locator("#nav a[aria-current]")
        if href is None:
            self.expect(marked.count() == 0, f"{name}: a link marked current")
            return
        self.expect(marked.count() == 1, f"{name}: {marked.count()} links current")
        if marked.count() == 1:
            self.expect(
                marked.get_attribute("href") == href
                and marked.get_attribute("aria-current") == value,
                f"{name}: current link {marked.get_attribute('href')}",
            )

    def decisions_on_screen(self, name: str, rows: str, decision: str) -> None:
        """At 390 px every card's decision is within the screen's width, and the
        first card's within the first screenful."""
        if self.width >= 1280:
            return
        boxes = self.page.locator(f"{rows} {decision}").evaluate_all(
            "els => els.map(e => e.getBoundingClientRect().toJSON())"
        )
        self.expect(boxes, f"{name}: no decision shown")
        for box in boxes:
            self.expect(
                box["left"] >= 0 and box["right"] <= self.width,
                f"{name}: decision off-screen {box}",
            )
        if boxes:
            self.expect(
                boxes[0]["bottom"] <= self.page.viewport_size["height"],
                f"{name}: first decision below the first screen {boxes[0]}",
            )

    def names(self, name: str, *people: str) -> None:
        text = self.page.inner_text("main")
        for person in people:
            first, last, chinese = NAMES[person]
            shown, hidden = (
                (chinese, f"{first} {last}")
                if self.language == "zh"
                else (f"{first} {last}", chinese)
            )
            self.expect(shown in text, f"{name}: {shown} not shown")
            self.expect(hidden not in text, f"{name}: {hidden} shown")
            self.expect(person not in text, f"{name}: user name {person} shown")


def investigator_pages(check: Check, data: dict) -> None:
    page, t = check.page, check.t
    log = f"{TRIAL}/log/"
    check.open(log, "log")
    assert page.locator("#log tbody tr").count() == 6
    check.current("log", log)
    check.decisions_on_screen("log", "#log tbody tr", ".log-decision .badge")
    check.names("log", "coordinator", "investigator")
    disagreed = page.locator("#log tbody tr", has_text="07-002").inner_text()
    check.expect(t("Disagreed") in disagreed, f"log: sign-off {disagreed!r}")
    if check.width < 992:
        # The opened phone menu: the current link marked, the links readable.
        page.locator(".navbar-toggler").click()
        page.locator("#nav.show").wait_for()
        screenshot(page, f"layout-log-menu-{check.language}")
        current = page.locator("#nav a[aria-current=page]")
        check.expect(current.is_visible(), "log: current link not shown in the menu")
        for link in page.evaluate(CONTRAST_JS):
            check.expect(link["ratio"] >= 4.5, f"log menu: contrast {link}")

    corrected = data["corrected"]
    check.open(f"/decisions/{corrected.pk}/candidate/", "candidate")
    assert page.locator("#chain tbody tr").count() == 2
    check.current("candidate", log, "true")
    check.decisions_on_screen("candidate", "#chain tbody tr", ".chain-decision .badge")
    check.names("candidate", "coordinator")
    check.expect(
        CORRECTION_REASON in page.inner_text("#chain"), "candidate: reason missing"
    )

    queue = f"{TRIAL}/sign-off/"
    check.open(queue, "sign-queue")
    numbers = page.locator("#sign-queue tbody tr").all_inner_texts()
    assert len(numbers) == 3, numbers  # 07-003 (corrected), 07-004, 07-005
    check.current("sign-queue", queue)
    check.decisions_on_screen("sign-queue", "#sign-queue tbody tr", "td .badge")
    check.names("sign-queue", "coordinator")

    check.open("/trials/no-such-trial/log/", "404", status=404)
    check.expect(page.inner_text("h1") == t("Page not found"), "404: heading")
    check.current("404", None)
    check.expect(page.locator("main a[href='/']").count() == 1, "404: no way back")


def coordinator_pages(check: Check) -> None:
    page, t = check.page, check.t
    worklist = f"{TRIAL}/worklist/"
    check.open(worklist, "worklist")
    rows = page.locator("#worklist tbody tr")
    assert rows.count() == 1
    check.current("worklist", worklist)
    check.decisions_on_screen("worklist", "#worklist tbody tr", ".card-head .badge")
    check.names("worklist", "coordinator")
    button = rows.first.locator("a.btn")
    box = button.bounding_box()
    check.expect(box["x"] + box["width"] <= check.width, "worklist: button cut off")

    check.open(f"{TRIAL}/sign-off/", "403", status=403)
    check.expect(page.inner_text("h1") == t("You may not open this page"), "403: h1")
    check.current("403", None)
    check.expect(page.locator("main a[href='/']").count() == 1, "403: no way back")
    check.expect("NCT06904755" not in page.inner_text("body"), "403: names the trial")


def test_lists_menu_and_error_pages_fit_both_widths_in_both_languages(
    page, width, trial, record, coordinator, investigator
):
    data = seed(trial, record, coordinator, investigator)
    problems = []
    check = Check(page, width, problems)
    for username, visit in (
        ("investigator", lambda: investigator_pages(check, data)),
        ("coordinator", lambda: coordinator_pages(check)),
    ):
        page.context.clear_cookies()
        login(page, username, TEST_PASSWORD)
        for language in ("zh", "en"):
            check.language = language
            switch_language(page, "zh-hans" if language == "zh" else "en")
            visit()
    assert not problems, "\n".join(problems)
