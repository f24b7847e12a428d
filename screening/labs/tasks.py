"""A large lab import as a background job (screening/common/jobs.py).

The worker reads the job's message (its SHA-256 checked first) and checks its
results against the registry and the contract in chunks of
``JOBS_CHUNK_ROWS``, reporting each chunk as progress. Nothing is staged: the
values live in the run, so a run that goes on after a restart reads the
message again from its first result (its progress does not move back). When
every result is read, ``publish`` stores them through the same
``lab_values_store`` as an import made while the page waits, in the
transaction that ends the job: the import, its values and its ledger seal
exist whole or not at all. A message with any problem is refused whole; the
job's error keeps the problems (where, which part, code) as JSON, and its page
shows them in the page's language.
"""

import hashlib
import json
import time
from collections.abc import Iterator

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from accounts.scope import SCREEN
from screening.assessment import site_zone
from screening.common.jobs import ERROR_TEXT_LIMIT, JobError
from screening.labs.reading import LabFileError, LabProblem, ReadValue, read_results
from screening.labs.services import lab_message_read, lab_values_store
from screening.models import BackgroundJob

REFUSED = "refused"


def refusal_error(problems: list[dict]) -> str:
    """The problems as the job's error text: JSON, as many as fit, and their count."""
    kept = list(problems)
    while True:
        text = json.dumps(
            {"count": len(problems), "problems": kept}, ensure_ascii=False
        )
        if len(text) <= ERROR_TEXT_LIMIT or not kept:
            return text
        kept = kept[: len(kept) // 2]


def refusal_problems(job: BackgroundJob) -> tuple[list[dict], int]:
    """A refused job's problems (as many as were kept) and how many there were."""
    if job.error_code != REFUSED:
        return [], 0
    try:
        data = json.loads(job.error)
        return list(data["problems"]), int(data["count"])
    except (ValueError, KeyError, TypeError):
        return [], 0


def _refused(exc: LabFileError) -> JobError:
    return JobError(REFUSED, refusal_error(exc.problems))


class LabImportJob:
    """The handler of ``BackgroundJob.Kind.LAB_IMPORT`` jobs."""

    permission = SCREEN

    def __init__(self):
        self._read: tuple[list[ReadValue], list[LabProblem]] | None = None

    def _content(self, job: BackgroundJob) -> bytes:
        content = bytes(
            BackgroundJob.objects.system()
            .filter(pk=job.pk)
            .values_list("content", flat=True)
            .get()
        )
        if hashlib.sha256(content).hexdigest() != job.file_sha256:
            raise JobError("file_changed", "the stored file's SHA-256 does not match")
        return content

    def chunks(self, job: BackgroundJob) -> Iterator[tuple[int, list]]:
        try:
            message = lab_message_read(self._content(job), fmt=job.file_format)
        except LabFileError as exc:
            raise _refused(exc) from None
        results = message.results
        if len(results) != job.total:
            raise JobError(
                "incomplete", f"{len(results)} results read, submitted {job.total}"
            )
        now, zone = timezone.now(), site_zone()
        size = settings.JOBS_CHUNK_ROWS
        # A chunk also ends after JOBS_CHUNK_SECONDS, so that the job's heartbeat
        # (written with each chunk) never looks stale on a slow, busy machine.
        seconds = settings.JOBS_CHUNK_SECONDS
        values: list[ReadValue] = []
        problems: list[LabProblem] = []
        seen: set = set()
        done, in_chunk, started = 0, 0, time.monotonic()
        for result in results:
            found, wrong = read_results([result], tz=zone, now=now)
            # The same test of a patient at the same time twice, as read_results
            # finds it in a whole message.
            for value in found:
                key = (value.screening_number, value.input.key, value.collected_at)
                if key in seen:
                    wrong.append(LabProblem(value.where, "test", "duplicate"))
                else:
                    seen.add(key)
                    values.append(value)
            problems.extend(wrong)
            done += 1
            in_chunk += 1
            if in_chunk == size or time.monotonic() - started >= seconds:
                # Read again after a restart: its progress does not move back.
                yield max(done, job.done), []
                in_chunk, started = 0, time.monotonic()
        if in_chunk:
            yield max(done, job.done), []
        if not results:
            problems.append(LabProblem("", "", "empty"))
        self._read = (values, problems)

    def write_chunk(self, job: BackgroundJob, items: list) -> None:
        """Nothing is staged: the values are stored only when all are read."""

    def publish(self, job: BackgroundJob) -> int:
        if self._read is None:
            # Every chunk was reported by an earlier run: read them again.
            for _chunk in self.chunks(job):
                pass
        values, problems = self._read
        try:
            record = lab_values_store(
                trial=job.trial,
                user=job.user,
                content=self._content(job),
                fmt=job.file_format,
                encoding=job.params.get("encoding", "utf-8"),
                values=values,
                problems=problems,
                channel=job.params.get("channel", "PAGE"),
                file_name=job.file_name,
                site=job.site,
                imported_at=timezone.now(),
            )
        except LabFileError as exc:
            raise _refused(exc) from None
        except PermissionDenied:
            raise JobError(
                "not_permitted", "the importer may no longer screen in this trial"
            ) from None
        return record.pk
