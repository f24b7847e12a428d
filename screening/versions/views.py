"""Criteria versions of a trial: the list, a draft's impact report, its activation."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django.views.decorators.http import require_http_methods, require_POST

from accounts.scope import ADMINISTER, AUDIT, scope_for, trial_for
from screening.common.words import condition_text
from screening.versions import services
from screening.versions.forms import ActivationForm, DraftForm
from trials.models import CriteriaVersion, Trial
from trials.services import version_active, version_draft_create


def _trial(request, slug) -> Trial:
    """Monitors read the versions and reports; trial admins also act on them."""
    return trial_for(request, slug, AUDIT, ADMINISTER)


def _trial_wide(request, trial: Trial) -> None:
    """The impact of an amendment names candidates of every site: only members
    whose grant covers all the trial's sites read it (else 403)."""
    scope = scope_for(request.user)
    if scope.everything:
        return
    if not any(None in scope.sites(perm, trial.pk) for perm in (AUDIT, ADMINISTER)):
        raise PermissionDenied


def _summary(report) -> str:
    """How many candidates were re-evaluated and how many decisions would change."""
    content = report.content
    evaluated = ngettext(
        "%(n)s candidate re-evaluated under v%(to)s (now v%(from)s):",
        "%(n)s candidates re-evaluated under v%(to)s (now v%(from)s):",
        report.evaluated,
    ) % {
        "n": report.evaluated,
        "to": content["to_version"],
        "from": content["from_version"],
    }
    flips = ngettext(
        "%(flips)s decision would change.",
        "%(flips)s decisions would change.",
        report.flip_count,
    ) % {"flips": report.flip_count}
    # Joined as the language writes two clauses (Chinese: no space).
    return pgettext("impact summary", "%(evaluated)s %(flips)s") % {
        "evaluated": evaluated,
        "flips": flips,
    }


def _report_context(report) -> dict:
    """The report's summary and counts per decision, and its flips with reasons in
    the page's language (from the stored details)."""
    if report is None:
        return {}
    counts = report.content["counts"]
    decisions = sorted(set(counts["from"]) | set(counts["to"]))
    flips = [
        {
            **flip,
            "criteria": [
                {**c, "lines": [condition_text(d) for d in c.get("details", [])]}
                for c in flip["criteria"]
            ],
        }
        for flip in report.content["flips"]
    ]
    return {
        "summary": _summary(report),
        "counts": [
            (d, counts["from"].get(d, 0), counts["to"].get(d, 0)) for d in decisions
        ],
        "flips": flips,
    }


def _version(trial, number) -> CriteriaVersion:
    return get_object_or_404(
        CriteriaVersion.objects.select_related("activation"), trial=trial, number=number
    )


def versions(request, trial_slug):
    trial = _trial(request, trial_slug)
    rows = trial.versions.select_related("activation", "created_by").order_by("-number")
    return render(
        request,
        "screening/versions.html",
        {
            "trial": trial,
            "versions": rows,
            "active": version_active(trial=trial),
            "can_administer": scope_for(request.user).can(ADMINISTER, trial.pk),
            "draft_form": DraftForm(),
        },
    )


@require_POST
def draft_create(request, trial_slug):
    trial = trial_for(request, trial_slug, ADMINISTER)
    form = DraftForm(request.POST)
    if form.is_valid():
        draft = version_draft_create(
            trial=trial,
            user=request.user,
            label=form.cleaned_data["label"],
            label_zh_hans=form.cleaned_data["label_zh_hans"],
        )
        messages.success(
            request,
            _("Draft v%(number)s created: edit its criteria in the admin.")
            % {"number": draft.number},
        )
    else:
        messages.warning(request, _("Give the draft a label."))
    return redirect("screening:versions", trial_slug=trial.slug)


@require_http_methods(["GET", "POST"])
def impact(request, trial_slug, number):
    trial = _trial(request, trial_slug)
    _trial_wide(request, trial)
    version = _version(trial, number)
    if request.method == "POST":
        if not scope_for(request.user).can(ADMINISTER, trial.pk):
            raise PermissionDenied
        try:
            services.impact_report_record(version=version, user=request.user)
        except ValidationError as exc:
            messages.warning(request, exc.messages[0])
        return redirect(
            "screening:version_impact", trial_slug=trial.slug, number=number
        )
    report = version.impact_reports.select_related("created_by").first()
    return render(
        request,
        "screening/version_impact.html",
        {
            "trial": trial,
            "version": version,
            "report": report,
            "current": services.impact_report_current(version=version),
            "can_administer": scope_for(request.user).can(ADMINISTER, trial.pk),
            **_report_context(report),
        },
    )


@require_http_methods(["GET", "POST"])
def activate(request, trial_slug, number):
    trial = trial_for(request, trial_slug, ADMINISTER)
    _trial_wide(request, trial)
    version = _version(trial, number)
    report = services.impact_report_current(version=version)
    if hasattr(version, "activation"):
        messages.info(request, _("This version is already signed."))
        return redirect("screening:versions", trial_slug=trial.slug)
    if report is None:
        messages.warning(
            request, _("Run the impact dry-run first: activation signs its report.")
        )
        return redirect(
            "screening:version_impact", trial_slug=trial.slug, number=number
        )
    form = ActivationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.version_activate(
                version=version,
                user=request.user,
                password=form.cleaned_data["password"],
                report=report,
                effective_from=form.cleaned_data["effective_from"],
                request=request,
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc)
        else:
            messages.success(request, _("Signed."))
            return redirect("screening:versions", trial_slug=trial.slug)
    return render(
        request,
        "screening/version_activate.html",
        {
            "trial": trial,
            "version": version,
            "report": report,
            "form": form,
            **_report_context(report),
        },
    )
