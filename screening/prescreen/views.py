"""Bulk pre-screening upload: evaluated once and stored; never a decision."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from accounts.scope import (
    AUDIT,
    PRESCREEN,
    VIEW_ANY,
    record_for,
    scope_for,
    trial_for,
)
from screening.assessment import NoActiveCriteria
from screening.common import jobs
from screening.common.csv import csv_stream
from screening.common.words import (
    UNIT_LABELS,
    condition_text,
    field_label,
    input_label,
    problem_text,
)
from screening.domain.inputs import INPUTS, PART_LABELS, Part
from screening.models import (
    BackgroundJob,
    EligibilityDecision,
    PrescreenPurge,
    PrescreenResult,
    PrescreenUpload,
)
from screening.prescreen import files as bulk
from screening.prescreen import services
from screening.prescreen.forms import PurgeForm, UploadForm
from screening.prescreen.services import PURGE
from screening.reports.services import screening_log_export_record as export_record

RESULTS_PER_PAGE = 100

# Why a job failed, by its error code (screening/common/jobs.py, prescreen/tasks.py).
JOB_ERRORS = {
    "file_changed": _("The stored file no longer matches its SHA-256."),
    "criteria_changed": _("The criteria of the upload can no longer be read."),
    "not_permitted": _("The uploader may no longer pre-screen in this trial."),
    "incomplete": _("Not every row of the file was evaluated."),
    "queue_unavailable": _("The job queue could not be reached."),
    "unexpected": _("The job stopped on an unexpected error."),
}


SHOWN = ("ELIGIBLE", "INELIGIBLE", "INCOMPLETE", PrescreenResult.ERROR)


def _upload_for(request, pk) -> PrescreenUpload:
    """An upload of the user's trials and sites (else 404) they may pre-screen in."""
    return record_for(
        request,
        PrescreenUpload.objects.select_related("trial").defer("content"),
        PRESCREEN,
        pk=pk,
    )


def _tombstone(upload) -> PrescreenPurge | None:
    """The upload's purge, if it was purged."""
    return (
        PrescreenPurge.objects.filter(upload_id=upload.pk)
        .select_related("purged_by")
        .first()
    )


def _may_purge(request, upload) -> bool:
    return scope_for(request.user).can(PURGE, upload.trial_id, upload.site_id)


def _columns():
    """Every template column with its Chinese header and units, for the page."""
    return [
        {
            "name": item.column(part),
            "zh": item.zh_column(part),
            "label": gettext(item.label)
            + ("" if part is Part.VALUE else f" ({gettext(PART_LABELS[part])})"),
            "units": ", ".join(str(UNIT_LABELS.get(u, u)) for u in item.units)
            if part in (Part.VALUE, Part.UNIT, Part.ULN)
            else "",
        }
        for item in INPUTS.values()
        for part in item.parts
    ]


def upload(request, trial_slug):
    trial = trial_for(request, trial_slug, PRESCREEN)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        fmt, content, records = form.parsed
        try:
            if records is None:
                job = services.prescreen_job_submit(
                    trial=trial,
                    user=request.user,
                    file_name=form.cleaned_data["file"].name,
                    file_format=fmt,
                    content=content,
                    rows=form.rows,
                )
                return redirect("screening:prescreen_job", pk=job.pk)
            record = services.prescreen_upload_record(
                trial=trial,
                user=request.user,
                file_name=form.cleaned_data["file"].name,
                file_format=fmt,
                content=content,
                records=records,
            )
        except NoActiveCriteria as exc:
            form.add_error(None, exc)
        else:
            return redirect("screening:prescreen_results", pk=record.pk)
    scope = scope_for(request.user)
    recent = (
        PrescreenUpload.objects.visible_to(scope, PRESCREEN)
        .filter(trial=trial, user=request.user)
        .defer("content")[:10]
    )
    # Jobs still running or failed; a done job is one of the uploads above.
    jobs = (
        _jobs()
        .visible_to(scope, PRESCREEN)
        .filter(trial=trial, user=request.user)
        .exclude(state=BackgroundJob.State.DONE)[:10]
    )
    return render(
        request,
        "screening/prescreen_upload.html",
        {
            "trial": trial,
            "form": form,
            "recent": recent,
            "jobs": jobs,
            "columns": _columns(),
        },
    )


def _jobs():
    return BackgroundJob.objects.filter(kind=BackgroundJob.Kind.PRESCREEN).defer(
        "content", "params"
    )


def _job_for(request, pk) -> BackgroundJob:
    """A pre-screening job of the user's trials and sites (else 404)."""
    return record_for(request, _jobs().select_related("trial"), PRESCREEN, pk=pk)


def _job_status(request, job) -> dict:
    return jobs.job_progress(
        job,
        label=gettext("%(done)s of %(total)s rows"),
        done_url=reverse("screening:prescreen_results", args=[job.output_id])
        if job.output_id
        else None,
    )


def job(request, pk):
    """A pre-screening job's progress; its results once it is done."""
    job = _job_for(request, pk)
    if job.state == BackgroundJob.State.DONE:
        return redirect("screening:prescreen_results", pk=job.output_id)
    return render(
        request,
        "screening/prescreen_job.html",
        {
            "trial": job.trial,
            "job": job,
            "status": _job_status(request, job),
            "error": JOB_ERRORS.get(job.error_code, JOB_ERRORS["unexpected"]),
        },
    )


def job_status(request, pk):
    """The job's state and progress as JSON, polled by static/js/prescreen-job.js."""
    return JsonResponse(_job_status(request, _job_for(request, pk)))


@require_POST
def job_retry(request, pk):
    """Queue a failed job again, from its last committed chunk."""
    job = _job_for(request, pk)
    try:
        jobs.job_retry(job=job, user=request.user)
    except ValidationError as error:
        if error.code != "state":
            raise
    else:
        messages.success(request, gettext("The job was queued again."))
    return redirect("screening:prescreen_job", pk=job.pk)


def template_csv(request, trial_slug):
    trial_for(request, trial_slug, PRESCREEN)
    chinese = request.GET.get("headers") == "zh"
    response = HttpResponse(
        bulk.csv_template(chinese=chinese), content_type="text/csv; charset=utf-8"
    )
    name = "prescreen-template-zh.csv" if chinese else "prescreen-template.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _decision_label(value: str) -> str:
    if value == PrescreenResult.ERROR:
        return gettext("Error")
    return str(EligibilityDecision.Result(value).label)


def _reason_text(criterion: dict) -> str:
    return (
        "; ".join(condition_text(d) for d in criterion.get("details", []))
        or (criterion["reason"])
    )


def results(request, pk):
    upload = _upload_for(request, pk)
    tombstone = _tombstone(upload)
    if tombstone is not None:
        # Purged: the tombstone instead of the rows.
        return render(
            request,
            "screening/prescreen_results.html",
            {"trial": upload.trial, "upload": upload, "purge": tombstone},
        )
    rows = upload.results.order_by("row")
    show = request.GET.get("show", "")
    if show in SHOWN:
        rows = rows.filter(decision=show)
    # With the upload's id: the related manager reads it on every row (a query
    # per row when it is deferred).
    page = Paginator(rows.only("upload", "row", "result"), RESULTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    entries = []
    for stored in page:
        entry = dict(stored.result)
        entry["to_collect_labels"] = [
            input_label(m) for m in entry.get("to_collect", [])
        ]
        entry["problem_lines"] = [
            (field_label(field), [problem_text(p) for p in problems])
            for field, problems in entry.get("problems", {}).items()
        ]
        entry["blocking_reasons"] = [
            (c["code"], [condition_text(d) for d in c["details"]])
            for c in entry.get("criteria", [])
            if c["code"] in entry.get("blocking", [])
        ]
        entries.append(entry)
    page.object_list = entries
    return render(
        request,
        "screening/prescreen_results.html",
        {
            "trial": upload.trial,
            "upload": upload,
            "page": page,
            "summary": upload.summary,
            "show": show,
            "query": f"show={show}" if show else "",
            "purge_form": PurgeForm() if _may_purge(request, upload) else None,
        },
    )


def _purged_page(request, upload, tombstone):
    """What a download of a purged upload's results answers: 410, and why."""
    return render(
        request,
        "screening/prescreen_purge.html",
        {"trial": upload.trial, "upload": upload, "purge": tombstone},
        status=410,
    )


def results_csv(request, pk):
    upload = _upload_for(request, pk)
    tombstone = _tombstone(upload)
    if tombstone is not None:
        return _purged_page(request, upload, tombstone)
    excel = request.GET.get("variant") == "excel"
    export_record(
        trial=upload.trial,
        user=request.user,
        export_format="prescreen-excel-csv" if excel else "prescreen-csv",
        filters={"upload": upload.pk},
    )
    response = StreamingHttpResponse(
        csv_stream(_result_rows(upload), excel=excel),
        content_type="text/csv; charset=utf-8",
    )
    name = f"prescreen-results-{upload.pk}{'-excel' if excel else ''}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _result_rows(upload):
    yield bulk.result_header()
    for result in (
        upload.results.order_by("row")
        .values_list("result", flat=True)
        .iterator(chunk_size=2000)
    ):
        yield bulk.result_csv_row(
            result, decision_label=_decision_label, reason_text=_reason_text
        )


@require_POST
def prefill(request, pk, row):
    """Open the screening form pre-filled with one uploaded row."""
    upload = _upload_for(request, pk)
    if _tombstone(upload) is not None:
        messages.warning(
            request,
            gettext("This upload was purged: its rows can no longer be opened."),
        )
        return redirect("screening:prescreen_results", pk=upload.pk)
    stored = upload.results.filter(row=row).only("entered").first()
    if stored is None or not isinstance(stored.entered, dict):
        return redirect("screening:prescreen_results", pk=upload.pk)
    request.session["prefill"] = stored.entered
    return redirect("screening:screen", trial_slug=upload.trial.slug)


@require_POST
def purge(request, pk):
    """Purge a mistaken upload, with a reason: monitors and trial admins only.

    Without a reason field (the button of the upload log) the page asks for
    one; with a blank reason it asks again. The upload is looked up among those
    the user may see or purge (else 404); a member who may not purge gets 403.
    """
    scope = scope_for(request.user)
    visible = PrescreenUpload.objects.visible_to(
        scope, VIEW_ANY
    ) | PrescreenUpload.objects.visible_to(scope, PURGE)
    upload = get_object_or_404(
        visible.select_related("trial", "user").defer("content"), pk=pk
    )
    if not scope.can(PURGE, upload.trial_id, upload.site_id):
        raise PermissionDenied
    tombstone = _tombstone(upload)
    form = PurgeForm(request.POST if "reason" in request.POST else None)
    if tombstone is None and form.is_valid():
        try:
            tombstone = services.prescreen_upload_purge(
                upload, request.user, form.cleaned_data["reason"]
            )
        except ValidationError as error:
            if error.code != "already_purged":
                raise
            tombstone = _tombstone(upload)
        else:
            messages.success(
                request,
                gettext(
                    "The upload was purged: its file and rows are removed, "
                    "its tombstone is kept."
                ),
            )
        if scope.can(PRESCREEN, upload.trial_id, upload.site_id):
            return redirect("screening:prescreen_results", pk=upload.pk)
        if scope.can(AUDIT, upload.trial_id):
            return redirect(
                reverse("screening:audit_log", args=[upload.trial.slug, "uploads"])
            )
    return render(
        request,
        "screening/prescreen_purge.html",
        {
            "trial": upload.trial,
            "upload": upload,
            "purge": tombstone,
            "form": form if tombstone is None else None,
        },
    )
