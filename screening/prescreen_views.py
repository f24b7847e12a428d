"""Bulk pre-screening upload: logged with its file, evaluated, never a decision."""

from collections import Counter

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from trials.models import Trial

from . import prescreen as bulk
from . import services
from .criteria import criteria_load
from .exports import csv_stream
from .models import PrescreenUpload
from .presentation import condition_text, field_label, input_label, problem_text

PRESCREEN = "screening.prescreen_eligibilitydecision"
RESULTS_PER_PAGE = 100


UNREADABLE = {
    "not_json": _("The file is not valid JSON."),
    "not_list": _("The JSON file must be a list of candidates."),
    "csv_empty": _("The CSV file is empty."),
    "csv_no_header": _("The CSV header has no screening_number column."),
    "csv_invalid": _("The file is not a readable CSV file."),
}


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("Candidates file (CSV or JSON)"),
        help_text=_("One row per candidate, in the template's columns."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.PRESCREEN_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is larger than %(limit)s."),
                code="too_large",
                params={"limit": filesizeformat(limit)},
            )
        name = upload.name.lower()
        fmt = "json" if name.endswith(".json") else "csv"
        content = upload.read()
        try:
            rows = list(bulk.uploaded_candidates(content, fmt=fmt))
        except UnicodeDecodeError:
            raise forms.ValidationError(
                _("The file is not UTF-8 text."), code="not_utf8"
            ) from None
        except bulk.UnreadableFile as exc:
            raise forms.ValidationError(
                UNREADABLE.get(exc.code, _("The file cannot be read.")),
                code=exc.code,
            ) from None
        if not rows:
            raise forms.ValidationError(_("The file has no candidates."), code="empty")
        self.parsed = (fmt, content, rows)
        return upload


def _rows(upload: PrescreenUpload):
    return bulk.uploaded_candidates(bytes(upload.content), fmt=upload.file_format)


def _evaluate(upload: PrescreenUpload, trial: Trial, *, details: bool = False):
    return bulk.prescreen(
        _rows(upload),
        criteria=criteria_load(trial=trial),
        today=timezone.localdate(),
        details=details,
    )


def _upload_for(request, pk) -> PrescreenUpload:
    upload = get_object_or_404(PrescreenUpload.objects.select_related("trial"), pk=pk)
    if upload.user_id != request.user.pk and not request.user.has_perm(
        "screening.view_prescreenupload"
    ):
        raise PermissionDenied
    return upload


@permission_required(PRESCREEN, raise_exception=True)
def upload(request, trial_slug):
    trial = get_object_or_404(Trial, slug=trial_slug)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        fmt, content, rows = form.parsed
        record = services.prescreen_upload_record(
            trial=trial,
            user=request.user,
            file_name=form.cleaned_data["file"].name,
            file_format=fmt,
            content=content,
            rows=rows,
        )
        return redirect("screening:prescreen_results", pk=record.pk)
    recent = PrescreenUpload.objects.filter(trial=trial, user=request.user).defer(
        "content"
    )[:10]
    return render(
        request,
        "screening/prescreen_upload.html",
        {"trial": trial, "form": form, "recent": recent},
    )


@permission_required(PRESCREEN, raise_exception=True)
def template_csv(request, trial_slug):
    get_object_or_404(Trial, slug=trial_slug)
    response = HttpResponse(bulk.csv_template(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="prescreen-template.csv"'
    return response


@permission_required(PRESCREEN, raise_exception=True)
def results(request, pk):
    upload = _upload_for(request, pk)
    entries = list(_evaluate(upload, upload.trial, details=True))
    summary = Counter(e["decision"] or "ERROR" for e in entries)
    show = request.GET.get("show", "")
    if show in ("ELIGIBLE", "INELIGIBLE", "INCOMPLETE", "ERROR"):
        entries = [e for e in entries if (e["decision"] or "ERROR") == show]
    page = Paginator(entries, RESULTS_PER_PAGE).get_page(request.GET.get("page"))
    for entry in page:
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
    return render(
        request,
        "screening/prescreen_results.html",
        {
            "trial": upload.trial,
            "upload": upload,
            "page": page,
            "summary": summary,
            "show": show,
            "query": f"show={show}" if show else "",
        },
    )


@permission_required(PRESCREEN, raise_exception=True)
def results_csv(request, pk):
    upload = _upload_for(request, pk)
    response = StreamingHttpResponse(
        csv_stream(_result_rows(upload), excel=request.GET.get("variant") == "excel"),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="prescreen-results-{upload.pk}.csv"'
    )
    return response


def _result_rows(upload):
    yield bulk.RESULT_COLUMNS
    for entry in _evaluate(upload, upload.trial):
        yield bulk.result_csv_row(entry)


@permission_required(PRESCREEN, raise_exception=True)
@require_POST
def prefill(request, pk, row):
    """Open the screening form pre-filled with one uploaded row."""
    upload = _upload_for(request, pk)
    for index, data in enumerate(_rows(upload), start=1):
        if index == row and isinstance(data, dict):
            request.session["prefill"] = data
            return redirect("screening:screen", trial_slug=upload.trial.slug)
    return redirect("screening:prescreen_results", pk=upload.pk)
