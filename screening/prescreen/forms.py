"""The pre-screening upload form: the file is read and checked here."""

import io

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from screening.prescreen import files as bulk

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
            rows = _row_count(content, fmt)
            # A larger file is read by its background job, not while the page waits.
            records = (
                list(bulk.uploaded_candidates(content, fmt=fmt))
                if rows <= settings.PRESCREEN_JOB_ROWS
                else None
            )
        except bulk.UnreadableFile as exc:
            raise forms.ValidationError(
                UNREADABLE.get(exc.code, _("The file cannot be read.")),
                code=exc.code,
                params={"names": ", ".join(exc.names)},
            ) from None
        if not rows:
            raise forms.ValidationError(_("The file has no candidates."), code="empty")
        if rows > settings.PRESCREEN_MAX_ROWS:
            raise forms.ValidationError(
                _("The file has more than %(limit)s rows; split it."),
                code="too_many_rows",
                params={"limit": settings.PRESCREEN_MAX_ROWS},
            )
        self.rows = rows
        # records is None for a file evaluated as a background job.
        self.parsed = (fmt, content, records)
        return upload


def _row_count(content: bytes, fmt: str) -> int:
    """The file's candidates, counted: the whole file is read and checked
    (encoding, header, CSV syntax), but no row is turned into a candidate."""
    text = bulk.decode(content)
    if fmt == "json":
        return len(bulk.json_records(text))
    _columns, rows = bulk.csv_rows(io.StringIO(text, newline=""))
    return sum(1 for _cells in rows)


class PurgeForm(forms.Form):
    """The reason a mistaken upload is purged: required, kept in its tombstone."""

    reason = forms.CharField(
        label=_("Reason for the purge"),
        max_length=2000,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "The file and its rows are removed for good; who purged it, when, why "
            "and the file's SHA-256 are kept."
        ),
        error_messages={"required": _("Give the reason for the purge.")},
    )
