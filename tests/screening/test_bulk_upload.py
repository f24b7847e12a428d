"""A 10,000-row bulk upload: evaluated, shown, and the same results as prescreen."""

import csv
import io
import json
from http import HTTPStatus

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import override_settings

from screening import synthetic
from screening.models import EligibilityDecision, PrescreenUpload
from screening.prescreen.files import CSV_COLUMNS, csv_row_from_contract


# Evaluated while the page waits (above PRESCREEN_JOB_ROWS a job does it, with
# the same stored rows: tests/screening/test_prescreen_jobs.py).
@override_settings(PRESCREEN_JOB_ROWS=10_000)
def test_ten_thousand_rows_match_the_prescreen_command(
    client, coordinator, trial, tmp_path
):
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for data in synthetic.candidates(10_000):
        writer.writerow(csv_row_from_contract(data))
    content = text.getvalue().encode("utf-8")
    path = tmp_path / "candidates.csv"
    path.write_bytes(content)

    client.force_login(coordinator)
    response = client.post(
        f"/trials/{trial.slug}/prescreen/",
        {"file": SimpleUploadedFile("candidates.csv", content, "text/csv")},
    )
    assert response.status_code == HTTPStatus.FOUND
    upload = PrescreenUpload.unscoped.get()
    assert upload.row_count == 10_000

    page = client.get(response["Location"])
    assert page.status_code == HTTPStatus.OK
    assert sum(page.context["summary"].values()) == 10_000

    out = io.StringIO()
    call_command("prescreen", str(path), stdout=out)
    from_command = json.loads(out.getvalue())
    stored = [r.result for r in upload.results.order_by("row")]
    keys = ("row", "decision", "blocking", "missing", "meld", "tbil_max_rise_per_day")
    assert [{k: r.get(k) for k in keys} for r in stored] == [
        {k: r.get(k) for k in keys} for r in from_command
    ]

    download = client.get(f"/prescreen/{upload.pk}/results.csv")
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert len(rows) == 10_001
    assert [row[0] for row in rows[1:]] == [str(r["row"]) for r in from_command]
    assert not EligibilityDecision.unscoped.exists()
