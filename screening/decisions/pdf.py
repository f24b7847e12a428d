"""The printed record as a PDF/A-3b, with the record's JSON attached.

The PDF is rendered by WeasyPrint from templates/screening/decision_pdf.html in
the request's language. Fonts come from the system through fontconfig (Noto Sans
CJK for Chinese, installed by the set-up; see README and .ci/run): nothing is
fetched over the network and no font is kept in the repository.
"""

import io
import json
import logging

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import get_language

from screening.audit import decision_content, signature_content
from screening.decisions.context import decision_view_context
from screening.labs.selectors import decision_sources
from screening.models import EligibilityDecision
from screening.reports.services import screening_log_export_record

# WeasyPrint reports each rendering step at INFO: not worth a log line each.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

EXPORT_FORMAT = "record-pdf"
ATTACHMENT_NAME = "record.json"


def record_json(record: EligibilityDecision) -> dict:
    """The decision's content as sealed (its SHA-256 is ``content_hash``), and more.

    ``decision`` is exactly what the hash chain seals, so a reader can check the
    attachment against the printed hash; the signature likewise.
    """
    signature = getattr(record, "signature", None)
    version = record.criteria_version
    return {
        "decision_id": record.pk,
        "decision": decision_content(record, list(record.outcomes.all())),
        "content_hash": record.content_hash,
        "criteria_version": (
            {"number": version.number, "label": version.label} if version else None
        ),
        "signature": (
            {
                **signature_content(signature),
                "content_hash": signature.content_hash,
            }
            if signature
            else None
        ),
    }


def record_pdf(request, record: EligibilityDecision) -> bytes:
    """The record, as the page shows it, as PDF/A-3b bytes in the active language."""
    # Imported here: WeasyPrint loads Pango when imported, which only this needs.
    from weasyprint import HTML, Attachment
    from weasyprint.urls import URLFetcher

    context = decision_view_context(request, record)
    context.update(
        {
            # Where each lab value came from, as the record page shows it.
            "lab_sources": decision_sources(decision=record),
            "language": get_language() or settings.LANGUAGE_CODE,
            "site_zone": settings.TIME_ZONE,
            "printed_at": timezone.now(),
        }
    )
    html = render_to_string("screening/decision_pdf.html", context, request=request)
    data = json.dumps(
        record_json(record), ensure_ascii=False, indent=2, sort_keys=True
    ).encode("utf-8")
    attachment = Attachment(
        file_obj=io.BytesIO(data),
        name=ATTACHMENT_NAME,
        description="Eligibility decision record (content sealed by its hash)",
        relationship="Data",
        created=record.recorded_at,
        modified=record.recorded_at,
    )
    return HTML(
        # The print template is self-contained: no URL of any kind is fetched.
        string=html,
        url_fetcher=URLFetcher(allowed_protocols=()),
    ).write_pdf(
        pdf_variant="pdf/a-3b",
        attachments=[attachment],
    )


def record_pdf_response(request, record: EligibilityDecision) -> HttpResponse:
    """The PDF as a download named by the record's opaque id; logged as an export."""
    pdf = record_pdf(request, record)
    screening_log_export_record(
        trial=record.trial,
        user=request.user,
        export_format=EXPORT_FORMAT,
        filters={"decision": record.pk, "language": get_language()},
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    # No screening number in the file name: it ends up in download folders.
    response["Content-Disposition"] = (
        f'attachment; filename="screening-record-{record.pk}.pdf"'
    )
    response["Cache-Control"] = "no-store"
    return response
