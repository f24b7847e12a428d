"""A 100,000-row pre-screening upload as a background job, then its results page.

Temp SQLite database (or DATABASE_URL's, migrated, never dropped): the file is
posted to the upload page, the database worker runs the job in its own process
(timed) while another user's log page is timed, against the same page timed
before the job; then the results page is opened on its first and last page and with a
decision filter (each timed, with its query count). Ends with one JSON line.

    .venv/bin/python bench/prescreen_job.py [--rows 100000]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]


def _timed(client, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return time.perf_counter() - started


def _ms(samples: list[float], percentile: int) -> float | None:
    if not samples:
        return None
    ordered = sorted(samples)
    index = min(len(ordered) - 1, round(percentile / 100 * (len(ordered) - 1)))
    return round(ordered[index] * 1000, 1)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-job-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{work / 'bench.sqlite3'}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["AXES_ENABLED"] = "false"
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    import django

    django.setup()
    import prescreen as bench_prescreen
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from accounts import roles
    from screening.models import BackgroundJob
    from tests.factories import UserFactory, member_of_every_trial
    from trials.services import trial_load_protocol

    call_command("migrate", verbosity=0)
    trial, _created = trial_load_protocol()
    user = UserFactory(username=f"bench-{os.getpid()}", role=roles.COORDINATOR)
    member_of_every_trial(user, roles.COORDINATOR)
    path = work / "rows.csv"
    bench_prescreen.write_csv(path, args.rows)
    client = Client()
    client.force_login(user)

    started = time.perf_counter()
    response = client.post(
        reverse("screening:prescreen", args=[trial.slug]),
        {"file": SimpleUploadedFile("rows.csv", path.read_bytes())},
    )
    upload_s = time.perf_counter() - started
    if "Location" not in response:
        sys.exit(f"the upload was refused: {response.content.decode()[:3000]}")
    job = BackgroundJob.unscoped.get(
        pk=int(response["Location"].rstrip("/").split("/")[-1])
    )
    # Another user's page (the screening log), timed before the job and while
    # the worker runs it in its own process, as `make run` starts it.
    log_url = reverse("screening:log", args=[trial.slug])
    monitor = Client()
    monitor.force_login(user)
    idle = [_timed(monitor, log_url) for _ in range(20)]
    started = time.perf_counter()
    worker = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "db_worker", "--batch",
         "--no-startup-delay", "--interval", "0", "--no-reload"],
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    during = []
    while worker.poll() is None:
        during.append(_timed(monitor, log_url))
        time.sleep(0.5)
    job_s = time.perf_counter() - started
    job.refresh_from_db()
    assert job.state == "DONE", (job.state, job.error)
    url = reverse("screening:prescreen_results", args=[job.output_id])
    client.get(url)
    pages = {}
    for name, query in (
        ("first", ""),
        ("last", f"?page={(args.rows + 99) // 100}"),
        ("ineligible_p50", "?show=INELIGIBLE&page=50"),
    ):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            page = client.get(url + query)
            seconds = time.perf_counter() - started
        assert page.status_code == 200
        pages[name] = {"s": round(seconds, 3), "queries": len(captured)}
        print(f"results page {name}: {seconds:.3f} s, {len(captured)} queries")
    figures = {
        "bench": "prescreen_job",
        "rows": args.rows,
        "vendor": connection.vendor,
        "upload_request_s": round(upload_s, 2),
        "job_s": round(job_s, 1),
        "rows_per_s": round(args.rows / job_s),
        "results_page": pages,
        "other_page_ms": {
            "idle_p50": _ms(idle, 50),
            "idle_p95": _ms(idle, 95),
            "during_job_p50": _ms(during, 50),
            "during_job_p95": _ms(during, 95),
            "during_job_requests": len(during),
        },
        "loadavg_1m": os.getloadavg()[0],
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
