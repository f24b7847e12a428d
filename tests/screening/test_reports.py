"""The funnel's counts and the screening log export."""

import csv
import io
from datetime import date
from decimal import Decimal
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.scope import Scope
from screening.models import PrescreenUpload, ScreeningLogExport
from screening.prescreen.files import csv_text
from screening.reports.selectors import screening_funnel
from tests.factories import eligible_candidate


@pytest.mark.criterion("I1", "E1", "E4")
def test_funnel_counts_latest_records_and_every_blocking_reason(record, trial):
    everything_scope = Scope(user_id=None, everything=True)
    record(eligible_candidate(screening_number="01-001"))
    # Two reasons at once: age (I1) and MELD (E4).
    record(
        eligible_candidate(
            screening_number="01-002",
            date_of_birth="2010-01-01",
            tbil={"value": "600", "unit": "umol/L"},
            inr="2.5",
            creatinine={"value": "300", "unit": "umol/L"},
        )
    )
    wrong = record(
        eligible_candidate(screening_number="01-003", inr="3.5", pta_percent="10")
    )
    record(
        eligible_candidate(screening_number="01-003"),
        supersedes=wrong,
        supersede_reason="INR was mistyped",
    )
    record(eligible_candidate(screening_number="01-004", he_grade=None))
    record(
        eligible_candidate(
            screening_number="01-005",
            screening_date="2025-01-10",
            severe_active_bleeding=True,
        )
    )

    funnel = screening_funnel(
        scope=everything_scope, trial=trial, date_from=date(2026, 1, 1), date_to=None
    )
    assert (funnel.screened, funnel.eligible, funnel.ineligible, funnel.incomplete) == (
        4,
        2,
        1,
        1,
    )
    assert {code: n for code, _kind, n in funnel.reasons} == {"I1": 1, "E4": 1}

    everything = screening_funnel(
        scope=everything_scope, trial=trial, date_from=None, date_to=None
    )
    assert everything.screened == 5
    assert {code: n for code, _kind, n in everything.reasons} == {
        "I1": 1,
        "E4": 1,
        "E1": 1,
    }


@pytest.mark.criterion("E1")
def test_export_streams_the_filtered_log_and_is_logged(
    client, monitor, coordinator, record, trial
):
    record(eligible_candidate(screening_number="01-001"))
    record(eligible_candidate(screening_number="01-002", severe_active_bleeding=True))
    client.force_login(monitor)
    response = client.get(
        f"/trials/{trial.slug}/log/export/",
        {"outcome": "INELIGIBLE", "variant": "excel"},
    )
    assert response.status_code == HTTPStatus.OK
    assert response.streaming
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(body.removeprefix("\ufeff"))))
    # Headers in the page's language (English here); the decision that counts
    # with the engine's beside it.
    assert [r["Screening number"] for r in rows] == ["01-002"]
    assert rows[0]["Blocking criteria"].startswith("E1 ")
    assert rows[0]["Decision that counts"] == rows[0]["Engine's decision"]
    assert rows[0]["Decision that counts"] == "Ineligible"
    assert rows[0]["Screened by"] == coordinator.get_full_name()
    logged = ScreeningLogExport.objects.get()
    assert (logged.user, logged.export_format, logged.filters) == (
        monitor,
        "excel-csv",
        {"outcome": "INELIGIBLE", "sort": "-recorded", "language": "en"},
    )


def test_export_has_type_and_cause_of_liver_failure_and_names_in_its_language(
    client, monitor, coordinator, record, trial
):
    from django.utils import translation

    from accounts.models import Profile

    Profile.objects.update_or_create(
        user=coordinator, defaults={"display_name_zh": "李协调"}
    )
    record(
        eligible_candidate(
            screening_number="01-001",
            liver_failure_type="SALF",
            liver_failure_cause="DILI",
        )
    )
    client.force_login(monitor)

    def rows(language):
        response = client.get(
            f"/trials/{trial.slug}/log/export/", HTTP_ACCEPT_LANGUAGE=language
        )
        assert response.status_code == HTTPStatus.OK
        body = b"".join(response.streaming_content).decode("utf-8")
        return list(csv.DictReader(io.StringIO(body.removeprefix("\ufeff"))))

    [zh] = rows("zh-hans")
    with translation.override("zh-hans"):
        salf = translation.gettext("Subacute liver failure (SALF)")
        dili = translation.gettext("Drug-induced liver injury (DILI)")
    assert "亚急性" in salf and "药物" in dili
    assert (zh["肝衰竭类型"], zh["肝衰竭病因"]) == (salf, dili)
    assert zh["筛选人"] == "李协调"
    [en] = rows("en")
    assert en["Type of liver failure"] == "Subacute liver failure (SALF)"
    assert en["Cause of liver failure"] == "Drug-induced liver injury (DILI)"
    assert en["Screened by"] == coordinator.get_full_name()


# --- Audit logs in the app --------------------------------------------------------


@pytest.fixture
def monitor_client(client, monitor):
    client.force_login(monitor)
    return client


def test_a_monitor_reads_the_criteria_history_with_who_and_why(monitor_client, trial):
    from trials.services import version_draft_create

    draft = version_draft_create(trial=trial, user=None, label="Amendment 2")
    condition = draft.criteria.get(code="I6").conditions.get(variable="crp_mg_l")
    condition.value_low = Decimal("5")
    condition._change_reason = "Amendment 2: CRP above 5 mg/L"
    condition.save()
    page = monitor_client.get(f"/trials/{trial.slug}/audit/criteria/")
    assert page.status_code == HTTPStatus.OK
    newest = page.context["page"][0]
    assert newest[3] == "I6"
    assert newest[5] == "Amendment 2: CRP above 5 mg/L"


def test_a_monitor_reads_and_downloads_the_export_and_upload_logs(
    monitor_client, client, trial, coordinator
):
    other = Client()
    other.force_login(coordinator)
    content = csv_text([eligible_candidate()]).encode()
    other.post(
        f"/trials/{trial.slug}/prescreen/",
        {"file": SimpleUploadedFile("lab.csv", content, "text/csv")},
    )
    upload = PrescreenUpload.unscoped.get()
    other.get(f"/prescreen/{upload.pk}/results.csv?variant=excel")
    uploads = monitor_client.get(f"/trials/{trial.slug}/audit/uploads/")
    assert [row[2] for row in uploads.context["page"]] == ["lab.csv"]
    exports = monitor_client.get(f"/trials/{trial.slug}/audit/exports/")
    formats = [row[2] for row in exports.context["page"]]
    assert formats == ["prescreen-excel-csv"]
    download = monitor_client.get(f"/trials/{trial.slug}/audit/uploads/?format=csv")
    text = b"".join(download.streaming_content).decode()
    assert "lab.csv" in text and upload.file_sha256 in text
    logged = ScreeningLogExport.objects.order_by("id").values_list(
        "export_format", flat=True
    )
    assert list(logged) == ["prescreen-excel-csv", "audit-uploads-csv"]


def test_an_unknown_audit_log_is_not_found(monitor_client, trial):
    assert monitor_client.get(f"/trials/{trial.slug}/audit/nothing/").status_code == (
        HTTPStatus.NOT_FOUND
    )
