"""A large pre-screening upload runs as a background job through the real queue.

The database backend's worker (django-tasks-db's ``db_worker``) runs in this
process for one batch; the RQ test uses RQ on the local Redis. Every test runs
on SQLite and PostgreSQL alike (DATABASE_URL).
"""

import json
import socket
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker

from screening.common import jobs
from screening.ledger.verification import verify_ledger
from screening.models import (
    BackgroundJob,
    PrescreenJobRow,
    PrescreenResult,
    PrescreenUpload,
)
from screening.prescreen import files as bulk
from screening.prescreen import services
from screening.prescreen.tasks import PrescreenJob
from screening.synthetic import candidates

pytestmark = pytest.mark.usefixtures("transactional_audit_db")

ROWS = 11
JOB_SETTINGS = {"PRESCREEN_JOB_ROWS": 5, "JOBS_CHUNK_ROWS": 4}


def content(rows: int = ROWS) -> bytes:
    """Synthetic candidates, with one malformed row (an error row)."""
    data = list(candidates(rows, seed=14, start=timezone.localdate()))
    data[2]["screening_date"] = "2026-02-30"
    return bulk.csv_text(data).encode()


def run_worker() -> None:
    """The database backend's worker, for every queued task, then it stops."""
    Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    ).run()


def upload(client, trial, data: bytes, name="big.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        reverse("screening:prescreen", args=[trial.slug]),
        {"file": SimpleUploadedFile(name, data, content_type="text/csv")},
    )


def stored(upload_pk: int) -> list[tuple]:
    return list(
        PrescreenResult.unscoped.filter(upload_id=upload_pk)
        .order_by("row")
        .values_list("row", "screening_number", "decision", "result", "entered")
    )


def expected_rows(trial, user, data: bytes) -> list[tuple]:
    """What the upload evaluated while the page waits stores for the same file."""
    records = list(bulk.uploaded_candidates(data, fmt="csv"))
    made = services.prescreen_upload_record(
        trial=trial,
        user=user,
        file_name="same.csv",
        file_format="csv",
        content=data,
        records=records,
    )
    return stored(made.pk)


@pytest.fixture
def client(coordinator):
    logged_in = Client()
    logged_in.force_login(coordinator)
    return logged_in


@override_settings(**JOB_SETTINGS)
def test_a_large_file_runs_as_a_job_and_stores_what_a_small_one_would(
    client, trial, coordinator
):
    data = content()
    response = upload(client, trial, data)
    assert response.status_code == HTTPStatus.FOUND
    job = BackgroundJob.unscoped.get()
    assert response["Location"] == reverse("screening:prescreen_job", args=[job.pk])
    assert (job.state, job.done, job.total) == ("QUEUED", 0, ROWS)
    assert job.task_id  # queued in the database backend's table
    assert not PrescreenUpload.unscoped.exists()

    page = client.get(response["Location"])
    assert page.status_code == HTTPStatus.OK
    assert b'id="job-progress"' in page.content
    assert b"prescreen-job.js" in page.content
    status = client.get(reverse("screening:prescreen_job_status", args=[job.pk]))
    assert status.json()["state"] == "QUEUED"

    run_worker()

    job.refresh_from_db()
    assert (job.state, job.done, job.attempts) == ("DONE", ROWS, 1)
    assert bytes(job.content) == b""  # the upload holds the file now
    made = PrescreenUpload.unscoped.get(pk=job.output_id)
    assert (made.row_count, made.error_count, made.user) == (ROWS, 1, coordinator)
    assert bytes(made.content) == data
    assert made.summary["ERROR"] == 1 and sum(made.summary.values()) == ROWS
    assert not PrescreenJobRow.unscoped.exists()
    rows = stored(made.pk)
    assert [r[0] for r in rows] == list(range(1, ROWS + 1))
    assert rows == expected_rows(trial, coordinator, data)
    assert verify_ledger().problem is None

    status = client.get(reverse("screening:prescreen_job_status", args=[job.pk]))
    assert status.json() == {
        "state": "DONE",
        "done": ROWS,
        "total": ROWS,
        "percent": 100,
        "label": f"{ROWS} of {ROWS} rows",
        "url": reverse("screening:prescreen_results", args=[made.pk]),
    }
    page = client.get(reverse("screening:prescreen_job", args=[job.pk]))
    assert page["Location"] == reverse("screening:prescreen_results", args=[made.pk])
    results = client.get(page["Location"] + "?show=ERROR")
    assert results.status_code == HTTPStatus.OK
    assert results.content.count(b"<tr data-row=") == 1


@override_settings(**JOB_SETTINGS)
def test_a_small_file_is_still_evaluated_while_the_page_waits(client, trial):
    response = upload(client, trial, content(5))
    made = PrescreenUpload.unscoped.get()
    assert response["Location"] == reverse(
        "screening:prescreen_results", args=[made.pk]
    )
    assert not BackgroundJob.unscoped.exists()


class WorkerKilled(BaseException):
    """What a kill looks like to the job: not an error it can record."""


def killed_after(monkeypatch, chunks: int):
    """The job's worker is killed as it writes chunk ``chunks + 1``.

    Returns the handler's own ``write_chunk``, to put back.
    """
    written = []
    original = PrescreenJob.write_chunk

    def dies(self, job, items):
        if len(written) == chunks:
            raise WorkerKilled
        written.append(len(items))
        original(self, job, items)

    monkeypatch.setattr(PrescreenJob, "write_chunk", dies)
    return original


@override_settings(**JOB_SETTINGS)
def test_a_job_whose_worker_stopped_goes_on_from_its_last_chunk(
    client, trial, coordinator, monkeypatch
):
    data = content()
    upload(client, trial, data)
    job = BackgroundJob.unscoped.get()
    killed_after(monkeypatch, 1)
    run_worker()
    job.refresh_from_db()
    # The first chunk is committed, the second rolled back; nothing is published.
    assert (job.state, job.done) == ("RUNNING", 4)
    assert PrescreenJobRow.unscoped.filter(job=job).count() == 4
    assert not PrescreenUpload.unscoped.exists()
    # Not stale yet: the page leaves it alone; once stale, the page hands it on.
    assert jobs.job_recover() == []
    monkeypatch.undo()
    BackgroundJob.unscoped.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=10)
    )
    status = client.get(reverse("screening:prescreen_job_status", args=[job.pk]))
    assert status.json()["state"] == "QUEUED"

    run_worker()

    job.refresh_from_db()
    assert (job.state, job.done, job.attempts) == ("DONE", ROWS, 2)
    rows = stored(job.output_id)
    assert [r[0] for r in rows] == list(range(1, ROWS + 1))
    assert rows == expected_rows(trial, coordinator, data)


@override_settings(**JOB_SETTINGS)
def test_a_failed_job_shows_its_error_and_a_retry_finishes_it(
    client, trial, coordinator, monitor
):
    data = content()
    upload(client, trial, data)
    job = BackgroundJob.unscoped.get()
    # The stored file no longer matches its hash: the job refuses to go on.
    BackgroundJob.unscoped.filter(pk=job.pk).update(content=data + b"\n")
    run_worker()
    job.refresh_from_db()
    assert (job.state, job.error_code) == ("FAILED", "file_changed")
    page = client.get(reverse("screening:prescreen_job", args=[job.pk]))
    assert b'id="job-error"' in page.content and b'id="job-retry"' in page.content
    listed = client.get(reverse("screening:prescreen", args=[trial.slug]))
    assert b'id="prescreen-jobs"' in listed.content

    retry = reverse("screening:prescreen_job_retry", args=[job.pk])
    watcher = Client()
    watcher.force_login(monitor)
    assert watcher.post(retry).status_code == HTTPStatus.FORBIDDEN
    BackgroundJob.unscoped.filter(pk=job.pk).update(content=data)
    assert client.post(retry).status_code == HTTPStatus.FOUND
    job.refresh_from_db()
    assert (job.state, job.error_code) == ("QUEUED", "")
    run_worker()
    job.refresh_from_db()
    assert job.state == "DONE"
    assert stored(job.output_id) == expected_rows(trial, coordinator, data)
    # Done: a second retry changes nothing.
    assert client.post(retry).status_code == HTTPStatus.FOUND
    job.refresh_from_db()
    assert job.state == "DONE"


def test_the_results_page_runs_the_same_queries_for_any_number_of_rows(
    client, trial, coordinator
):
    def queries(rows: int) -> int:
        data = content(rows)
        made = services.prescreen_upload_record(
            trial=trial,
            user=coordinator,
            file_name="n.csv",
            file_format="csv",
            content=data,
            records=list(bulk.uploaded_candidates(data, fmt="csv")),
        )
        url = reverse("screening:prescreen_results", args=[made.pk])
        client.get(url)  # the session and criteria caches are warm after this
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url + "?show=INELIGIBLE&page=2")
        assert response.status_code == HTTPStatus.OK
        return len(captured)

    assert queries(120) == queries(360) <= 12


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


RQ_SETTINGS = {
    **JOB_SETTINGS,
    "TASKS": {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend"},
        "rq": {"BACKEND": "django_tasks_rq.RQBackend"},
    },
    "RQ_QUEUES": {"default": {"URL": "redis://127.0.0.1:6379/15"}},
}


@pytest.mark.skipif(
    not _redis_answers(), reason="no Redis server answers at 127.0.0.1:6379"
)
@override_settings(**RQ_SETTINGS)
def test_a_job_runs_through_rq_on_redis(trial, coordinator):
    import django_rq
    from django_tasks_rq.backend import Job
    from rq import SimpleWorker

    queue = django_rq.get_queue("default", job_class=Job)
    queue.empty()
    data = content()
    job = services.prescreen_job_submit(
        trial=trial,
        user=coordinator,
        file_name="rq.csv",
        file_format="csv",
        content=data,
        rows=ROWS,
        backend="rq",
    )
    job.refresh_from_db()
    assert job.state == "QUEUED" and job.task_id
    assert len(queue) == 1
    SimpleWorker([queue], connection=queue.connection, job_class=Job).work(burst=True)
    job.refresh_from_db()
    assert (job.state, job.done) == ("DONE", ROWS)
    assert stored(job.output_id) == expected_rows(trial, coordinator, data)
    queue.empty()


@override_settings(PRESCREEN_JOB_ROWS=5, JOBS_CHUNK_ROWS=1000, JOBS_CHUNK_SECONDS=0)
def test_a_slow_chunk_ends_early_so_the_heartbeat_never_looks_stale(client, trial):
    """With no time allowed per chunk, each row is committed, and reported, alone."""
    from screening.common.jobs import handler_for

    upload(client, trial, content())
    job = BackgroundJob.unscoped.get()
    sizes = [len(items) for _done, items in handler_for(job).chunks(job)]
    assert sizes == [1] * ROWS


@override_settings(PRESCREEN_JOB_ROWS=5, JOBS_CHUNK_ROWS=7, PRESCREEN_JOB_PROCESSES=2)
def test_a_job_evaluates_in_worker_processes_what_one_process_would(
    client, trial, coordinator, monkeypatch
):
    from screening.common import processes
    from screening.prescreen import tasks

    monkeypatch.setattr(tasks, "PROCESS_ROWS", 3)
    used = []

    def counted(function, arguments, count, **options):
        used.append((count, options))
        return processes.in_processes(function, arguments, count, **options)

    monkeypatch.setattr(tasks, "in_processes", counted)
    data = content(40)
    upload(client, trial, data)
    job = BackgroundJob.unscoped.get()
    original = killed_after(monkeypatch, 2)
    run_worker()
    job.refresh_from_db()
    assert (job.state, job.done) == ("RUNNING", 14)
    monkeypatch.setattr(PrescreenJob, "write_chunk", original)
    BackgroundJob.unscoped.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=10)
    )
    assert jobs.job_recover() == [job.pk]
    run_worker()  # goes on from row 15, still in workers

    job.refresh_from_db()
    assert (job.state, job.done, job.attempts) == ("DONE", 40, 2)
    assert used == [(2, {"nice": tasks.WORKER_NICE})] * 2
    rows = stored(job.output_id)
    assert [r[0] for r in rows] == list(range(1, 41))
    assert rows == expected_rows(trial, coordinator, data)


@pytest.mark.parametrize("fmt", ["csv", "json"])
@override_settings(**JOB_SETTINGS)
def test_a_nul_in_a_file_is_stored_as_a_replacement_character(
    client, trial, coordinator, fmt
):
    data = list(candidates(ROWS, seed=14, start=timezone.localdate()))
    data[1]["screening_number"] = "01-\x000002"
    if fmt == "csv":
        raw = bulk.csv_text(data).encode()
        assert b"\x00" in raw
    else:
        raw = json.dumps(data).encode()
        assert b"\\u0000" in raw and b"\x00" not in raw
    assert services.may_hold_nul(raw)
    upload(client, trial, raw, name=f"big.{fmt}")
    run_worker()
    job = BackgroundJob.unscoped.get()
    assert job.state == "DONE", job.error
    rows = stored(job.output_id)
    refused = rows[1]
    assert refused[1] == "01-\ufffd0002" and refused[2] == "ERROR"
    assert refused[3]["screening_number"] == "01-\ufffd0002"
    assert not any("\x00" in json.dumps(row, ensure_ascii=False) for row in rows)
    records = list(bulk.uploaded_candidates(raw, fmt=fmt))
    waited = services.prescreen_upload_record(
        trial=trial,
        user=coordinator,
        file_name=f"same.{fmt}",
        file_format=fmt,
        content=raw,
        records=records,
    )
    assert stored(waited.pk) == rows


@pytest.mark.parametrize(
    ("text", "encoding", "may"),
    [
        ("01-001,ZW\r\n", "utf-8", False),
        ("01-001,张伟,待回报,≤0.05\r\n", "gb18030", False),
        ("01-001,张伟,待回报,≤0.05\r\n", "utf-8-sig", False),
        ("01-001,Z\x00W\r\n", "utf-8", True),
        ("01-001,张\x00伟\r\n", "gb18030", True),
        ('[{"initials": "Z\\u0000W"}]', "utf-8", True),
    ],
)
def test_only_a_file_with_a_nul_byte_or_escape_may_hold_one(text, encoding, may):
    assert services.may_hold_nul(text.encode(encoding)) is may
