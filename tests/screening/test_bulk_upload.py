"""A 10,000-row bulk upload: evaluated, shown, and the same results as prescreen."""

import csv
import io
from http import HTTPStatus

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from screening import synthetic
from screening.models import EligibilityDecision, PrescreenUpload
from screening.prescreen import CSV_COLUMNS, csv_row_from_contract


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
    upload = PrescreenUpload.objects.get()
    assert upload.row_count == 10_000

    page = client.get(response["Location"])
    assert page.status_code == HTTPStatus.OK
    assert sum(page.context["summary"].values()) == 10_000

    download = client.get(f"/prescreen/{upload.pk}/results.csv")
    from_page = b"".join(download.streaming_content).decode("utf-8")
    out = io.StringIO()
    call_command("prescreen", str(path), "--format", "csv", stdout=out)
    assert from_page == out.getvalue()
    assert not EligibilityDecision.objects.exists()
