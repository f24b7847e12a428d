"""Thin views of the lab inbox: check membership and role, call one service."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.scope import SCREEN, record_for, scope_for, trial_for
from screening.common import jobs
from screening.decisions.services import screening_sites
from screening.labs import selectors, services, tasks
from screening.labs.forms import LabImportForm, LabRejectForm
from screening.labs.models import LabImport, LabValue
from screening.labs.reading import LabFileError, problem_words
from screening.models import BackgroundJob

# The session key the correction form reads its lab pre-fill from.
SESSION_KEY = "lab_prefill"

# Why a lab import job failed, by its error code (screening/common/jobs.py,
# screening/labs/tasks.py); a refused message lists its problems instead.
JOB_ERRORS = {
    "file_changed": gettext_lazy("The stored file no longer matches its SHA-256."),
    "not_permitted": gettext_lazy(
        "The importer may no longer import lab results in this trial."
    ),
    "incomplete": gettext_lazy("Not every result of the message was read."),
    "queue_unavailable": gettext_lazy("The job queue could not be reached."),
    "unexpected": gettext_lazy("The job stopped on an unexpected error."),
}


def inbox(request, trial_slug):
    trial = trial_for(request, trial_slug, SCREEN)
    boxes = selectors.inbox(scope=scope_for(request.user), trial=trial)
    return render(
        request,
        "screening/labs/inbox.html",
        {"trial": trial, "boxes": boxes, "reject_form": LabRejectForm()},
    )


@require_http_methods(["GET", "POST"])
def upload(request, trial_slug):
    trial = trial_for(request, trial_slug, SCREEN)
    sites = screening_sites(user=request.user, trial=trial)
    form = LabImportForm(request.POST or None, request.FILES or None, sites=sites)
    problems = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > settings.LAB_JOB_BYTES:
                job = services.lab_import_job_submit(
                    trial=trial,
                    user=request.user,
                    content=upload.read(),
                    file_name=upload.name,
                    site=form.site,
                )
                return redirect("screening:labs_job", pk=job.pk)
            record = services.lab_import(
                trial=trial,
                user=request.user,
                content=upload.read(),
                file_name=upload.name,
                channel=LabImport.Channel.PAGE,
                site=form.site,
            )
        except LabFileError as exc:
            problems = exc.messages()
        except ValidationError as exc:
            form.add_error("site" if "site" in form.fields else None, exc.messages)
        else:
            messages.success(
                request,
                _("%(count)s values are waiting for review in the inbox.")
                % {"count": record.value_count},
            )
            return redirect("screening:labs_inbox", trial_slug=trial.slug)
    # The user's jobs still running or failed; a done job is in the inbox.
    unfinished = (
        _jobs()
        .visible_to(scope_for(request.user), SCREEN)
        .filter(trial=trial, user=request.user)
        .exclude(state=BackgroundJob.State.DONE)[:10]
    )
    return render(
        request,
        "screening/labs/upload.html",
        {"trial": trial, "form": form, "problems": problems, "jobs": unfinished},
    )


def _value_for(request, pk):
    return record_for(request, LabValue.objects.select_related("trial"), SCREEN, pk=pk)


@require_POST
def approve(request, pk):
    value = _value_for(request, pk)
    try:
        services.lab_value_approve(value=value, user=request.user)
    except ValidationError as exc:
        messages.warning(request, exc.messages[0])
    else:
        messages.success(request, _("Approved."))
    return redirect("screening:labs_inbox", trial_slug=value.trial.slug)


@require_POST
def reject(request, pk):
    value = _value_for(request, pk)
    form = LabRejectForm(request.POST)
    if not form.is_valid():
        messages.warning(request, _("Give the reason for rejecting."))
        return redirect("screening:labs_inbox", trial_slug=value.trial.slug)
    try:
        services.lab_value_reject(
            value=value, user=request.user, reason=form.cleaned_data["reason"]
        )
    except ValidationError as exc:
        messages.warning(request, exc.messages[0])
    else:
        messages.success(request, _("Rejected."))
    return redirect("screening:labs_inbox", trial_slug=value.trial.slug)


@require_POST
def prefill(request, trial_slug):
    """Open the screening form (or the latest record's correction) pre-filled
    with the candidate's approved values."""
    trial = trial_for(request, trial_slug, SCREEN)
    scope = scope_for(request.user)
    number = request.POST.get("screening_number", "")[:12]
    entries = selectors.prefill_entries(
        scope=scope, trial=trial, screening_number=number
    )
    if not entries:
        messages.warning(request, _("No approved values for this candidate."))
        return redirect("screening:labs_inbox", trial_slug=trial.slug)
    latest = selectors.latest_decisions(scope=scope, trial=trial, numbers=[number])
    if number in latest:
        request.session[SESSION_KEY] = {"decision": latest[number], "values": entries}
        return redirect("screening:correct", pk=latest[number])
    request.session["prefill"] = {"screening_number": number, **entries}
    return redirect("screening:screen", trial_slug=trial.slug)


def _jobs():
    return BackgroundJob.objects.filter(kind=BackgroundJob.Kind.LAB_IMPORT).defer(
        "content"
    )


def _job_for(request, pk) -> BackgroundJob:
    """A lab import job of the user's trials and sites (else 404)."""
    return record_for(request, _jobs().select_related("trial"), SCREEN, pk=pk)


def _job_status(job) -> dict:
    return jobs.job_progress(
        job,
        label=_("%(done)s of %(total)s results checked"),
        # The job's page, which opens the inbox saying how many values came.
        done_url=reverse("screening:labs_job", args=[job.pk]),
    )


def job(request, pk):
    """A lab import job's progress; its error or refusal when it failed."""
    job = _job_for(request, pk)
    if job.state == BackgroundJob.State.DONE:
        made = LabImport.objects.filter(pk=job.output_id).values_list(
            "value_count", flat=True
        )
        messages.success(
            request,
            _("%(count)s values are waiting for review in the inbox.")
            % {"count": made.first() or 0},
        )
        return redirect("screening:labs_inbox", trial_slug=job.trial.slug)
    problems, count = tasks.refusal_problems(job)
    return render(
        request,
        "screening/labs/job.html",
        {
            "trial": job.trial,
            "job": job,
            "status": _job_status(job),
            "problems": [problem_words(p) for p in problems],
            "more_problems": count - len(problems),
            "error": JOB_ERRORS.get(job.error_code, JOB_ERRORS["unexpected"]),
        },
    )


def job_status(request, pk):
    """The job's state and progress as JSON, polled by static/js/prescreen-job.js."""
    return JsonResponse(_job_status(_job_for(request, pk)))


@require_POST
def job_retry(request, pk):
    """Queue a failed import job again."""
    job = _job_for(request, pk)
    try:
        jobs.job_retry(job=job, user=request.user)
    except ValidationError as error:
        if error.code != "state":
            raise
    else:
        messages.success(request, _("The job was queued again."))
    return redirect("screening:labs_job", pk=job.pk)
