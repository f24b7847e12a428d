"""A criteria version's label in the page's language, wherever a version is named.

English pages show ``label``, Chinese pages ``label_zh_hans`` (or ``label`` when
a version has none): the record, the log, the candidate's page, the versions
pages, the impact report, the exports and the printed record all go through
``CriteriaVersion.localized_label``.
"""

import csv
import io
import json
from http import HTTPStatus

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from accounts import roles
from accounts.scope import ADMINISTER, AUDIT, trial_for
from screening.versions.services import impact_report_record
from tests.factories import UserFactory, eligible_candidate
from trials import files
from trials.models import CriteriaVersion
from trials.services import trial_file_load, version_draft_create

pytestmark = pytest.mark.django_db

EN = "Protocol as registered (v1)"
ZH = "注册时的方案（v1）"


@pytest.fixture(autouse=True)
def _no_language_left_behind():
    yield
    translation.deactivate()


@pytest.fixture
def decided(record):
    return record(eligible_candidate(screening_number="01-001"))


def _get(client, url, language, **params):
    response = client.get(url, params, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == HTTPStatus.OK
    return response


def _page(client, url, language) -> str:
    return _get(client, url, language).content.decode()


# --- The helper ----------------------------------------------------------------


def test_the_label_follows_the_active_language_and_falls_back_to_english():
    version = CriteriaVersion(number=2, label="Protocol Amendment 2")
    version.label_zh_hans = "方案第2次修订"
    with translation.override("en"):
        assert version.localized_label == "Protocol Amendment 2"
        assert str(version) == "v2 Protocol Amendment 2"
    with translation.override("zh-hans"):
        assert version.localized_label == "方案第2次修订"
        assert str(version) == "v2 方案第2次修订"
    version.label_zh_hans = ""
    with translation.override("zh-hans"):
        assert version.localized_label == "Protocol Amendment 2"


# --- Trial files ---------------------------------------------------------------


def test_the_shipped_files_carry_the_chinese_labels():
    aclf = trial_file_load(path=files.SHIPPED["aclf-pmc6247955"]).trial
    nct = trial_file_load(path=files.DEFAULT_FILE).trial
    assert list(
        aclf.versions.order_by("number").values_list("label", "label_zh_hans")
    ) == [
        ("Protocol (before Amendment 2)", "方案（第2次修订前）"),
        ("Protocol Amendment 2", "方案第2次修订"),
    ]
    assert list(nct.versions.values_list("label", "label_zh_hans")) == [(EN, ZH)]


def test_a_file_without_a_chinese_label_loads_with_none(tmp_path):
    data = json.loads(files.DEFAULT_FILE.read_text(encoding="utf-8"))
    del data["versions"][0]["label_zh_hans"]
    path = tmp_path / "trial.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    trial = trial_file_load(path=path).trial
    assert trial.versions.get().label_zh_hans == ""


def test_a_bad_chinese_label_is_refused_with_its_path(tmp_path):
    data = json.loads(files.DEFAULT_FILE.read_text(encoding="utf-8"))
    data["versions"][0]["label_zh_hans"] = 7
    path = tmp_path / "trial.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(files.TrialFileError) as caught:
        trial_file_load(path=path)
    assert [p for p, _m in caught.value.problems] == ["versions[0].label_zh_hans"]


# --- Pages of a record ---------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "shown", "hidden"), [("en", EN, ZH), ("zh-hans", ZH, EN)]
)
def test_the_record_page_names_the_version_in_the_page_language(
    client, coordinator, decided, language, shown, hidden
):
    client.force_login(coordinator)
    page = _get(client, reverse("screening:decision", args=[decided.pk]), language)
    html = page.content.decode()
    assert f'<span class="typed-text">{shown}</span>' in html
    assert hidden not in html


@pytest.mark.parametrize(
    ("language", "shown", "hidden"), [("en", EN, ZH), ("zh-hans", ZH, EN)]
)
def test_the_log_and_the_candidate_page_name_the_version(
    client, coordinator, trial, decided, language, shown, hidden
):
    client.force_login(coordinator)
    log = _page(client, reverse("screening:log", args=[trial.slug]), language)
    candidate = _page(
        client, reverse("screening:candidate", args=[decided.pk]), language
    )
    with translation.override(language):
        heading = translation.gettext("Criteria version")
    assert f'title="{heading}: {shown}">v1</span>' in log
    assert f'title="{heading}: {shown}">v1</span>' in candidate
    assert hidden not in log and hidden not in candidate


def test_the_candidate_page_reads_the_versions_with_the_chain(
    client, coordinator, record, django_assert_max_num_queries
):
    first = record(eligible_candidate(screening_number="01-009"))
    client.force_login(coordinator)
    url = reverse("screening:candidate", args=[first.pk])
    client.get(url)
    with django_assert_max_num_queries(12) as one:
        client.get(url)
    for number in range(3):
        record(eligible_candidate(screening_number=f"01-01{number}"))
    with django_assert_max_num_queries(len(one.captured_queries)):
        client.get(url)


@pytest.mark.parametrize(
    ("language", "route", "column"),
    [
        ("en", "screening-log", "Criteria version"),
        ("zh-hans", "screening-log", "标准版本"),
        ("en", "export", "Criteria version"),
        ("zh-hans", "export", "标准版本"),
    ],
)
def test_the_exports_name_the_version_in_the_page_language(
    client, monitor, trial, decided, language, route, column
):
    client.force_login(monitor)
    response = client.get(
        f"/trials/{trial.slug}/log/{route}/",
        {"format": "csv"},
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == HTTPStatus.OK
    body = b"".join(response.streaming_content).decode("utf-8").removeprefix("\ufeff")
    header, *rows = list(csv.reader(io.StringIO(body)))
    (row,) = rows
    expected = EN if language == "en" else ZH
    assert dict(zip(header, row, strict=True))[column] == f"v1 {expected}"


# --- The versions pages and the impact report ----------------------------------


@pytest.fixture
def admin_of_trial(trial):
    return UserFactory(
        username="amender",
        first_name="Li",
        last_name="Na",
        role=roles.TRIAL_ADMIN,
        is_staff=True,
    )


def test_a_draft_is_created_with_both_labels_from_the_page(
    client, trial, admin_of_trial
):
    client.force_login(admin_of_trial)
    response = client.post(
        reverse("screening:version_draft", args=[trial.slug]),
        {"label": "Protocol v2.0 (amendment 1)", "label_zh_hans": " 方案第1次修订 "},
    )
    assert response.status_code == HTTPStatus.FOUND
    draft = trial.versions.get(number=2)
    assert (draft.label, draft.label_zh_hans) == (
        "Protocol v2.0 (amendment 1)",
        "方案第1次修订",
    )
    # The Chinese label may be left empty: Chinese pages then show the English.
    client.post(
        reverse("screening:version_draft", args=[trial.slug]),
        {"label": "Protocol v3.0", "label_zh_hans": ""},
    )
    assert trial.versions.get(number=3).label_zh_hans == ""


@pytest.mark.parametrize(
    ("language", "shown", "hidden"), [("en", EN, ZH), ("zh-hans", ZH, EN)]
)
def test_the_versions_pages_name_each_version_in_the_page_language(
    client, trial, admin_of_trial, language, shown, hidden
):
    draft = version_draft_create(
        trial=trial,
        user=admin_of_trial,
        label="Protocol v2.0 (amendment 1)",
        label_zh_hans="方案第1次修订",
    )
    impact_report_record(version=draft, user=admin_of_trial)
    client.force_login(admin_of_trial)
    versions = _page(client, reverse("screening:versions", args=[trial.slug]), language)
    assert f'<span class="typed-text">{shown}</span>' in versions
    assert hidden not in versions
    with translation.override(language):
        in_force = translation.gettext("In force: v%(number)s (%(label)s).") % {
            "number": 1,
            "label": shown,
        }
    assert in_force in versions
    draft_label = "Protocol v2.0 (amendment 1)" if language == "en" else "方案第1次修订"
    for route in ("screening:version_impact", "screening:version_activate"):
        page = _page(client, reverse(route, args=[trial.slug, 2]), language)
        assert f'<span class="typed-text">{draft_label}</span>' in page


@pytest.mark.parametrize(
    ("language", "candidates", "expected"),
    [
        (
            "en",
            1,
            "1 candidate re-evaluated under v2 (now v1): 0 decisions would change.",
        ),
        (
            "en",
            2,
            "2 candidates re-evaluated under v2 (now v1): 0 decisions would change.",
        ),
        (
            "zh-hans",
            1,
            "已按 v2（当前为 v1）重新评估 1 名候选受试者：0 项判定结果将会改变。",
        ),
    ],
)
def test_the_impact_summary_counts_in_the_page_language(
    client, trial, record, admin_of_trial, language, candidates, expected
):
    for n in range(candidates):
        record(eligible_candidate(screening_number=f"01-00{n + 1}"))
    draft = version_draft_create(trial=trial, user=admin_of_trial, label="Amendment")
    impact_report_record(version=draft, user=admin_of_trial)
    client.force_login(admin_of_trial)
    page = _get(
        client, reverse("screening:version_impact", args=[trial.slug, 2]), language
    )
    assert page.context["summary"] == expected
    assert f'<p id="impact-summary">{expected}</p>' in page.content.decode()


def test_one_flip_is_one_decision_in_english(client, trial, record, admin_of_trial):
    # IL-6 and TNF-alpha not elevated: CRP 8 mg/L decides I6, over 5, not 10.
    markers = {
        "il6": {"value": "5", "unit": "pg/mL"},
        "tnf_alpha": {"value": "6", "unit": "pg/mL"},
        "crp": {"value": "8", "unit": "mg/L"},
        "pct": {"value": "0.02", "unit": "ng/mL"},
    }
    record(eligible_candidate(screening_number="01-001", **markers))
    draft = version_draft_create(trial=trial, user=admin_of_trial, label="CRP 5")
    crp = draft.criteria.get(code="I6").conditions.get(variable="crp_mg_l")
    crp.value_low = 5
    crp._change_reason = "Amendment: CRP above 5 mg/L"
    crp.save()
    report = impact_report_record(version=draft, user=admin_of_trial)
    assert report.flip_count == 1
    client.force_login(admin_of_trial)
    page = _get(client, reverse("screening:version_impact", args=[trial.slug, 2]), "en")
    assert page.context["summary"].endswith(": 1 decision would change.")


# --- The criteria history names the version of each row --------------------------


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_criteria_history_names_each_rows_version(
    client, monitor, trial, admin_of_trial, language
):
    draft = version_draft_create(
        trial=trial, user=admin_of_trial, label="Amendment 2", label_zh_hans="第2次修订"
    )
    crp = draft.criteria.get(code="I6").conditions.get(variable="crp_mg_l")
    crp.value_low = 5
    crp._change_reason = "Amendment 2: CRP above 5 mg/L"
    crp.save()
    client.force_login(monitor)
    page = _get(client, f"/trials/{trial.slug}/audit/criteria/", language)
    rows = list(page.context["page"])
    newest = rows[0]
    assert (newest[3], newest[5]) == ("I6", "Amendment 2: CRP above 5 mg/L")
    draft_name = "v2 Amendment 2" if language == "en" else "v2 第2次修订"
    first_name = f"v1 {EN}" if language == "en" else f"v1 {ZH}"
    assert newest[6] == draft_name
    assert {row[6] for row in rows} == {draft_name, first_name}
    # The CSV download carries the column too.
    download = client.get(
        f"/trials/{trial.slug}/audit/criteria/",
        {"format": "csv"},
        HTTP_ACCEPT_LANGUAGE=language,
    )
    body = b"".join(download.streaming_content).decode("utf-8").removeprefix("\ufeff")
    header, first, *_rest = list(csv.reader(io.StringIO(body)))
    with translation.override(language):
        assert header[-1] == translation.gettext("Criteria version")
    assert first[-1] == draft_name


# --- trial_for: any of several permissions ---------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (roles.MONITOR, HTTPStatus.OK),
        (roles.TRIAL_ADMIN, HTTPStatus.OK),
        (roles.COORDINATOR, HTTPStatus.FORBIDDEN),
        (None, HTTPStatus.NOT_FOUND),
    ],
)
def test_trial_for_accepts_any_of_several_permissions(trial, role, status):
    user = UserFactory(username="someone", role=role)
    request = RequestFactory().get("/")
    request.user = user
    try:
        assert trial_for(request, trial.slug, AUDIT, ADMINISTER) == trial
    except PermissionDenied:
        outcome = HTTPStatus.FORBIDDEN
    except Http404:
        outcome = HTTPStatus.NOT_FOUND
    else:
        outcome = HTTPStatus.OK
    assert outcome == status
