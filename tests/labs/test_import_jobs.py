"""A lab message over LAB_JOB_BYTES, uploaded on the page, is imported by a job.

Through the real queue: django-tasks-db's worker runs in this process for one
batch, on SQLite and PostgreSQL alike (DATABASE_URL). The job stores what the
import made while the page waits would, all or nothing, sealed in the ledger.
"""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from screening.assessment import site_zone
from screening.common import jobs
from screening.labs.models import LabImport, LabValue
from screening.labs.reading import read_results
from screening.labs.services import lab_message_read
from screening.labs.tasks import LabImportJob, refusal_error, refusal_problems
from screening.ledger.verification import verify_ledger
from screening.models import BackgroundJob
from tests.labs.conftest import bundle_bytes, fixture_bytes, observation
from tests.screening.test_prescreen_jobs import WorkerKilled, run_worker
from trials.models import Trial

pytestmark = pytest.mark.usefixtures("transactional_audit_db")

# The fixture bundle (four results) is a job, in chunks of two results.
JOB_SETTINGS = {"LAB_JOB_BYTES": 100, "JOBS_CHUNK_ROWS": 2}
VALUE_FIELDS = (
    "position",
    "screening_number",
    "input_key",
    "test",
    "value_text",
    "unit_text",
    "reference_high",
    "collected_at",
    "entry",
    "normalised",
)


@pytest.fixture
def client(coordinator):
    logged_in = Client()
    logged_in.force_login(coordinator)
    return logged_in


def post(client, trial, data: bytes, name="bundle.json", language="en"):
    return client.post(
        reverse("screening:labs_import", args=[trial.slug]),
        {"file": SimpleUploadedFile(name, data)},
        HTTP_ACCEPT_LANGUAGE=language,
    )


def stored_values(record) -> list[tuple]:
    return list(
        LabValue.unscoped.filter(lab_import=record)
        .order_by("position")
        .values_list(*VALUE_FIELDS)
    )


def expected_values(data: bytes) -> list[tuple]:
    """The values an import made while the page waits reads from the message."""
    found, problems = read_results(
        lab_message_read(data).results, tz=site_zone(), now=timezone.now()
    )
    assert problems == []
    return [
        (
            v.position,
            v.screening_number,
            v.input.key,
            v.test,
            v.value_text,
            v.unit_text,
            v.reference_high,
            v.collected_at,
            v.entry,
            v.normalised,
        )
        for v in found
    ]


@override_settings(**JOB_SETTINGS)
def test_a_large_message_is_imported_by_a_job_as_the_page_would(
    client, trial, coordinator
):
    data = fixture_bytes("bundle.json")
    response = post(client, trial, data)
    assert response.status_code == HTTPStatus.FOUND
    job = BackgroundJob.unscoped.get()
    assert response["Location"] == reverse("screening:labs_job", args=[job.pk])
    assert (job.kind, job.state, job.done, job.total) == ("LAB_IMPORT", "QUEUED", 0, 4)
    assert job.file_format == "FHIR" and job.task_id
    assert not LabImport.objects.exists()

    page = client.get(response["Location"])
    assert page.status_code == HTTPStatus.OK
    assert b'id="job-progress"' in page.content
    assert b"prescreen-job.js" in page.content
    status_url = reverse("screening:labs_job_status", args=[job.pk])
    assert client.get(status_url).json()["state"] == "QUEUED"
    listed = client.get(reverse("screening:labs_import", args=[trial.slug]))
    assert b'id="lab-jobs"' in listed.content

    run_worker()

    job.refresh_from_db()
    assert (job.state, job.done, job.attempts) == ("DONE", 4, 1)
    assert bytes(job.content) == b""  # the import holds the message now
    made = LabImport.objects.get(pk=job.output_id)
    assert (made.trial, made.imported_by, made.value_count) == (trial, coordinator, 4)
    assert (made.file_format, made.channel, made.encoding) == ("FHIR", "PAGE", "utf-8")
    assert bytes(made.content) == data and made.sha256 == job.file_sha256
    assert verify_ledger().problem is None
    assert client.get(status_url).json() == {
        "state": "DONE",
        "done": 4,
        "total": 4,
        "percent": 100,
        "label": "4 of 4 results checked",
        "url": reverse("screening:labs_job", args=[job.pk]),
    }
    done = client.get(reverse("screening:labs_job", args=[job.pk]))
    assert done["Location"] == reverse("screening:labs_inbox", args=[trial.slug])
    inbox = client.get(done["Location"])
    assert inbox.content.count(b'data-state="PENDING"') == 4

    assert stored_values(made) == expected_values(data)


@override_settings(**JOB_SETTINGS)
def test_a_gb18030_export_is_imported_by_a_job(client, trial):
    data = fixture_bytes("lis-gb18030.csv")
    post(client, trial, data, name="lis.csv")
    job = BackgroundJob.unscoped.get()
    assert job.file_format == "CSV" and job.params["encoding"] == "gb18030"
    run_worker()
    job.refresh_from_db()
    assert job.state == "DONE"
    made = LabImport.objects.get(pk=job.output_id)
    assert (made.file_format, made.encoding) == ("CSV", "gb18030")
    assert stored_values(made) == expected_values(data)


@override_settings(LAB_JOB_BYTES=10 * 2**20)
def test_a_message_under_the_threshold_is_imported_while_the_page_waits(client, trial):
    response = post(client, trial, fixture_bytes("bundle.json"))
    assert response["Location"] == reverse("screening:labs_inbox", args=[trial.slug])
    assert LabImport.objects.get().value_count == 4
    assert not BackgroundJob.unscoped.exists()


def _wrong(data):
    observation(data, 1)["valueQuantity"]["code"] = "mmol/L"
    observation(data, 3)["subject"]["identifier"]["value"] = "X1"


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ["entry[1] (inr-1), unit: unknown unit", "entry[3] (il6-1), patient"]),
        ("zh-hans", ["entry[1] (inr-1), 单位", "entry[3] (il6-1), 患者"]),
    ],
)
@override_settings(**JOB_SETTINGS)
def test_a_refused_message_fails_its_job_naming_each_entry_and_field(
    client, trial, language, words
):
    post(client, trial, bundle_bytes(_wrong))
    job = BackgroundJob.unscoped.get()
    run_worker()
    job.refresh_from_db()
    assert (job.state, job.error_code, job.done) == ("FAILED", "refused", 4)
    assert not LabImport.objects.exists() and not LabValue.unscoped.exists()
    page = client.get(
        reverse("screening:labs_job", args=[job.pk]), HTTP_ACCEPT_LANGUAGE=language
    )
    problems = [str(p) for p in page.context["problems"]]
    assert len(problems) == 2
    for word, problem in zip(words, problems, strict=True):
        assert problem.startswith(word)
    assert b'id="lab-problems"' in page.content and b'id="job-retry"' in page.content
    listed = client.get(reverse("screening:labs_import", args=[trial.slug]))
    assert b'id="lab-jobs"' in listed.content


@override_settings(**JOB_SETTINGS)
def test_a_refusal_found_when_storing_can_be_retried_once_it_is_resolved(
    client, trial, coordinator, monitor
):
    # Closed: 01-001, not yet screened, cannot be a new candidate (found when
    # the values are stored, by the same service as an import while one waits).
    Trial.objects.filter(pk=trial.pk).update(status=Trial.Status.CLOSED)
    post(client, trial, fixture_bytes("bundle.json"))
    job = BackgroundJob.unscoped.get()
    run_worker()
    job.refresh_from_db()
    assert (job.state, job.error_code) == ("FAILED", "refused")
    codes = {p["code"] for p in _problems(job)}
    assert codes == {"patient_unknown"}
    assert not LabImport.objects.exists()

    retry = reverse("screening:labs_job_retry", args=[job.pk])
    watcher = Client()
    watcher.force_login(monitor)
    assert watcher.post(retry).status_code == HTTPStatus.FORBIDDEN
    Trial.objects.filter(pk=trial.pk).update(status=Trial.Status.RECRUITING)
    assert client.post(retry).status_code == HTTPStatus.FOUND
    job.refresh_from_db()
    assert (job.state, job.error_code, job.error) == ("QUEUED", "", "")
    run_worker()
    job.refresh_from_db()
    assert (job.state, job.attempts) == ("DONE", 2)
    assert LabImport.objects.get(pk=job.output_id).value_count == 4
    assert verify_ledger().problem is None


def _problems(job):
    return refusal_problems(job)[0]


@override_settings(**JOB_SETTINGS)
def test_a_job_whose_worker_stopped_is_finished_by_the_next_never_half_written(
    client, trial, monkeypatch
):
    data = fixture_bytes("bundle.json")
    post(client, trial, data)
    job = BackgroundJob.unscoped.get()
    reported = []

    def dies_on_the_second_chunk(self, job, items):
        if reported:
            raise WorkerKilled
        reported.append(job.pk)

    monkeypatch.setattr(LabImportJob, "write_chunk", dies_on_the_second_chunk)
    run_worker()
    job.refresh_from_db()
    # The first chunk's progress is committed; nothing is imported.
    assert (job.state, job.done) == ("RUNNING", 2)
    assert not LabImport.objects.exists() and not LabValue.unscoped.exists()
    assert jobs.job_recover() == []  # not stale yet
    monkeypatch.undo()
    BackgroundJob.unscoped.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=10)
    )
    status = client.get(reverse("screening:labs_job_status", args=[job.pk]))
    assert status.json()["state"] == "QUEUED"

    run_worker()

    job.refresh_from_db()
    assert (job.state, job.done, job.attempts) == ("DONE", 4, 2)
    made = LabImport.objects.get(pk=job.output_id)
    assert stored_values(made) == expected_values(data)
    assert verify_ledger().problem is None


@override_settings(**JOB_SETTINGS)
def test_the_same_result_twice_in_different_chunks_is_refused(client, trial):
    def twice(data):
        data["entry"][3] = data["entry"][0]

    post(client, trial, bundle_bytes(twice))
    job = BackgroundJob.unscoped.get()
    run_worker()
    job.refresh_from_db()
    assert [(p["where"], p["code"]) for p in _problems(job)] == [
        ("entry[3] (tbil-1)", "duplicate")
    ]


@override_settings(**JOB_SETTINGS)
def test_a_message_already_imported_or_not_fhir_is_refused_at_once(client, trial):
    data = fixture_bytes("bundle.json")
    post(client, trial, data)
    run_worker()
    again = post(client, trial, data)
    assert again.status_code == HTTPStatus.OK
    assert "already" in again.context["problems"][0]
    broken = post(client, trial, b'{"resourceType": "Patient"}' + b" " * 200)
    assert broken.status_code == HTTPStatus.OK and broken.context["problems"]
    assert BackgroundJob.unscoped.count() == 1


def test_a_long_refusal_keeps_as_many_problems_as_fit_and_their_count():
    problem = {"where": "entry[1]", "part": "unit", "code": "unit_unknown"}
    text = refusal_error([{**problem, "params": {"n": str(i)}} for i in range(500)])
    assert len(text) <= jobs.ERROR_TEXT_LIMIT
    job = BackgroundJob(error_code="refused", error=text)
    kept, count = refusal_problems(job)
    assert count == 500 and 0 < len(kept) < 500
