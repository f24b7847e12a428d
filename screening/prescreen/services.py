"""Writes of pre-screening: an upload evaluated once and stored with its results.

A file of more than ``PRESCREEN_JOB_ROWS`` rows is evaluated by a background job
(``prescreen_job_submit``), which ends in the same upload and result rows.
"""

import hashlib
from collections import Counter

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scope import PRESCREEN, scope_for
from screening.assessment import (
    RowAssessment,
    active_criteria,
    assess_rows,
)
from screening.common.jobs import job_submit
from screening.decisions.services import screening_sites
from screening.models import (
    BackgroundJob,
    PrescreenPurge,
    PrescreenResult,
    PrescreenUpload,
)
from screening.prescreen.files import result_entry
from trials.models import Trial


def _storable(value):
    """The value with NUL characters shown as U+FFFD: PostgreSQL refuses them.

    Refused rows echo what was given (a short prefix); a NUL in a crafted file
    must not turn the upload into a server error.
    """
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(v) for v in value]
    return value


def prescreen_upload_record(
    *,
    trial: Trial,
    user: AbstractBaseUser,
    file_name: str,
    file_format: str,
    content: bytes,
    records: list,
) -> PrescreenUpload:
    """Evaluate every row once and log the upload with its results.

    Records no decision. The rows' results are stored with the criteria they
    were evaluated under; pages and downloads read them, never re-evaluating.
    Raises NoActiveCriteria for a trial without active criteria.
    """
    sites = screening_sites(user=user, trial=trial)
    if not scope_for(user).can(PRESCREEN, trial.pk):
        raise PermissionDenied("not a member who may pre-screen in this trial")
    criteria = active_criteria(trial=trial)
    rows = list(assess_rows(records, criteria=criteria, today=timezone.localdate()))
    entries = [result_entry(r, details=True) for r in rows]
    nul_free = not may_hold_nul(content)
    summary = Counter(e["decision"] or PrescreenResult.ERROR for e in entries)
    upload = PrescreenUpload(
        trial=trial,
        # One site when the uploader has one; else the trial's members see it.
        site=sites[0] if len(sites) == 1 else None,
        user=user,
        uploaded_at=timezone.now(),
        file_name=file_name[:200],
        file_format=file_format,
        content=content,
        file_sha256=hashlib.sha256(content).hexdigest(),
        row_count=len(entries),
        error_count=summary[PrescreenResult.ERROR],
        summary=dict(summary),
        criteria_snapshot=criteria.snapshot,
        criteria_version=criteria.version,
    )
    upload.full_clean()
    # The ledger seals the upload when it is saved, with the rows written next.
    upload._ledger_result_rows = len(entries)
    with transaction.atomic():
        upload.save(force_insert=True)
        PrescreenResult.objects.bulk_create(
            (
                PrescreenResult(
                    upload=upload, **result_fields(row, entry, nul_free=nul_free)
                )
                for row, entry in zip(rows, entries, strict=True)
            ),
            batch_size=1000,
        )
    return upload


def may_hold_nul(content: bytes) -> bool:
    """Whether a value read from the file's bytes can hold a NUL character.

    In UTF-8 and in GB18030 (the encodings read) that character is the byte 0,
    which no other character's bytes contain; JSON may also write it as the
    escape \\u0000. What the app computes from the values never holds one.
    """
    return b"\x00" in content or b"\\u0000" in content


def _as_given(value):
    return value


def result_fields(row: RowAssessment, entry: dict, *, nul_free: bool = False) -> dict:
    """The stored columns of one evaluated row (a result, or a job's staged row).

    ``nul_free``: the file cannot hold a NUL (``may_hold_nul``), so the values
    are stored without looking for one.
    """
    storable = _as_given if nul_free else _storable
    return {
        "row": entry["row"],
        "screening_number": storable(entry.get("screening_number") or ""),
        "decision": entry["decision"] or PrescreenResult.ERROR,
        "result": storable(entry),
        # Only a valid row can open the screening form.
        "entered": storable(row.data) if row.assessment is not None else None,
    }


def prescreen_job_submit(
    *,
    trial: Trial,
    user: AbstractBaseUser,
    file_name: str,
    file_format: str,
    content: bytes,
    rows: int,
    backend: str | None = None,
) -> BackgroundJob:
    """Queue a large file's evaluation as a job (screening/prescreen/tasks.py).

    The file is kept with its SHA-256, the criteria now active and today's date,
    so the job evaluates exactly what ``prescreen_upload_record`` would have; its
    upload and result rows are written, and sealed, in one transaction when the
    last row is done. Raises NoActiveCriteria for a trial without active criteria.
    """
    sites = screening_sites(user=user, trial=trial)
    if not scope_for(user).can(PRESCREEN, trial.pk):
        raise PermissionDenied("not a member who may pre-screen in this trial")
    criteria = active_criteria(trial=trial)
    job = BackgroundJob(
        kind=BackgroundJob.Kind.PRESCREEN,
        trial=trial,
        site=sites[0] if len(sites) == 1 else None,
        user=user,
        total=rows,
        file_name=file_name[:200],
        file_format=file_format,
        content=content,
        file_sha256=hashlib.sha256(content).hexdigest(),
        params={
            "today": timezone.localdate().isoformat(),
            "criteria_version_id": criteria.version.pk if criteria.version else None,
            "criteria_snapshot": criteria.snapshot,
        },
    )
    return job_submit(job, backend=backend)


# Monitors and trial admins of the upload's trial (accounts/roles.py).
PURGE = "screening.purge_prescreenupload"


def prescreen_upload_purge(
    upload: PrescreenUpload, user: AbstractBaseUser, reason: str
) -> PrescreenPurge:
    """Purge a mistaken upload: its file and result rows go, a tombstone stays.

    In one transaction: the tombstone (who, when, why, and the file's name,
    SHA-256 and row count) is written and sealed in the audit ledger, the
    upload's result rows are deleted and its file is emptied. The upload's
    other fields (hash, counts, summary) are kept. The database triggers allow
    exactly these two writes, and only once the tombstone exists.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            _("Give the reason for the purge."), code="reason_required"
        )
    if not scope_for(user).can(PURGE, upload.trial_id, upload.site_id):
        raise PermissionDenied("not a monitor or trial admin of this upload's trial")
    with transaction.atomic():
        # One purge at a time per upload.
        locked = (
            PrescreenUpload.unscoped.select_for_update()
            .defer("content")
            .get(pk=upload.pk)
        )
        if PrescreenPurge.objects.filter(upload_id=locked.pk).exists():
            raise ValidationError(
                _("This upload was purged already."), code="already_purged"
            )
        tombstone = PrescreenPurge(
            upload=locked,
            purged_by=user,
            purged_at=timezone.now(),
            reason=reason,
            file_sha256=locked.file_sha256,
            file_name=locked.file_name,
            row_count=locked.row_count,
        )
        tombstone.full_clean(validate_unique=False)
        tombstone.save(force_insert=True)
        PrescreenResult.unscoped.filter(upload_id=locked.pk).delete()
        PrescreenUpload.unscoped.filter(pk=locked.pk).update(content=b"")
    return tombstone
