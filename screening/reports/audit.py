"""The audit logs a monitor reads in the app: exports, uploads, criteria history.

Each list is per trial, newest first; a list can be downloaded as CSV, and that
download is itself logged as an export.
"""

from itertools import chain
from urllib.parse import urlencode

from django import forms
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.scope import AUDIT, scope_for, trial_for
from screening.common.csv import csv_stream
from screening.models import PrescreenUpload, ScreeningLogExport
from screening.prescreen.services import PURGE
from screening.reports import services
from trials.models import Condition, CriteriaVersion, Criterion


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S %z")


def _user(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _exports(trial, scope):
    rows = ScreeningLogExport.objects.filter(trial=trial).select_related("user")
    for e in rows.order_by("-exported_at", "-id").iterator(chunk_size=500):
        yield [_local(e.exported_at), _user(e.user), e.export_format, str(e.filters)]


def _purge_button(upload):
    """A button to purge the upload (empty in the CSV)."""
    cell = Cell("")
    cell.kind = "purge"
    cell.url = reverse("screening:prescreen_purge", args=[upload.pk])
    return cell


def _uploads(trial, scope):
    rows = (
        PrescreenUpload.objects.visible_to(scope, AUDIT)
        .filter(trial=trial)
        .select_related("user", "purge", "purge__purged_by")
        .defer("content", "criteria_snapshot")
    )
    for u in rows.order_by("-uploaded_at", "-id").iterator(chunk_size=500):
        purge = getattr(u, "purge", None)
        if purge is not None:
            purged = [
                f"{_local(purge.purged_at)} · {_user(purge.purged_by)}",
                _typed(purge.reason),
            ]
        elif scope.can(PURGE, trial.pk, u.site_id):
            purged = [_purge_button(u), ""]
        else:
            purged = ["", ""]
        yield [
            _local(u.uploaded_at),
            _user(u.user),
            u.file_name,
            u.file_sha256,
            u.row_count,
            u.error_count,
            *purged,
        ]


_HISTORY_TYPE = {"+": _("created"), "~": _("changed"), "-": _("deleted")}


class Cell(str):
    """A cell shown as written: a machine spec (``code``) or a person's words."""

    kind = ""


def _code(text: str) -> Cell:
    cell = Cell(text)
    cell.kind = "code"
    return cell


def _typed(text: str) -> Cell:
    cell = Cell(text)
    cell.kind = "typed"
    return cell


def _spec(condition) -> str:
    parts = (
        condition.variable,
        condition.operator,
        condition.value_low,
        condition.value_high,
        condition.values,
        condition.unit,
    )
    return " ".join(str(p) for p in parts if p not in (None, ""))


def _criteria_history(trial, scope):
    zh = (get_language() or "").startswith("zh")
    criteria = Criterion.history.filter(trial_id=trial.pk).select_related(
        "history_user"
    )
    # From the history, so that a deleted criterion's conditions are kept too.
    codes = dict(criteria.values_list("id", "code"))
    version_of = dict(criteria.values_list("id", "version_id"))
    versions = {v.pk: str(v) for v in CriteriaVersion.objects.filter(trial=trial)}
    conditions = Condition.history.filter(criterion_id__in=list(codes)).select_related(
        "history_user"
    )
    entries = [
        (
            h.history_date,
            h,
            h.code,
            ((h.text_zh_hans if zh else "") or h.text)[:80],
            versions.get(h.version_id, ""),
        )
        for h in criteria.iterator()
    ] + [
        (
            h.history_date,
            h,
            codes.get(h.criterion_id, ""),
            _code(_spec(h)),
            versions.get(version_of.get(h.criterion_id), ""),
        )
        for h in conditions.iterator()
    ]
    for moment, h, code, what, version in sorted(
        entries, key=lambda e: e[0], reverse=True
    ):
        yield [
            _local(moment),
            _user(h.history_user),
            str(_HISTORY_TYPE.get(h.history_type, h.history_type)),
            code,
            what,
            _typed(h.history_change_reason or ""),
            version,
        ]


LOGS = {
    "exports": (
        _("Export log"),
        [_("When"), _("User"), _("Format"), _("Filters")],
        _exports,
    ),
    "uploads": (
        _("Upload log"),
        [
            _("When"),
            _("User"),
            _("File"),
            "SHA-256",
            _("Rows"),
            _("Rows with errors"),
            _("Purged"),
            _("Reason"),
        ],
        _uploads,
    ),
    "criteria": (
        _("Criteria history"),
        [
            _("When"),
            _("User"),
            _("Change"),
            _("Code"),
            _("What"),
            _("Reason"),
            _("Criteria version"),
        ],
        _criteria_history,
    ),
}


def audit_log(request, trial_slug, kind):
    trial = trial_for(request, trial_slug, AUDIT)
    scope = scope_for(request.user)
    if kind not in LOGS:
        raise Http404
    title, header, all_rows = LOGS[kind]
    form = AuditFilterForm(request.GET or None)
    period = form.cleaned_data if form.is_bound and form.is_valid() else {}

    def rows(trial, scope):
        return _filtered(all_rows(trial, scope), period)

    if request.GET.get("format") == "csv":
        services.screening_log_export_record(
            trial=trial,
            user=request.user,
            export_format=f"audit-{kind}-csv",
            filters={
                k: (v.isoformat() if hasattr(v, "isoformat") else v)
                for k, v in period.items()
                if v
            },
        )
        response = StreamingHttpResponse(
            csv_stream(
                chain([[str(h) for h in header]], rows(trial, scope)), excel=False
            ),
            content_type="text/csv; charset=utf-8",
        )
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = (
            f'attachment; filename="audit-{kind}-{trial.slug}-{stamp}.csv"'
        )
        return response
    page = Paginator(list(rows(trial, scope)), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "screening/audit_log.html",
        {
            "trial": trial,
            "kind": kind,
            "kinds": [(k, v[0]) for k, v in LOGS.items()],
            "title": title,
            "header": header,
            "page": page,
            "form": form,
            "query": urlencode({k: v for k, v in request.GET.items() if k != "page"}),
        },
    )


class AuditFilterForm(forms.Form):
    date_from = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(
            attrs={"type": "date", "class": "form-control form-control-sm"}
        ),
    )
    date_to = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(
            attrs={"type": "date", "class": "form-control form-control-sm"}
        ),
    )
    user = forms.CharField(
        label=_("User"),
        required=False,
        max_length=150,
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
    )


def _filtered(rows, period):
    """Rows of a period (by their local date) and of a user whose name matches."""
    start = period.get("date_from")
    end = period.get("date_to")
    who = (period.get("user") or "").strip().casefold()
    for row in rows:
        day = str(row[0])[:10]
        if start and day < start.isoformat():
            continue
        if end and day > end.isoformat():
            continue
        if who and who not in str(row[1]).casefold():
            continue
        yield row
