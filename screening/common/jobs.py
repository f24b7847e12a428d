"""Background jobs: run by a worker in chunks, resumable, written once at the end.

A job is a ``BackgroundJob`` row; its kind names a handler in ``HANDLERS`` (a
dotted path, imported when a job of that kind runs). A handler has:

- ``permission``: the permission (accounts/scope.py) that submits and retries it;
- ``chunks(job)``: yields ``(done, items)`` from ``job.done`` on, at most
  ``settings.JOBS_CHUNK_ROWS`` rows per chunk, ``done`` being the rows done once
  the chunk is stored; the work happens here, outside any transaction;
- ``write_chunk(job, items)``: stores one chunk's output (staged, not yet a
  record), in the transaction that moves ``job.done`` on;
- ``publish(job) -> int``: makes the record from the staged output, in the
  transaction that marks the job done, and returns its id (``output_id``);
  raises ``JobError`` when it cannot.

A run claims a QUEUED job with a token of its own; each chunk's transaction
checks the token first, so a run that was taken over stops without writing. A
worker that stops (killed, restarted) leaves the job RUNNING with its committed
chunks: ``job_recover`` hands it to a new run, which goes on from ``job.done``.
Nothing but the staged rows exists before ``publish``, so a reader sees the
whole record or none of it.
"""

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from django_tasks import task

from accounts.scope import scope_for
from screening.models import BackgroundJob

logger = logging.getLogger(__name__)

State = BackgroundJob.State

HANDLERS = {
    BackgroundJob.Kind.PRESCREEN: "screening.prescreen.tasks.PrescreenJob",
    BackgroundJob.Kind.LAB_IMPORT: "screening.labs.tasks.LabImportJob",
}

ERROR_TEXT_LIMIT = 2000


class JobError(Exception):
    """A job cannot go on; ``code`` says why (shown in the page's words)."""

    def __init__(self, code: str, message: str = ""):
        super().__init__(message or code)
        self.code = code


def handler_for(job: BackgroundJob):
    return import_string(HANDLERS[job.kind])()


def _jobs():
    return BackgroundJob.objects.system()


def _locked(pk: int) -> BackgroundJob:
    return _jobs().select_for_update().defer("content").get(pk=pk)


def job_submit(job: BackgroundJob, *, backend: str | None = None) -> BackgroundJob:
    """Save a new QUEUED job and queue its run once the transaction commits."""
    now = timezone.now()
    job.state = State.QUEUED
    job.created_at = job.created_at or now
    job.heartbeat_at = now
    job.full_clean()
    with transaction.atomic():
        job.save(force_insert=True)
        job_enqueue(job, backend=backend)
    return job


def job_enqueue(job: BackgroundJob, *, backend: str | None = None) -> None:
    """Queue a run of ``job`` once the current transaction commits.

    A queue that cannot be reached fails the job with ``queue_unavailable``
    (it can be retried), rather than leaving it queued for ever.
    """

    def enqueue():
        try:
            runner = job_run_task.using(backend=backend) if backend else job_run_task
            result = runner.enqueue(job.pk)
        except Exception as exc:
            logger.exception("job %s could not be queued", job.pk)
            _jobs().filter(pk=job.pk, state=State.QUEUED).update(
                state=State.FAILED,
                error_code="queue_unavailable",
                error=_error_text(exc),
                finished_at=timezone.now(),
            )
        else:
            _jobs().filter(pk=job.pk).update(task_id=str(result.id)[:64])

    transaction.on_commit(enqueue)


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:ERROR_TEXT_LIMIT]


def _claim(pk: int) -> tuple[BackgroundJob, str] | None:
    with transaction.atomic():
        job = _locked(pk)
        if job.state != State.QUEUED:
            return None  # done, failed, or another run has it
        token = uuid.uuid4().hex
        job.state = State.RUNNING
        job.run_token = token
        job.attempts += 1
        job.heartbeat_at = timezone.now()
        job.save(update_fields=["state", "run_token", "attempts", "heartbeat_at"])
    return _jobs().get(pk=pk), token


def _fail(pk: int, token: str, code: str, text: str) -> None:
    with transaction.atomic():
        job = _locked(pk)
        if job.run_token != token or job.state != State.RUNNING:
            return  # taken over: the run that has it decides
        job.state = State.FAILED
        job.error_code = code
        job.error = text[:ERROR_TEXT_LIMIT]
        job.finished_at = timezone.now()
        job.save(update_fields=["state", "error_code", "error", "finished_at"])


def job_run(job_id: int) -> str:
    """Run a queued job to its end: DONE, FAILED, or stopped when taken over.

    Returns what happened ("done", "failed", "superseded", "skipped"). Only
    exceptions end a run as FAILED; a worker stopped from outside (SystemExit,
    KeyboardInterrupt, a kill) leaves the job RUNNING for ``job_recover``.
    """
    claimed = _claim(job_id)
    if claimed is None:
        return "skipped"
    job, token = claimed
    handler = handler_for(job)
    try:
        for done, items in handler.chunks(job):
            with transaction.atomic():
                if _locked(job.pk).run_token != token:
                    return "superseded"
                handler.write_chunk(job, items)
                _jobs().filter(pk=job.pk).update(done=done, heartbeat_at=timezone.now())
            job.done = done
        with transaction.atomic():
            locked = _locked(job.pk)
            if locked.run_token != token:
                return "superseded"
            output_id = handler.publish(locked)
            _jobs().filter(pk=job.pk).update(
                state=State.DONE,
                output_id=output_id,
                finished_at=timezone.now(),
                heartbeat_at=timezone.now(),
                run_token="",
                # The record holds the file now (a purge of it must remove it).
                content=b"",
            )
        return "done"
    except JobError as exc:
        _fail(job.pk, token, exc.code, str(exc))
    except Exception as exc:
        logger.exception("job %s failed", job.pk)
        _fail(job.pk, token, "unexpected", _error_text(exc))
    return "failed"


@task()
def job_run_task(job_id: int) -> str:
    """The queued run of a job (any backend: the database's, RQ)."""
    return job_run(job_id)


def job_retry(*, job: BackgroundJob, user) -> BackgroundJob:
    """Queue a FAILED job again: it goes on from its last committed chunk."""
    handler = handler_for(job)
    if not scope_for(user).can(handler.permission, job.trial_id, job.site_id):
        raise PermissionDenied("may not run this job")
    with transaction.atomic():
        locked = _locked(job.pk)
        if locked.state != State.FAILED:
            raise ValidationError(_("Only a failed job can be retried."), code="state")
        locked.state = State.QUEUED
        locked.error_code = ""
        locked.error = ""
        locked.finished_at = None
        locked.run_token = ""
        locked.heartbeat_at = timezone.now()
        locked.save(
            update_fields=[
                "state",
                "error_code",
                "error",
                "finished_at",
                "run_token",
                "heartbeat_at",
            ]
        )
        job_enqueue(locked)
    return locked


def _task_waiting(job: BackgroundJob) -> bool:
    """Whether the job's queued run is still waiting in its queue."""
    if not job.task_id:
        return False
    try:
        result = job_run_task.get_result(job.task_id)
    except Exception:
        return False
    return result.status == "READY"


def job_stale(job: BackgroundJob, *, seconds: int | None = None) -> bool:
    """Unfinished, and its worker has not reported for ``seconds``."""
    if job.state not in (State.QUEUED, State.RUNNING):
        return False
    limit = settings.JOBS_STALE_SECONDS if seconds is None else seconds
    return job.heartbeat_at <= timezone.now() - timedelta(seconds=limit)


def job_recover(*, seconds: int | None = None, pk: int | None = None) -> list[int]:
    """Hand stale unfinished jobs to new runs; returns their ids.

    A RUNNING job whose worker has not reported for ``seconds`` (default
    ``JOBS_STALE_SECONDS``; 0 when the workers were just started) is queued
    again; its run, if it is still alive, stops at its next chunk. A QUEUED job
    is queued again only when its run is no longer waiting in the queue.
    """
    limit = settings.JOBS_STALE_SECONDS if seconds is None else seconds
    cutoff = timezone.now() - timedelta(seconds=limit)
    candidates = _jobs().filter(
        state__in=[State.QUEUED, State.RUNNING], heartbeat_at__lte=cutoff
    )
    if pk is not None:
        candidates = candidates.filter(pk=pk)
    recovered = []
    for candidate in candidates.defer("content"):
        if candidate.state == State.QUEUED and _task_waiting(candidate):
            continue
        with transaction.atomic():
            job = _locked(candidate.pk)
            if job.state not in (State.QUEUED, State.RUNNING) or not job_stale(
                job, seconds=limit
            ):
                continue
            job.state = State.QUEUED
            job.run_token = ""
            job.heartbeat_at = timezone.now()
            job.save(update_fields=["state", "run_token", "heartbeat_at"])
            job_enqueue(job)
        logger.warning("job %s was stalled; queued again from row %s", job.pk, job.done)
        recovered.append(job.pk)
    return recovered


def job_progress(job: BackgroundJob, *, label: str, done_url: str | None) -> dict:
    """What a job's page shows and polls: its state and progress.

    ``label``: the progress in words, with ``%(done)s`` and ``%(total)s``;
    ``done_url``: where the page goes once the job is done. A job whose worker
    stopped (killed, restarted) is handed to a new run first.
    """
    if job_stale(job):
        job_recover(pk=job.pk)
        job.refresh_from_db(fields=["state", "done", "heartbeat_at"])
    status = {
        "state": job.state,
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "label": label
        % {
            "done": number_format(job.done, force_grouping=True),
            "total": number_format(job.total, force_grouping=True),
        },
    }
    if job.state == BackgroundJob.State.DONE and done_url:
        status["url"] = done_url
    return status
