"""Bulk pre-screening upload: evaluated once and stored; never a decision."""

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from screening.domain.inputs import INPUTS, PART_LABELS, Part
from trials.models import Trial

from . import prescreen as bulk
from . import services
from .assessment import NoActiveCriteria
from .exports import csv_stream
from .models import EligibilityDecision, PrescreenResult, PrescreenUpload
from .presentation import (
    UNIT_LABELS,
    condition_text,
    field_label,
    input_label,
    problem_text,
)

PRESCREEN = "screening.prescreen_eligibilitydecision"
RESULTS_PER_PAGE = 100
SHOWN = ("ELIGIBLE", "INELIGIBLE", "INCOMPLETE", PrescreenResult.ERROR)

UNREADABLE = {
    "not_json": _("The file is not valid JSON."),
    "not_list": _("The JSON file must be a list of candidates."),
    "csv_empty": _("The CSV file is empty."),
    "csv_no_header": _("The CSV header has no screening_number column."),
    "csv_invalid": _("The file is not a readable CSV file."),
    "encoding": _("The file is neither UTF-8 nor GB18030 (GBK) text."),
    "csv_unknown_columns": _("Unknown columns: %(names)s. Use the template's."),
    "csv_duplicate_columns": _("Columns given twice: %(names)s."),
}


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("Candidates file (CSV or JSON)"),
        help_text=_(
            "One row per candidate, in the template's columns (English or Chinese "
            "headers); UTF-8 or GB18030/GBK."
        ),
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
        fmt = "json" if upload.name.lower().endswith(".json") else "csv"
        content = upload.read()
        try:
            records = list(bulk.uploaded_candidates(content, fmt=fmt))
        except bulk.UnreadableFile as exc:
            raise forms.ValidationError(
                UNREADABLE.get(exc.code, _("The file cannot be read.")),
                code=exc.code,
                params={"names": ", ".join(exc.names)},
            ) from None
        if not records:
            raise forms.ValidationError(_("The file has no candidates."), code="empty")
        if len(records) > settings.PRESCREEN_MAX_ROWS:
            raise forms.ValidationError(
                _("The file has more than %(limit)s rows; split it."),
                code="too_many_rows",
                params={"limit": settings.PRESCREEN_MAX_ROWS},
            )
        self.parsed = (fmt, content, records)
        return upload


def _upload_for(request, pk) -> PrescreenUpload:
    upload = get_object_or_404(
        PrescreenUpload.objects.select_related("trial").defer("content"), pk=pk
    )
    if upload.user_id != request.user.pk and not request.user.has_perm(
        "screening.view_prescreenupload"
    ):
        raise PermissionDenied
    return upload


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


@permission_required(PRESCREEN, raise_exception=True)
def upload(request, trial_slug):
    trial = get_object_or_404(Trial, slug=trial_slug)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        fmt, content, records = form.parsed
        try:
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
    recent = PrescreenUpload.objects.filter(trial=trial, user=request.user).defer(
        "content"
    )[:10]
    return render(
        request,
        "screening/prescreen_upload.html",
        {"trial": trial, "form": form, "recent": recent, "columns": _columns()},
    )


@permission_required(PRESCREEN, raise_exception=True)
def template_csv(request, trial_slug):
    get_object_or_404(Trial, slug=trial_slug)
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


@permission_required(PRESCREEN, raise_exception=True)
def results(request, pk):
    upload = _upload_for(request, pk)
    rows = upload.results.order_by("row")
    show = request.GET.get("show", "")
    if show in SHOWN:
        rows = rows.filter(decision=show)
    page = Paginator(rows.only("row", "result"), RESULTS_PER_PAGE).get_page(
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
        },
    )


@permission_required(PRESCREEN, raise_exception=True)
def results_csv(request, pk):
    upload = _upload_for(request, pk)
    excel = request.GET.get("variant") == "excel"
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


@permission_required(PRESCREEN, raise_exception=True)
@require_POST
def prefill(request, pk, row):
    """Open the screening form pre-filled with one uploaded row."""
    upload = _upload_for(request, pk)
    stored = upload.results.filter(row=row).only("entered").first()
    if stored is None or not isinstance(stored.entered, dict):
        return redirect("screening:prescreen_results", pk=upload.pk)
    request.session["prefill"] = stored.entered
    return redirect("screening:screen", trial_slug=upload.trial.slug)
