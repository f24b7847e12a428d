"""pyinstrument profiles of the slowest paths: the engine and the submission.

- engine: ``parse_candidate`` + ``derive`` + ``evaluate`` over synthetic
  candidates (as bench/engine.py's ``app`` path);
- submission: valid screening form POSTs through Django's test client, the
  whole request (middleware, form, service, one transaction), on a throw-away
  SQLite database by default or on ``DATABASE_URL`` when set (a database with
  the trial and demo users loaded, e.g. one kept by ``BENCH_KEEP_DB=1``).

Prints each profile as text; the last line is one JSON object with the
milliseconds per candidate and per submission.

    .venv/bin/python bench/profile.py [--candidates 5000] [--submissions 100]
"""

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def profile_engine(count: int) -> float:
    import engine as bench_engine
    from pyinstrument import Profiler

    specs = bench_engine.criteria_specs()
    records = bench_engine.varied_candidates(count, seed=7)
    profiler = Profiler(interval=0.0005)
    start = time.process_time()
    profiler.start()
    bench_engine.app_path(specs, records)
    profiler.stop()
    seconds = time.process_time() - start
    print(profiler.output_text(color=False, show_all=False, short_mode=False))
    return seconds / count * 1000


def profile_submission(count: int) -> float:
    work = None
    if not os.environ.get("DATABASE_URL"):
        work = Path(tempfile.mkdtemp(prefix="bench-profile-"))
        os.environ["DATABASE_URL"] = f"sqlite:///{work / 'profile.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("DEMO_PASSWORD", "bench-only-demo-password")
    try:
        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from django.core.management import call_command
        from django.test import Client
        from pyinstrument import Profiler
        from submissions import SCREEN, valid_post

        if work is not None:
            call_command("migrate", verbosity=0, interactive=False)
            call_command("load_trial", stdout=open(os.devnull, "w"))  # noqa: SIM115
            call_command("demo_data", stdout=open(os.devnull, "w"))  # noqa: SIM115
        client = Client()
        client.force_login(get_user_model().objects.get(username="demo-coordinator"))
        rng = random.Random(3)
        first = 900000 + rng.randint(0, 90000)
        posts = [
            valid_post(f"{n // 10000:02d}-{n % 10000:04d}", rng)
            for n in range(first, first + count + 1)
        ]
        assert client.post(SCREEN, posts.pop()).status_code == 302  # warm up
        profiler = Profiler(interval=0.0005)
        start = time.perf_counter()
        profiler.start()
        for data in posts:
            response = client.post(SCREEN, data)
            assert response.status_code == 302, response.status_code
        profiler.stop()
        seconds = time.perf_counter() - start
        print(profiler.output_text(color=False, show_all=False, short_mode=False))
        return seconds / count * 1000
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=5000)
    parser.add_argument("--submissions", type=int, default=100)
    args = parser.parse_args()
    engine_ms = profile_engine(args.candidates)
    submission_ms = profile_submission(args.submissions)
    print(
        json.dumps(
            {
                "bench": "profile",
                "engine_app_ms_per_candidate": round(engine_ms, 3),
                "submission_ms": round(submission_ms, 2),
                "loadavg_1m": round(os.getloadavg()[0], 2),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
