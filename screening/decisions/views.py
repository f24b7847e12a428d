"""Thin views: check permission, validate the form, call one service, render."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.scope import SCREEN, SIGN, VIEW, record_for, scope_for, trial_for
from screening.assessment import NoActiveCriteria, active_criteria
from screening.decisions import enrolment, selectors, services
from screening.decisions.context import decision_view_context
from screening.decisions.drafts import draft_take
from screening.decisions.forms import (
    ScreeningForm,
    SignatureForm,
    TbilSeriesFormSet,
    initial_from_contract,
)
from screening.domain.contract import CandidateError
from screening.models import EligibilityDecision


def _screening_forms(
    request, *, trial, initial=None, series=None, correction=False, sites=()
):
    try:
        criteria = active_criteria(trial=trial)
    except NoActiveCriteria:
        criteria = None
    data = request.POST if request.method == "POST" else None
    if data is None and (fields := draft_take(request)) is not None:
        data = QueryDict(mutable=True)
        for key, values in fields.items():
            data.setlist(key, [v for v in values if isinstance(v, str)])
    if data is not None:
        formset = TbilSeriesFormSet(data, prefix="series")
        form = ScreeningForm(
            data,
            series=formset,
            correction=correction,
            initial=initial,
            criteria=criteria,
            sites=sites,
        )
    else:
        formset = TbilSeriesFormSet(prefix="series", initial=series or None)
        form = ScreeningForm(
            initial=initial,
            series=formset,
            correction=correction,
            criteria=criteria,
            sites=sites,
        )
    return form, formset


def _record(request, form, **kwargs):
    """Call the service; put any refusal back on the form. Returns the decision."""
    try:
        return services.decision_record(
            data=form.to_contract(),
            user=request.user,
            site=form.site,
            criteria=form.criteria,
            **kwargs,
        )
    except CandidateError as exc:
        form.add_problems(exc)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(
                "screening_number" if exc.code == "screening_number_taken" else None,
                exc,
            )
    return None


@require_http_methods(["GET", "POST"])
def screen(request, trial_slug):
    trial = trial_for(request, trial_slug, SCREEN)
    initial, series = {"screening_date": timezone.localdate()}, None
    if request.method == "GET" and request.session.get("prefill"):
        prefill, series = initial_from_contract(request.session.pop("prefill"))
        initial.update(prefill)
    form, formset = _screening_forms(
        request,
        trial=trial,
        initial=initial,
        series=series,
        sites=services.screening_sites(user=request.user, trial=trial),
    )
    if request.method == "POST" and form.is_valid() & formset.is_valid():
        decision = _record(request, form, trial=trial)
        if decision is not None:
            return redirect(decision)
    return render(
        request,
        "screening/screen.html",
        {"trial": trial, "form": form, "formset": formset},
    )


@require_http_methods(["GET", "POST"])
def correct(request, pk):
    original = record_for(
        request, EligibilityDecision.objects.select_related("trial"), SCREEN, pk=pk
    )
    latest = selectors.latest_in_chain(decision=original)
    if latest.pk != original.pk:
        messages.info(request, _("This record was superseded; correct the latest one."))
        return redirect("screening:correct", pk=latest.pk)
    initial, series = initial_from_contract(original.entered)
    if request.method == "GET":
        initial.update(_lab_prefill(request, original))
    form, formset = _screening_forms(
        request,
        trial=original.trial,
        initial=initial,
        series=series,
        correction=True,
    )
    if request.method == "POST" and form.is_valid() & formset.is_valid():
        decision = _record(
            request,
            form,
            trial=original.trial,
            supersedes=original,
            supersede_reason=form.cleaned_data["supersede_reason"],
        )
        if decision is not None:
            return redirect(decision)
    return render(
        request,
        "screening/screen.html",
        {
            "trial": original.trial,
            "form": form,
            "formset": formset,
            "original": original,
        },
    )


def _lab_prefill(request, original) -> dict:
    """The lab inbox's approved values for this record's correction, once."""
    prefill = request.session.get("lab_prefill")
    if not isinstance(prefill, dict) or prefill.get("decision") != original.pk:
        return {}
    del request.session["lab_prefill"]
    initial, _series = initial_from_contract(prefill.get("values") or {})
    return initial


def _with_lab_sources(context, record):
    from screening.labs.selectors import decision_sources

    context["lab_sources"] = decision_sources(decision=record)
    return context


def decision(request, pk):
    try:
        record = selectors.decision_detail(scope=scope_for(request.user), pk=pk)
    except EligibilityDecision.DoesNotExist:
        raise Http404 from None
    return render(
        request,
        "screening/decision.html",
        _with_lab_sources(decision_view_context(request, record), record),
    )


@require_http_methods(["GET"])
def decision_pdf(request, pk):
    """The record as a PDF/A-3b download (scoped like the record; logged)."""
    from screening.decisions.pdf import record_pdf_response

    try:
        record = selectors.decision_detail(scope=scope_for(request.user), pk=pk)
    except EligibilityDecision.DoesNotExist:
        raise Http404 from None
    return record_pdf_response(request, record)


@require_http_methods(["GET", "POST"])
def sign(request, pk):
    record = record_for(
        request,
        EligibilityDecision.objects.select_related("trial", "signature"),
        SIGN,
        pk=pk,
    )
    if hasattr(record, "signature"):
        messages.info(request, _("This decision is already signed."))
        return redirect(record)
    try:
        services.signature_refusal(
            decision=record,
            signer=request.user,
            # Opening the page only checks; a POST is an attempt to sign.
            attempt=request.method == "POST",
        )
    except ValidationError as exc:
        messages.warning(request, exc.messages[0])
        return redirect(record)
    form = SignatureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.signature_record(
                request=request,
                decision=record,
                signer=request.user,
                password=form.cleaned_data["password"],
                meaning=form.cleaned_data["meaning"],
                reason=form.cleaned_data["reason"],
                override_outcome=form.cleaned_data["override_outcome"],
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc)
        else:
            messages.success(request, _("Signed."))
            return redirect(record)
    # What is signed: the criteria with their outcomes and reasons, the values.
    detail = selectors.decision_detail(scope=scope_for(request.user), pk=record.pk)
    context = decision_view_context(request, detail)
    context.update({"decision": record, "form": form, "trial": record.trial})
    return render(request, "screening/sign.html", context)


@require_http_methods(["POST"])
def enrol(request, pk):
    """Enrol the candidate of a signed, eligible, current record (the record page's
    form); a refusal is shown on the record page, next to its field."""
    record = record_for(
        request, EligibilityDecision.objects.select_related("trial"), SCREEN, pk=pk
    )
    form = enrolment.EnrolmentForm(request.POST)
    if form.is_valid():
        try:
            enrolment.enrolment_record(
                decision=record,
                user=request.user,
                enrolled_on=form.cleaned_data["enrolled_on"],
                randomisation_number=form.cleaned_data["randomisation_number"],
            )
        except ValidationError as exc:
            form.add_refusal(exc)
        else:
            messages.success(request, _("Enrolled."))
            return redirect(record)
    detail = selectors.decision_detail(scope=scope_for(request.user), pk=record.pk)
    context = _with_lab_sources(decision_view_context(request, detail), detail)
    context["enrolment_form"] = form
    return render(request, "screening/decision.html", context)


def candidate(request, pk):
    """Every screening of the candidate of one record (no number in the URL)."""
    record = record_for(
        request,
        EligibilityDecision.objects.select_related("trial").only(
            "trial", "site", "screening_number"
        ),
        VIEW,
        pk=pk,
    )
    chain = selectors.candidate_chain(
        scope=scope_for(request.user),
        trial=record.trial,
        screening_number=record.screening_number,
    )
    return render(
        request,
        "screening/candidate.html",
        {
            "trial": record.trial,
            "screening_number": record.screening_number,
            "chain": chain,
        },
    )
