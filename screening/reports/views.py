"""The screening log, its exports and the screening funnel."""

from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy

from accounts.scope import EXPORT, VIEW, scope_for, trial_for
from screening.common.csv import csv_stream
from screening.reports import exports, selectors, services
from screening.reports.charts import bar_chart
from screening.reports.forms import FunnelForm, log_filter_form
from trials.selectors import criteria_shown

SORT_COLUMNS = [
    ("recorded", gettext_lazy("Recorded")),
    ("number", gettext_lazy("Screening number")),
    ("decision", gettext_lazy("Decision")),
    ("screening_date", gettext_lazy("Screening date")),
    ("age", gettext_lazy("Age")),
    ("meld", gettext_lazy("MELD")),
]


def log(request, trial_slug):
    trial = trial_for(request, trial_slug, VIEW)
    form, filters = log_filter_form(request.GET, trial=trial)
    page = Paginator(
        selectors.decision_log(
            scope=scope_for(request.user), trial=trial, filters=filters
        ),
        50,
    ).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "screening/log.html",
        {
            "trial": trial,
            "form": form,
            "page": page,
            "filters": filters,
            "query": query.urlencode(),
            "sort_columns": SORT_COLUMNS,
        },
    )


def export_log(request, trial_slug):
    trial = trial_for(request, trial_slug, EXPORT)
    _form, filters = log_filter_form(request.GET, trial=trial)
    excel = request.GET.get("variant") == "excel"
    services.screening_log_export_record(
        trial=trial,
        user=request.user,
        export_format="excel-csv" if excel else "csv",
        filters=filters.as_dict(),
    )
    criteria_text = {c.code: c.localized_text[:80] for c in criteria_shown(trial=trial)}
    rows = exports.export_rows(
        selectors.decision_log(
            scope=scope_for(request.user), trial=trial, filters=filters
        ),
        criteria_text,
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    suffix = "-excel" if excel else ""
    response = StreamingHttpResponse(
        csv_stream(rows, excel=excel), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="screening-log-{trial.slug}-{stamp}{suffix}.csv"'
    )
    return response


def funnel(request, trial_slug):
    trial = trial_for(request, trial_slug, VIEW)
    form = FunnelForm(request.GET or None)
    dates = form.cleaned_data if form.is_bound and form.is_valid() else {}
    result = selectors.screening_funnel(
        scope=scope_for(request.user),
        trial=trial,
        date_from=dates.get("date_from"),
        date_to=dates.get("date_to"),
    )
    texts = {c.code: c.localized_text for c in criteria_shown(trial=trial)}
    chart = bar_chart([(code, n) for code, _kind, n in result.reasons])
    return render(
        request,
        "screening/funnel.html",
        {
            "trial": trial,
            "form": form,
            "funnel": result,
            "chart": chart,
            "reasons": [
                {"code": code, "kind": kind, "count": n, "text": texts.get(code, "")}
                for code, kind, n in result.reasons
            ],
        },
    )
