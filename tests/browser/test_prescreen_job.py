"""A file over the job threshold: its page's progress bar follows the worker to done."""

import re

import pytest
from django.test import override_settings
from playwright.sync_api import expect

from screening.models import BackgroundJob, PrescreenUpload
from screening.prescreen.tasks import PrescreenJob
from tests.browser.conftest import login, screenshot
from tests.browser.helpers import assert_fits
from tests.screening.test_prescreen_jobs import WorkerKilled, content, run_worker

pytestmark = pytest.mark.browser

ROWS = 20


@override_settings(PRESCREEN_JOB_ROWS=10, JOBS_CHUNK_ROWS=5, JOBS_STALE_SECONDS=0)
def test_a_large_upload_shows_its_progress_until_its_results(
    page, trial, coordinator, password, monkeypatch
):
    login(page, "coordinator", password)
    page.goto(f"{page.base_url}/trials/{trial.slug}/prescreen/")
    page.set_input_files(
        "#prescreen-form input[type=file]",
        files=[{"name": "大文件.csv", "mimeType": "text/csv", "buffer": content(ROWS)}],
    )
    page.click("#prescreen-form button[type=submit]")
    page.wait_for_url(re.compile(r"/prescreen/jobs/\d+/$"))
    job = BackgroundJob.unscoped.get()
    assert page.get_attribute("#job-progress", "aria-valuenow") == "0"

    # A worker that stops after its first two chunks: the bar shows half.
    original, chunks = PrescreenJob.write_chunk, []

    def stops_after_two(self, job, items):
        if len(chunks) == 2:
            raise WorkerKilled
        chunks.append(len(items))
        original(self, job, items)

    monkeypatch.setattr(PrescreenJob, "write_chunk", stops_after_two)
    with override_settings(JOBS_STALE_SECONDS=3600):
        run_worker()
        expect(page.locator("#job-count")).to_have_text(re.compile(r"^10 of 20 "))
    assert page.get_attribute("#job-progress", "aria-valuenow") == "50"
    assert (
        page.locator("#job-progress .progress-bar").evaluate("bar => bar.style.width")
        == "50%"
    )
    assert_fits(page)
    screenshot(page, "prescreen-job-progress")

    # Stalled (JOBS_STALE_SECONDS=0): the page's next poll queues it again and
    # the next worker finishes it; the page opens the results.
    monkeypatch.undo()
    expect(page.locator("#job-state")).to_have_text(re.compile(r"^Queued"))
    with override_settings(JOBS_STALE_SECONDS=3600):
        run_worker()
        page.wait_for_url(re.compile(r"/prescreen/\d+/$"))
    job.refresh_from_db()
    assert (job.state, job.done, job.attempts) == ("DONE", ROWS, 2)
    upload = PrescreenUpload.unscoped.get(pk=job.output_id)
    assert upload.row_count == ROWS
    assert page.locator("#prescreen-results tbody tr").count() == ROWS
    screenshot(page, "prescreen-job-results")
