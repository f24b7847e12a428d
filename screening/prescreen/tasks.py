"""A large pre-screening upload as a background job (screening/common/jobs.py).

The worker reads the job's file (its SHA-256 checked first), evaluates it from
the row after the last committed chunk under the criteria and date of the
upload, and stages each chunk's rows (``PrescreenJobRow``). When the last row is
staged, one transaction writes the ``PrescreenUpload`` (sealed in the ledger
with its row count, as an upload evaluated while the page waited), copies the
staged rows into its ``PrescreenResult`` rows by one INSERT ... SELECT, and
deletes them: the upload exists with all its rows or not at all.
"""

import hashlib
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from itertools import islice

from django.conf import settings
from django.db import connection
from django.db.models import Count

from accounts.scope import PRESCREEN, scope_for
from screening.assessment import assess_rows
from screening.common.bulk import rows_insert
from screening.common.jobs import JobError
from screening.common.processes import (
    fewer_collections,
    in_processes,
    numbered_batches,
)
from screening.criteria import criteria_load
from screening.models import (
    BackgroundJob,
    PrescreenJobRow,
    PrescreenResult,
    PrescreenUpload,
)
from screening.prescreen import files as bulk
from screening.prescreen.services import may_hold_nul, result_fields
from trials.models import CriteriaVersion

COPIED = ("row", "screening_number", "decision", "result", "entered")


class PrescreenJob:
    """The handler of ``BackgroundJob.Kind.PRESCREEN`` jobs."""

    permission = PRESCREEN

    def criteria(self, job: BackgroundJob):
        """The criteria the file was submitted under; JobError if they changed."""
        version_id = job.params.get("criteria_version_id")
        version = (
            CriteriaVersion.objects.get(pk=version_id)
            if version_id is not None
            else None
        )
        criteria = criteria_load(trial=job.trial, version=version)
        if not criteria.specs or criteria.snapshot != job.params["criteria_snapshot"]:
            raise JobError(
                "criteria_changed", "the criteria of the upload cannot be read back"
            )
        return criteria

    def chunks(self, job: BackgroundJob) -> Iterator[tuple[int, list]]:
        content = bytes(job.content)
        if hashlib.sha256(content).hexdigest() != job.file_sha256:
            raise JobError("file_changed", "the stored file's SHA-256 does not match")
        start = job.done
        criteria = self.criteria(job)
        records = islice(
            bulk.uploaded_candidates(content, fmt=job.file_format), start, None
        )
        _RUNS[job.pk] = {
            "criteria": criteria,
            "today": date.fromisoformat(job.params["today"]),
            "nul_free": not may_hold_nul(content),
        }
        batches = (
            (job.pk, first_row, batch)
            for first_row, batch in numbered_batches(
                records, PROCESS_ROWS, first_row=start + 1
            )
        )
        processes = settings.PRESCREEN_JOB_PROCESSES
        if job.total - start <= PROCESS_ROWS:
            processes = 1  # not worth starting workers for
        size = settings.JOBS_CHUNK_ROWS
        # A chunk also ends after JOBS_CHUNK_SECONDS, so that the job's heartbeat
        # (written with each chunk) never looks stale on a slow, busy machine.
        seconds = settings.JOBS_CHUNK_SECONDS
        done, chunk, started = start, [], time.monotonic()
        try:
            with fewer_collections():
                evaluations = in_processes(
                    _evaluated, batches, processes, nice=WORKER_NICE
                )
                for evaluated in evaluations:
                    for fields in evaluated:
                        chunk.append(PrescreenJobRow(job_id=job.pk, **fields))
                        done += 1
                        if len(chunk) == size or time.monotonic() - started >= seconds:
                            yield done, chunk
                            chunk, started = [], time.monotonic()
                if chunk:
                    yield done, chunk
        finally:
            _RUNS.pop(job.pk, None)

    def write_chunk(self, job: BackgroundJob, items: list) -> None:
        # COPY on PostgreSQL: bulk_create's array parameters were quoted value by
        # value, each row's result being about 6 KB of JSON.
        rows_insert(PrescreenJobRow, items)

    def publish(self, job: BackgroundJob) -> int:
        if not scope_for(job.user).can(PRESCREEN, job.trial_id, job.site_id):
            raise JobError(
                "not_permitted", "the uploader may no longer pre-screen in this trial"
            )
        staged = PrescreenJobRow.objects.system().filter(job_id=job.pk)
        summary = dict(
            staged.order_by()
            .values("decision")
            .annotate(n=Count("pk"))
            .values_list("decision", "n")
        )
        if sum(summary.values()) != job.total:
            raise JobError(
                "incomplete",
                f"{sum(summary.values())} rows evaluated, the file has {job.total}",
            )
        content = bytes(
            BackgroundJob.objects.system()
            .filter(pk=job.pk)
            .values_list("content", flat=True)
            .get()
        )
        upload = PrescreenUpload(
            trial_id=job.trial_id,
            site_id=job.site_id,
            user_id=job.user_id,
            uploaded_at=job.created_at,
            file_name=job.file_name,
            file_format=job.file_format,
            content=content,
            file_sha256=job.file_sha256,
            row_count=job.total,
            error_count=summary.get(PrescreenResult.ERROR, 0),
            summary=summary,
            criteria_snapshot=job.params["criteria_snapshot"],
            criteria_version_id=job.params.get("criteria_version_id"),
        )
        upload.full_clean()
        # Sealed with the rows copied next (screening/ledger/content.py).
        upload._ledger_result_rows = job.total
        upload.save(force_insert=True)
        _copy_staged(job_id=job.pk, upload_id=upload.pk)
        staged.delete()
        return upload.pk


# Rows a worker process evaluates at a time, and how much lower its priority
# is than that of the job's own process (and of the pages being served).
PROCESS_ROWS = 500
WORKER_NICE = 10
# What each running job's rows are evaluated with, by job id: set before the
# workers are forked, so they have it without its being sent.
_RUNS: dict[int, dict] = {}


def _evaluated(job_pk: int, first_row: int, records: list) -> list[dict]:
    """The stored fields of consecutive rows, the first of which is ``first_row``."""
    run = _RUNS[job_pk]
    offset = first_row - 1
    evaluated = []
    for row in assess_rows(records, criteria=run["criteria"], today=run["today"]):
        row = replace(row, row=row.row + offset)
        entry = bulk.result_entry(row, details=True)
        evaluated.append(result_fields(row, entry, nul_free=run["nul_free"]))
    return evaluated


def _copy_staged(*, job_id: int, upload_id: int) -> None:
    """The job's staged rows become the upload's result rows, in the database."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in COPIED)
    result_table = quote(PrescreenResult._meta.db_table)
    staged_table = quote(PrescreenJobRow._meta.db_table)
    sql = (
        f"INSERT INTO {result_table} ({quote('upload_id')}, {columns}) "  # noqa: S608
        f"SELECT %s, {columns} FROM {staged_table} "
        f"WHERE {quote('job_id')} = %s ORDER BY {quote('row')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [upload_id, job_id])
