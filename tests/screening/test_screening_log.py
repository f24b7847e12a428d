"""The screening logs to hand over: 受试者筛选入选表 and the ICH screening log.

Issue 13, item 6's acceptance: a monitor exports the 受试者筛选入选表 for a
month, with consent dates, results, Chinese failure reasons, enrolment dates and
signatures, and the same rows in English; as .xlsx and CSV; each export logged
with its format and filter; scoped to the monitor's memberships.
"""

import csv
import io
from http import HTTPStatus

import openpyxl
import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from accounts import roles
from accounts.models import Membership
from screening.decisions.enrolment import enrolment_record
from screening.decisions.services import signature_record
from screening.ledger.models import LedgerEntry
from screening.models import ScreeningLogExport
from tests.factories import TEST_PASSWORD, UserFactory, eligible_candidate
from trials.models import CriteriaVersion, Criterion, Site

pytestmark = pytest.mark.django_db

JUNE = {"date_from": "2026-06-01", "date_to": "2026-06-30"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

ZH_HEADER = [
    "受试者编号",
    "姓名缩写",
    "知情同意日期",
    "知情同意书版本号",
    "筛选日期",
    "筛选结果",
    "系统判定结果",
    "筛选失败原因",
    "终末期肝病模型评分（MELD）",
    "判定所依据的检验值",
    "肝衰竭类型",
    "肝衰竭病因",
    "更正原因",
    "不同意理由",
    "标准版本",
    "入组日期",
    "随机号",
    "研究者签名",
]
EN_HEADER = [
    "Subject number",
    "Initials",
    "Date of informed consent",
    "Consent form version",
    "Screening date",
    "Screening result",
    "Engine's decision",
    "Reason for screen failure",
    "MELD",
    "Deciding lab values",
    "Type of liver failure",
    "Cause of liver failure",
    "Reason for correction",
    "Reason for disagreement",
    "Criteria version",
    "Enrolment date",
    "Randomisation number",
    "Investigator signature",
]
# The nine columns of the 受试者筛选入选表, in its order, among the others.
TABLE_COLUMNS_ZH = [
    "受试者编号",
    "姓名缩写",
    "知情同意日期",
    "筛选日期",
    "筛选结果",
    "筛选失败原因",
    "入组日期",
    "随机号",
    "研究者签名",
]
TABLE_COLUMNS_EN = [
    "Subject number",
    "Initials",
    "Date of informed consent",
    "Screening date",
    "Screening result",
    "Reason for screen failure",
    "Enrolment date",
    "Randomisation number",
    "Investigator signature",
]


@pytest.fixture(autouse=True)
def _no_language_left_behind():
    yield
    translation.deactivate()


def _sign(decision, investigator, **kwargs):
    kwargs.setdefault("meaning", "CONFIRM")
    return signature_record(
        decision=decision, signer=investigator, password=TEST_PASSWORD, **kwargs
    )


@pytest.fixture
def month(record, investigator, coordinator):
    """June 2026: enrolled, screen failure, corrected, overridden; one in May."""
    enrolled = record(
        eligible_candidate(
            screening_number="01-001",
            initials="ZW",
            consent_date="2026-05-30",
            liver_failure_type="ACLF",
            liver_failure_cause="HBV",
        )
    )
    _sign(enrolled, investigator)
    enrolment_record(
        decision=enrolled,
        user=coordinator,
        enrolled_on="2026-06-03",
        randomisation_number="R-0001",
    )
    record(
        eligible_candidate(
            screening_number="01-002", initials="LM", severe_active_bleeding=True
        )
    )
    wrong = record(
        eligible_candidate(
            screening_number="01-003", initials="QH", inr="3.5", pta_percent="10"
        )
    )
    record(
        eligible_candidate(screening_number="01-003", initials="QH"),
        supersedes=wrong,
        supersede_reason="INR was mistyped",
    )
    overridden = record(eligible_candidate(screening_number="01-004", initials="HF"))
    _sign(
        overridden,
        investigator,
        meaning="DISAGREE",
        reason="Heavy drinking reported by family",
        override_outcome="INELIGIBLE",
    )
    record(
        eligible_candidate(
            screening_number="01-005",
            screening_date="2026-05-20",
            tbil={"value": "180", "unit": "umol/L", "time": "2026-05-20T08:00+08:00"},
            tbil_series=[
                {"time": "2026-05-19T08:00+08:00", "value": "158.6", "unit": "umol/L"}
            ],
        )
    )
    version = CriteriaVersion.objects.get(trial=enrolled.trial, state="ACTIVE")
    return {
        "e1": Criterion.objects.get(version=version, code="E1"),
        "version": f"v{version.number} {version.label}".strip(),
        "version_zh": f"v{version.number} {version.label_zh_hans}".strip(),
    }


def _get(client, trial, route, language, **params):
    return client.get(
        f"/trials/{trial.slug}/log/{route}/",
        {**JUNE, **params},
        HTTP_ACCEPT_LANGUAGE=language,
    )


def _xlsx_rows(response) -> list[list]:
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == XLSX
    sheet = openpyxl.load_workbook(
        io.BytesIO(b"".join(response.streaming_content))
    ).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _csv_rows(response) -> list[list[str]]:
    assert response.status_code == HTTPStatus.OK
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))


def _by_number(rows, header) -> dict[str, dict]:
    assert rows[0] == header
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}


def _cells(value) -> str:
    # openpyxl reads an empty cell as None; CSV as "".
    return "" if value is None else value


def test_a_monitor_exports_the_chinese_screening_log_for_a_month_and_in_english(
    client, monitor, trial, month
):
    client.force_login(monitor)
    e1 = month["e1"]
    zh_xlsx = _xlsx_rows(_get(client, trial, "screening-log", "zh-hans", format="xlsx"))
    zh_csv = _csv_rows(_get(client, trial, "screening-log", "zh-hans", format="csv"))
    en_xlsx = _xlsx_rows(_get(client, trial, "screening-log", "en", format="xlsx"))
    en_csv = _csv_rows(_get(client, trial, "screening-log", "en", format="csv"))

    # The nine columns of the table, in its order.
    assert [h for h in zh_xlsx[0] if h in TABLE_COLUMNS_ZH] == TABLE_COLUMNS_ZH
    assert [h for h in en_xlsx[0] if h in TABLE_COLUMNS_EN] == TABLE_COLUMNS_EN
    zh = _by_number(zh_xlsx, ZH_HEADER)
    en = _by_number(en_xlsx, EN_HEADER)
    # One line per candidate of June, in screening order; May's is not there.
    assert list(zh) == list(en) == ["01-001", "01-002", "01-003", "01-004"]

    # Eligible, enrolled and signed.
    assert {k: zh["01-001"][k] for k in TABLE_COLUMNS_ZH} == {
        "受试者编号": "01-001",
        "姓名缩写": "ZW",
        "知情同意日期": "2026年5月30日",
        "筛选日期": "2026年6月1日",
        "筛选结果": "符合入选",
        "筛选失败原因": None,
        "入组日期": "2026年6月3日",
        "随机号": "R-0001",
        "研究者签名": f"Wang Jun {zh['01-001']['研究者签名'].split(' ', 2)[2]}",
    }
    assert zh["01-001"]["研究者签名"].startswith("Wang Jun 2026年")
    assert zh["01-001"]["知情同意书版本号"] == "V2.0 2025-03-01"
    assert zh["01-001"]["系统判定结果"] == "符合入选"
    assert zh["01-001"]["标准版本"] == month["version_zh"]
    assert isinstance(zh["01-001"]["终末期肝病模型评分（MELD）"], int)
    assert "180 μmol/L" in zh["01-001"]["判定所依据的检验值"]
    # Type and cause of liver failure by their labels; empty when not given.
    with translation.override("zh-hans"):
        aclf = str(translation.gettext("Acute-on-chronic liver failure (ACLF)"))
        hbv = str(translation.gettext("Hepatitis B virus (HBV)"))
    assert aclf != "Acute-on-chronic liver failure (ACLF)" and "慢加急性" in aclf
    assert (zh["01-001"]["肝衰竭类型"], zh["01-001"]["肝衰竭病因"]) == (aclf, hbv)
    assert zh["01-002"]["肝衰竭类型"] is None
    assert (
        en["01-001"]["Type of liver failure"],
        en["01-001"]["Cause of liver failure"],
    ) == ("Acute-on-chronic liver failure (ACLF)", "Hepatitis B virus (HBV)")
    assert {k: en["01-001"][k] for k in TABLE_COLUMNS_EN} == {
        "Subject number": "01-001",
        "Initials": "ZW",
        "Date of informed consent": "2026-05-30",
        "Screening date": "2026-06-01",
        "Screening result": "Eligible",
        "Reason for screen failure": None,
        "Enrolment date": "2026-06-03",
        "Randomisation number": "R-0001",
        "Investigator signature": en["01-001"]["Investigator signature"],
    }
    assert en["01-001"]["Investigator signature"].startswith("Wang Jun 2026-")
    assert en["01-001"]["Deciding lab values"].startswith("TBil 180 μmol/L")

    # A screen failure: the criterion's Chinese wording, its English on English.
    assert zh["01-002"]["筛选结果"] == "不符合入选"
    assert zh["01-002"]["筛选失败原因"] == f"E1 {e1.text_zh_hans}"
    assert en["01-002"]["Reason for screen failure"] == f"E1 {e1.text}"
    assert zh["01-002"]["入组日期"] is None and zh["01-002"]["研究者签名"] is None

    # A corrected record: the correction, with its reason.
    assert zh["01-003"]["筛选结果"] == "符合入选"
    assert zh["01-003"]["更正原因"] == "INR was mistyped"

    # The investigator's decision counts, the engine's beside it.
    assert zh["01-004"]["筛选结果"] == "不符合入选"
    assert zh["01-004"]["系统判定结果"] == "符合入选"
    assert zh["01-004"]["筛选失败原因"] == "Heavy drinking reported by family"
    assert zh["01-004"]["不同意理由"] == "Heavy drinking reported by family"
    assert en["01-004"]["Screening result"] == "Ineligible"
    assert en["01-004"]["Engine's decision"] == "Eligible"

    # The CSV files say the same, cell for cell.
    for sheet, text in ((zh_xlsx, zh_csv), (en_xlsx, en_csv)):
        assert text == [[str(_cells(v)) for v in row] for row in sheet]

    logged = list(
        ScreeningLogExport.objects.order_by("id").values_list(
            "user__username", "export_format", "filters"
        )
    )
    june = {**JUNE, "current_only": True}
    assert logged == [
        ("monitor", "screening-log-xlsx", {**june, "language": "zh-hans"}),
        ("monitor", "screening-log-csv", {**june, "language": "zh-hans"}),
        ("monitor", "screening-log-xlsx", {**june, "language": "en"}),
        ("monitor", "screening-log-csv", {**june, "language": "en"}),
    ]
    # Each export is sealed in the audit ledger too.
    assert LedgerEntry.objects.filter(
        object_table="screening_screeninglogexport"
    ).count() == len(logged)


def test_the_records_log_follows_the_page_language_with_every_fact(
    client, monitor, trial, month
):
    client.force_login(monitor)
    rows = _xlsx_rows(_get(client, trial, "export", "zh-hans", format="xlsx"))
    header = rows[0]
    assert header[:8] == [
        "筛选号",
        "姓名缩写",
        "性别",
        "年龄",
        "筛选日期",
        "最终判定结果",
        "系统判定结果",
        "导致不符合入选的标准",
    ]
    records = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    # Every record of June, the corrected original too.
    assert sorted(r["筛选号"] for r in records) == [
        "01-001",
        "01-002",
        "01-003",
        "01-003",
        "01-004",
    ]
    original, correction = sorted(
        (r for r in records if r["筛选号"] == "01-003"), key=lambda r: r["序号"]
    )
    assert original["最终判定结果"] == "不符合入选"
    assert original["更正记录的序号"] == correction["序号"]
    assert correction["所更正记录的序号"] == original["序号"]
    assert correction["更正原因"] == "INR was mistyped"
    enrolled = next(r for r in records if r["筛选号"] == "01-001")
    assert (enrolled["入组日期"], enrolled["随机号"]) == ("2026年6月3日", "R-0001")
    assert enrolled["知情同意日期"] == "2026年5月30日"
    assert enrolled["签名人"] == "Wang Jun"
    assert enrolled["性别"] == "男"
    failure = next(r for r in records if r["筛选号"] == "01-002")
    assert failure["导致不符合入选的标准"] == f"E1 {month['e1'].text_zh_hans}"

    english = _csv_rows(
        _get(client, trial, "export", "en", format="csv", variant="excel")
    )
    assert english[0][:6] == [
        "Screening number",
        "Initials",
        "Sex",
        "Age",
        "Screening date",
        "Decision that counts",
    ]
    overridden = next(r for r in english if r[0] == "01-004")
    assert overridden[5:7] == ["Ineligible", "Eligible"]
    formats = ScreeningLogExport.objects.order_by("id").values_list(
        "export_format", flat=True
    )
    assert list(formats) == ["xlsx", "excel-csv"]


def test_text_is_never_a_formula_in_either_format(client, monitor, trial, record):
    record(eligible_candidate(screening_number="01-001"))
    wrong = record(eligible_candidate(screening_number="01-002", inr="3.5"))
    record(
        eligible_candidate(screening_number="01-002"),
        supersedes=wrong,
        supersede_reason='=HYPERLINK("http://example.invalid","x")',
    )
    client.force_login(monitor)
    sheet = openpyxl.load_workbook(
        io.BytesIO(
            b"".join(
                _get(
                    client, trial, "screening-log", "en", format="xlsx"
                ).streaming_content
            )
        )
    ).active
    reason = EN_HEADER.index("Reason for correction") + 1
    cell = sheet.cell(row=3, column=reason)
    assert cell.data_type == "s"
    assert cell.value.startswith("=HYPERLINK")
    rows = _csv_rows(_get(client, trial, "screening-log", "en", format="csv"))
    assert rows[2][reason - 1].startswith("'=HYPERLINK")


def test_a_monitor_of_another_site_exports_no_rows(client, trial, month):
    second = Site.objects.create(trial=trial, code="02", name="Second site")
    elsewhere = UserFactory(username="monitor-02")
    elsewhere.groups.add(Group.objects.get(name=roles.MONITOR))
    Membership.objects.create(
        user=elsewhere, trial=trial, site=second, role=roles.MONITOR
    )
    client.force_login(elsewhere)
    for route in ("screening-log", "export"):
        rows = _xlsx_rows(_get(client, trial, route, "en", format="xlsx"))
        assert len(rows) == 1  # the header only


def test_a_coordinator_exports_but_an_outsider_gets_404_and_bad_format_400(
    client, coordinator, trial, month
):
    client.force_login(coordinator)
    assert _get(client, trial, "screening-log", "en").status_code == HTTPStatus.OK
    bad = _get(client, trial, "screening-log", "en", format="pdf")
    assert bad.status_code == HTTPStatus.BAD_REQUEST
    assert b"format" in bad.content
    assert not ScreeningLogExport.objects.filter(export_format__contains="pdf")
    client.force_login(UserFactory(username="stranger"))
    assert _get(client, trial, "screening-log", "en").status_code == (
        HTTPStatus.NOT_FOUND
    )


def test_the_log_page_offers_the_four_downloads_in_its_language(
    client, monitor, trial, month
):
    client.force_login(monitor)
    page = client.get(
        f"/trials/{trial.slug}/log/", JUNE, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    html = page.content.decode()
    for anchor in (
        "export-screening-log-xlsx",
        "export-screening-log-csv",
        "export-xlsx",
        "export-csv",
    ):
        assert f'id="{anchor}"' in html
    assert "受试者筛选入选表" in html
    assert "date_from=2026-06-01&amp;date_to=2026-06-30&amp;format=xlsx" in html


@pytest.mark.parametrize("route", ["screening-log", "export"])
def test_the_export_costs_the_same_queries_for_more_rows(
    client, monitor, trial, record, month, route, django_assert_max_num_queries
):
    client.force_login(monitor)

    def export() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = _get(client, trial, route, "zh-hans", format="xlsx")
            assert response.status_code == HTTPStatus.OK
        return len(queries)

    export()  # the session and the user's scope are read once and cached
    before = export()
    for n in range(6, 16):
        record(
            eligible_candidate(
                screening_number=f"01-{n:03d}", severe_active_bleeding=n % 2 == 0
            )
        )
    with django_assert_max_num_queries(before):
        export()
    assert before <= 25


def test_people_are_named_in_the_exports_language(
    client, monitor, trial, month, coordinator, investigator
):
    """Chinese names on Chinese exports; English full names on English ones; the
    name signed with stays beside a Chinese name."""
    from accounts.models import Profile

    Profile.objects.update_or_create(
        user=investigator, defaults={"display_name_zh": "王军"}
    )
    Profile.objects.update_or_create(
        user=coordinator, defaults={"display_name_zh": "李协调"}
    )
    coordinator.first_name, coordinator.last_name = "Li", "Xie"
    coordinator.save()
    client.force_login(monitor)
    zh = _by_number(
        _xlsx_rows(_get(client, trial, "screening-log", "zh-hans", format="xlsx")),
        ZH_HEADER,
    )
    assert zh["01-001"]["研究者签名"].startswith("王军（Wang Jun） 2026年")
    en = _by_number(
        _xlsx_rows(_get(client, trial, "screening-log", "en", format="xlsx")),
        EN_HEADER,
    )
    assert en["01-001"]["Investigator signature"].startswith("Wang Jun 2026-")
    rows = _xlsx_rows(_get(client, trial, "export", "zh-hans", format="xlsx"))
    records = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert records["01-001"]["筛选人"] == "李协调"
    assert records["01-001"]["签名人"] == "王军"
    rows = _csv_rows(_get(client, trial, "export", "en", format="csv", variant="excel"))
    header = rows[0]
    english = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert english["01-001"]["Screened by"] == "Li Xie"
    assert english["01-001"]["Signed by"] == "Wang Jun"
