"""A monitor reports last month's E4 exclusions: log filter, export, funnel.

Issue 6's "done when", in English and then in a Chinese browser.
"""

import io

import openpyxl
import pytest

from screening.models import ScreeningLogExport
from tests.browser.conftest import login, screenshot
from tests.browser.helpers import (
    assert_fits,
    last_month,
    open_nav_link,
    read_download,
    seed_log,
    zh,
)

pytestmark = pytest.mark.browser

E4_LAST_MONTH = ["01-003", "01-002"]  # newest first


def filter_e4_last_month(page, *, decision_label: str, filter_label: str) -> None:
    first, last = last_month()
    page.fill("#id_date_from", first.isoformat())
    page.fill("#id_date_to", last.isoformat())
    page.select_option("#id_outcome", label=decision_label)
    page.select_option("#id_blocking", "E4")
    with page.expect_navigation():
        page.locator("#log-filters button[type=submit]", has_text=filter_label).click()


def log_numbers(page) -> list[str]:
    return page.locator("#log tbody tr td:nth-child(2) a").all_inner_texts()


def export(page, selector: str) -> list[list[str]]:
    with page.expect_download() as info:
        page.click(selector)
    return read_download(info.value)


def check_export(rows: list[list[str]], words=str) -> None:
    """The export in the page's language: ``words`` translates (``zh``) or not."""
    header, body = rows[0], rows[1:]
    assert header[:6] == [
        words("Screening number"),
        words("Initials"),
        words("Sex"),
        words("Age"),
        words("Screening date"),
        words("Decision that counts"),
    ]
    assert [row[0] for row in body] == E4_LAST_MONTH
    assert {row[5] for row in body} == {words("Ineligible")}
    blocking = header.index(words("Blocking criteria"))
    assert all(row[blocking].startswith("E4 ") for row in body)


def check_screening_log(content: bytes, words) -> None:
    """The subject screening log's workbook: headers in the page's language, the
    filtered candidates in screening order, the reason in the criterion's words."""
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    assert header[:2] == [words("Subject number"), words("Initials")]
    assert [row[0] for row in rows[1:]] == sorted(E4_LAST_MONTH)
    reason = header.index(words("Reason for screen failure"))
    assert all(row[reason].startswith("E4 ") for row in rows[1:])


def check_funnel(page, *, show_label: str) -> None:
    first, last = last_month()
    page.fill("#id_date_from", first.isoformat())
    page.fill("#id_date_to", last.isoformat())
    with page.expect_navigation():
        page.locator("button[type=submit]", has_text=show_label).click()
    counts = {
        name: page.inner_text(f"[data-count={name}]")
        for name in ("screened", "eligible", "ineligible", "incomplete")
    }
    assert counts == {
        "screened": "5",
        "eligible": "1",
        "ineligible": "3",
        "incomplete": "1",
    }
    chart = page.locator("#reasons-chart")
    assert chart.is_visible()
    box = chart.bounding_box()
    assert box["width"] <= page.viewport_size["width"]
    bars = chart.locator("g")
    assert bars.count() == 2
    # Bars follow the protocol's order of criteria, each labelled with its count.
    labels = chart.locator("text").all_text_contents()
    assert labels == ["I1", "1", "E4", "2"]
    cells = page.locator("#reasons-table tbody tr").evaluate_all(
        "rows => rows.map(r => [r.cells[0].innerText, r.cells[2].innerText])"
    )
    assert cells == [["I1", "1"], ["E4", "2"]]


def test_monitor_reports_e4_exclusions_in_both_languages(
    page, browser, width, record, monitor, password
):
    seed_log(record)

    login(page, "monitor", password)
    page.goto(f"{page.base_url}/trials/nct06904755/log/")
    assert page.locator("#log tbody tr").count() == 6
    filter_e4_last_month(page, decision_label="Ineligible", filter_label="Filter")
    assert log_numbers(page) == E4_LAST_MONTH
    assert "2 records" in page.inner_text("main")
    assert_fits(page)
    screenshot(page, "report-log-e4-en")
    check_export(export(page, "#export-csv"))
    excel = info_bytes(page, "#export-excel")
    assert excel.startswith(b"\xef\xbb\xbf")
    check_screening_log(info_bytes(page, "#export-screening-log-xlsx"), str)
    open_nav_link(page, "Funnel")
    check_funnel(page, show_label="Show")
    assert_fits(page)
    screenshot(page, "report-funnel-en")

    # The same monitor in a browser set to Chinese: the page follows the browser.
    context = browser.new_context(
        viewport={"width": width, "height": 900},
        locale="zh-CN",
        extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"},
    )
    context.set_default_timeout(15000)
    chinese = context.new_page()
    chinese.base_url = page.base_url
    try:
        chinese.goto(f"{page.base_url}/accounts/login/")
        assert chinese.get_attribute("html", "lang") == "zh-hans"
        assert zh("Log in") in chinese.inner_text("h1")
        login(chinese, "monitor", password)
        chinese.goto(f"{page.base_url}/trials/nct06904755/log/")
        assert zh("Screening log") in chinese.inner_text("h1")
        filter_e4_last_month(
            chinese, decision_label=zh("Ineligible"), filter_label=zh("Filter")
        )
        assert log_numbers(chinese) == E4_LAST_MONTH
        badges = chinese.locator("#log tbody .badge").all_inner_texts()
        assert badges == [zh("Ineligible")] * 2
        # Dates follow the locale (Y年n月j日).
        assert "年" in chinese.inner_text("#log tbody tr >> nth=0")
        assert_fits(chinese)
        screenshot(chinese, "report-log-e4-zh")
        check_export(export(chinese, "#export-csv"), zh)
        check_screening_log(info_bytes(chinese, "#export-screening-log-xlsx"), zh)
        open_nav_link(chinese, zh("Funnel"))
        assert zh("Screening funnel") in chinese.inner_text("h1")
        check_funnel(chinese, show_label=zh("Show"))
        assert zh("Reasons for ineligibility") in chinese.inner_text("main")
        assert "终末期肝病模型评分" in chinese.inner_text("#reasons-table")
        assert_fits(chinese)
        screenshot(chinese, "report-funnel-zh")
    finally:
        context.close()

    exports = ScreeningLogExport.objects.order_by("pk")
    assert [e.export_format for e in exports] == [
        "csv",
        "excel-csv",
        "screening-log-xlsx",
        "csv",
        "screening-log-xlsx",
    ]
    assert all(e.user == monitor for e in exports)
    assert exports[0].filters["blocking"] == "E4"
    assert exports[0].filters["outcome"] == "INELIGIBLE"


def info_bytes(page, selector: str) -> bytes:
    with page.expect_download() as info:
        page.click(selector)
    with open(info.value.path(), "rb") as handle:
        return handle.read()
