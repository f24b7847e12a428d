"""Shared steps for the page tests: data, language, layout checks."""

import csv
import io
import re
from datetime import date, timedelta

from django.utils import timezone, translation

from screening.prescreen.files import CSV_COLUMNS, csv_row_from_contract
from tests.factories import eligible_candidate

CJK = re.compile(r"[\u4e00-\u9fff]")

# Column cells of a wide table may scroll inside .table-responsive; nothing else
# may push the page wider than the screen.
OVERFLOW_JS = """() => {
  const limit = window.innerWidth + 1;
  const offenders = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('.table-responsive') && !el.matches('.table-responsive')) continue;
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > limit) {
      const id = el.id ? '#' + el.id : '';
      const cls = typeof el.className === 'string' && el.className
        ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
      const name = el.tagName.toLowerCase() + id + cls;
      offenders.push(`${name} right=${Math.round(box.right)}`);
    }
  }
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    offenders: offenders.slice(0, 8),
  };
}"""


def zh(message: str, **params) -> str:
    """The Simplified Chinese translation of ``message``; it must be translated."""
    with translation.override("zh-hans"):
        text = translation.gettext(message)
    assert CJK.search(text), f"no Chinese translation for {message!r}"
    return text % params if params else text


def assert_fits(page) -> None:
    """The page is no wider than the viewport (wide tables scroll in their box)."""
    layout = page.evaluate(OVERFLOW_JS)
    assert layout["scrollWidth"] <= layout["innerWidth"] + 1, (
        f"{page.url} overflows horizontally: {layout}"
    )


def switch_language(page, code: str) -> None:
    """Press the page's own language button (en or zh-hans)."""
    with page.expect_navigation():
        page.click(f"form.language-switch button[value={code}]")
    expected = "zh-hans" if code.startswith("zh") else "en"
    assert page.get_attribute("html", "lang") == expected


def open_nav_link(page, name: str) -> None:
    """Follow a link of the top menu, opening the collapsed menu on a phone."""
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible():
        toggler.click()
        page.locator("#nav.show").wait_for()
    with page.expect_navigation():
        page.locator("#nav a.nav-link", has_text=name).click()


def last_month() -> tuple[date, date]:
    """The first and last day of the calendar month before today (site time)."""
    first_this_month = timezone.localdate().replace(day=1)
    last_day = first_this_month - timedelta(days=1)
    return last_day.replace(day=1), last_day


def candidate_on(day: date, number: str, **overrides) -> dict:
    """An eligible candidate screened on ``day``, with laboratory times to match."""
    data = eligible_candidate(
        screening_number=number,
        screening_date=day.isoformat(),
        tbil={"value": "180", "unit": "umol/L", "time": f"{day}T08:00+08:00"},
        tbil_series=[
            {
                "time": f"{day - timedelta(days=1)}T08:00+08:00",
                "value": "158.6",
                "unit": "umol/L",
            }
        ],
    )
    data.update(overrides)
    return data


def meld_over_30(day: date) -> dict:
    """Laboratory values that give a MELD score above 30 (exclusion E4)."""
    return {
        "tbil": {"value": "600", "unit": "umol/L", "time": f"{day}T08:00+08:00"},
        "inr": "2.5",
        "creatinine": {"value": "300", "unit": "umol/L"},
    }


def seed_log(record) -> dict:
    """Decisions across outcomes: E4 exclusions last month and one before it.

    Returns the decisions by screening number.
    """
    first, last = last_month()
    day_a, day_b = first + timedelta(days=4), first + timedelta(days=14)
    earlier = first - timedelta(days=10)
    rows = {
        "01-001": candidate_on(day_a, "01-001"),
        "01-002": candidate_on(day_a, "01-002", **meld_over_30(day_a)),
        "01-003": candidate_on(day_b, "01-003", **meld_over_30(day_b), initials="LX"),
        "01-004": candidate_on(earlier, "01-004", **meld_over_30(earlier)),
        "01-005": candidate_on(
            day_b,
            "01-005",
            date_of_birth=(day_b - timedelta(days=16 * 366)).isoformat(),
        ),
        "01-006": candidate_on(day_b, "01-006", inr=None, pta_percent=None),
    }
    return {number: record(data) for number, data in rows.items()}


def csv_row(candidate: dict) -> dict[str, str]:
    """A candidate of the input contract as one row of the upload file."""
    return csv_row_from_contract(candidate)


def upload_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def read_download(download) -> list[list[str]]:
    """The rows of a downloaded CSV file (a byte order mark is dropped)."""
    with open(download.path(), encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


# Latin words a Chinese page may show: codes, abbreviations, units, user names.
LATIN_ALLOWED = {
    "api",
    "aclf",
    "pdf",
    "meld", "meld-na", "inr", "pta", "tbil", "il-6", "tnf-α", "crp", "pct", "cvvhd",
    "csv", "excel", "xlsx", "bom", "utf-8", "sha-256", "utc", "json", "english",
    # Laboratory interfaces, named as Chinese hospital IT names them.
    "fhir", "lis", "loinc",
    # Types and causes of liver failure, as Chinese hepatology writes them
    # beside their Chinese names: 急性肝衰竭（ALF）, 肝豆状核变性（Wilson病）.
    "alf", "salf", "clf", "hbv", "hcv", "dili", "wilson",
    "gb18030", "gbk",
    "west", "haven", "μmol", "mmol", "pg", "ml", "ng",
    "coordinator", "investigator", "monitor", "wang", "jun", "test", "user",
}  # fmt: skip
LATIN_JS = """() => {
  // .typed-text: words a person typed (a change reason), shown as written.
  const skip = 'script, style, pre, .hash, [lang=en], #chart-title, .typed-text';
  const words = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const parent = node.parentElement;
    if (!parent || parent.closest(skip)) continue;
    if (!parent.getClientRects().length && parent.tagName !== 'OPTION') continue;
    for (const word of node.textContent.match(/[A-Za-zμα][A-Za-z0-9μα-]{2,}/g) || []) {
      words.add(word);
    }
  }
  return [...words];
}"""


def english_left(page) -> list[str]:
    """Latin words on a Chinese page that are not codes, units or names."""
    return sorted(
        word
        for word in page.evaluate(LATIN_JS)
        if word.lower() not in LATIN_ALLOWED
        # Registry ids, version numbers and West Haven's Roman numeral grades.
        and not re.fullmatch(r"NCT\d+|v\d+|[IV]+|YYYY-MM-DD(THH:MM)?", word)
    )


# Chinese may break between any two characters, so a narrow table column can
# shrink to one character a line; short labels split over 4+ lines are unreadable.
SQUEEZED_JS = """() => {
  const found = new Set();
  const range = document.createRange();
  for (const cell of document.querySelectorAll('table th, table td')) {
    const text = cell.innerText.trim().replace(/\\s+/g, ' ');
    if (!text || text.length > 15 || !cell.getClientRects().length) continue;
    range.selectNodeContents(cell);
    const line = parseFloat(getComputedStyle(cell).lineHeight) || 24;
    if (range.getBoundingClientRect().height > 3.5 * line) found.add(text);
  }
  return [...found];
}"""


def squeezed_cells(page) -> list[str]:
    """Short table headings or links wrapped one or two characters a line."""
    return page.evaluate(SQUEEZED_JS)
