"""``manage.py prescreen`` end to end over generated CSV files.

Writes 10,000- and 100,000-row CSV files of varied synthetic candidates (the
columns of ``screening.prescreen.CSV_COLUMNS``), makes a throw-away SQLite
database with the trial loaded, then runs ``manage.py prescreen FILE --format
csv`` in a subprocess per file, as an operator would. Prints rows per second,
the command's own peak RSS (from ``wait4``), and checks that every row came out.
Memory that does not grow with the file shows as the same peak RSS for 10x the
rows. The last line printed is one JSON object.

    .venv/bin/python bench/prescreen.py [--rows 100000] [--small 10000] [--runs 3]
"""

import argparse
import csv
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from screening import synthetic  # noqa: E402
from screening.prescreen.files import CSV_COLUMNS, csv_row_from_contract  # noqa: E402

TARGET_SECONDS = 10


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for data in synthetic.candidates(rows, start=date(2026, 11, 1)):
            writer.writerow(csv_row_from_contract(data))


def run_prescreen(path: Path, out: Path, env: dict) -> dict:
    """One ``manage.py prescreen`` run: seconds, peak RSS in MiB, rows out."""
    command = [sys.executable, "manage.py", "prescreen", str(path), "--format", "csv"]
    with out.open("w", encoding="utf-8") as stdout:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=stdout)
        # wait4 gives this child's own rusage (RUSAGE_CHILDREN would mix in
        # migrate and load_trial).
        _pid, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 0, f"prescreen exited {process.returncode}"
    decisions: dict[str, int] = {}
    with out.open(encoding="utf-8", newline="") as handle:
        for result in csv.DictReader(handle):
            decisions[result["decision"]] = decisions.get(result["decision"], 0) + 1
    # ru_maxrss is in KiB on Linux.
    return {
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_rss_mib": usage.ru_maxrss / 1024,
        "decisions": decisions,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-prescreen-"))
    try:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
        }
        for step in (["migrate", "--noinput", "-v0"], ["load_trial"]):
            subprocess.run(
                [sys.executable, "manage.py", *step],
                cwd=ROOT,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
        sizes = {"small": args.small, "large": args.rows}
        results: dict[str, list[dict]] = {}
        for label, rows in sizes.items():
            start = time.perf_counter()
            path = work / f"candidates-{rows}.csv"
            write_csv(path, rows)
            print(
                f"wrote {rows:,} rows ({path.stat().st_size / 2**20:.1f} MiB) "
                f"in {time.perf_counter() - start:.1f} s",
                flush=True,
            )
            results[label] = []
            for run in range(args.runs):
                result = run_prescreen(path, work / "out.csv", env)
                assert sum(result["decisions"].values()) == rows, result
                results[label].append(result)
                print(
                    f"{label} run {run + 1}: {rows:,} rows in "
                    f"{result['seconds']:.2f} s ({rows / result['seconds']:,.0f} "
                    f"rows/s, {result['cpu_seconds']:.2f} s CPU), peak RSS "
                    f"{result['peak_rss_mib']:.1f} MiB",
                    flush=True,
                )
            path.unlink()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def median(label, key):
        return statistics.median(r[key] for r in results[label])

    large_s = median("large", "seconds")
    large_rss, small_rss = (
        median("large", "peak_rss_mib"),
        median("small", "peak_rss_mib"),
    )
    figures = {
        "bench": "prescreen",
        "rows": args.rows,
        "runs": args.runs,
        "seconds": round(large_s, 2),
        "rows_per_s": round(args.rows / large_s),
        "cpu_seconds": round(median("large", "cpu_seconds"), 2),
        "peak_rss_mib": round(large_rss, 1),
        "small_rows": args.small,
        "small_seconds": round(median("small", "seconds"), 2),
        "small_peak_rss_mib": round(small_rss, 1),
        "rss_growth_mib": round(large_rss - small_rss, 1),
        "decisions": results["large"][0]["decisions"],
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "self_rusage_children_maxrss_mib": round(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1
        ),
        "target_met": large_s < TARGET_SECONDS and large_rss - small_rss < 10,
    }
    print(
        f"median of {args.runs}: {args.rows:,} rows in {large_s:.2f} s "
        f"({figures['rows_per_s']:,} rows/s), peak RSS {large_rss:.1f} MiB "
        f"({args.small:,} rows: {small_rss:.1f} MiB)"
    )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
