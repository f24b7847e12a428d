"""The screening log, its exports and the screening funnel."""

from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from accounts.scope import EXPORT, VIEW, scope_for, trial_for
from screening.common.paging import CappedPaginator
from screening.reports import exports, screening_log, selectors, services
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
EXPORT_FORMATS = ("csv", "xlsx")
# The log counts and pages through this many records at most: past it, the
# page says there are more (the filters narrow, the exports hold every record).
LOG_COUNT_CAP = 10_000


def log(request, trial_slug):
    trial = trial_for(request, trial_slug, VIEW)
    form, filters = log_filter_form(request.GET, trial=trial)
    page = CappedPaginator(
        selectors.decision_log(
            scope=scope_for(request.user), trial=trial, filters=filters
        ),
        50,
        cap=LOG_COUNT_CAP,
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
    """Every record of the log, filtered and sorted as the page: CSV or .xlsx."""
    return _export(request, trial_slug, screening_log.RECORDS_LOG)


def export_screening_log(request, trial_slug):
    """The subject screening log (受试者筛选入选表): CSV or .xlsx."""
    return _export(request, trial_slug, screening_log.SCREENING_LOG)


def _export(request, trial_slug, kind):
    trial = trial_for(request, trial_slug, EXPORT)
    file_format = request.GET.get("format") or "csv"
    if file_format not in EXPORT_FORMATS:
        return HttpResponseBadRequest(
            _("format: expected csv or xlsx, not %(value)s")
            % {"value": file_format[:20]}
        )
    _form, page_filters = log_filter_form(request.GET, trial=trial)
    filters = screening_log.filters_for(kind, page_filters)
    # A records CSV asked for Excel carries a byte order mark (and says so in
    # its logged format and name); the screening log's CSV, a sheet to hand
    # over, always does.
    for_excel = file_format == "csv" and request.GET.get("variant") == "excel"
    logged_format = "excel-csv" if for_excel and not kind.latest_only else file_format
    language = get_language()
    services.screening_log_export_record(
        trial=trial,
        user=request.user,
        export_format=kind.format_prefix + logged_format,
        filters={**filters.as_dict(), "language": language},
    )
    rows = screening_log.log_rows(
        screening_log.log_decisions(
            scope=scope_for(request.user), trial=trial, filters=filters, kind=kind
        ),
        kind,
        language=language,
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    stem = f"{kind.file_stem}-{trial.slug}-{language}-{stamp}"
    if file_format == "xlsx":
        return exports.xlsx_response(
            rows,
            filename=f"{stem}.xlsx",
            sheet_name=str(kind.title),
            print_title=f"{kind.title} · {trial.registry_id}",
        )
    suffix = "-excel" if logged_format == "excel-csv" else ""
    return exports.csv_response(
        rows, filename=f"{stem}{suffix}.csv", excel=for_excel or kind.latest_only
    )


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
