"""Thin views of the lab inbox: check membership and role, call one service."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.scope import SCREEN, record_for, scope_for, trial_for
from screening.decisions.services import screening_sites
from screening.labs import selectors, services
from screening.labs.forms import LabImportForm, LabRejectForm
from screening.labs.models import LabImport, LabValue
from screening.labs.reading import LabFileError

# The session key the correction form reads its lab pre-fill from.
SESSION_KEY = "lab_prefill"


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
    return render(
        request,
        "screening/labs/upload.html",
        {"trial": trial, "form": form, "problems": problems},
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
