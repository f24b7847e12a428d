"""Figures of a bench/load.sh run from locust's CSV files and the checks.

Prints a table per phase and, last, one JSON object. Called by load.sh only.
"""

import argparse
import csv
import json
import os
import sys
from pathlib import Path

PHASES = ("mixed", "capacity-submit", "capacity-reference", "capacity-floor", "fault")
SUBMISSION = "screen POST valid"
LOG_PAGES = ("log", "log filtered", "log sorted, page N")
TARGET_P95_MS = 100


def read_stats(work: Path, phase: str) -> dict[str, dict]:
    path = work / f"{phase}_stats.csv"
    if not path.exists():
        return {}
    pages = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Name"] == "Aggregated":
                continue
            pages[row["Name"]] = {
                "requests": int(row["Request Count"]),
                "errors": int(row["Failure Count"]),
                "rps": round(float(row["Requests/s"]), 2),
                "p50": _ms(row["50%"]),
                "p95": _ms(row["95%"]),
                "p99": _ms(row["99%"]),
            }
    return pages


def _ms(cell: str) -> float | None:
    return None if cell in ("", "N/A") else float(cell)


def read_counts(work: Path, phase: str) -> dict:
    path = work / f"{phase}-counts.json"
    counts = json.loads(path.read_text()) if path.exists() else {}
    counts.pop("accepted_numbers", None)
    recorded = work / f"{phase}-recorded"
    counts["recorded"] = int(recorded.read_text()) if recorded.exists() else None
    return counts


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--records", type=int, required=True)
    parser.add_argument("--records-after", type=int, required=True)
    parser.add_argument("--load-seconds", default="null")
    parser.add_argument("--screenings", type=int, required=True)
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--orphans", type=int, required=True)
    parser.add_argument("--audit", choices=["true", "false"], required=True)
    parser.add_argument("--killed", default="")
    parser.add_argument("--workers-after", type=int, required=True)
    parser.add_argument("--answers-after", default="")
    parser.add_argument("--floor-written", type=int, required=True)
    parser.add_argument("--floor-outcomes", type=int, required=True)
    args = parser.parse_args()

    stats = {phase: read_stats(args.work, phase) for phase in PHASES}
    counts = {phase: read_counts(args.work, phase) for phase in PHASES}
    for phase in PHASES:
        print(f"\n{phase} ({counts[phase]})")
        print(
            f"  {'page':30} {'reqs':>6} {'err':>4} {'rps':>7} "
            f"{'p50':>6} {'p95':>6} {'p99':>6}  (ms)"
        )
        for name, page in sorted(stats[phase].items()):
            print(
                f"  {name:30} {page['requests']:6} {page['errors']:4} "
                f"{page['rps']:7.2f} {page['p50']!s:>6} {page['p95']!s:>6} "
                f"{page['p99']!s:>6}"
            )

    mixed = stats["mixed"]
    errors = sum(p["errors"] for phase in PHASES[:4] for p in stats[phase].values())
    submit_rps = stats["capacity-submit"].get(SUBMISSION, {}).get("rps", 0)
    reference_rps = (
        stats["capacity-reference"].get("reference INSERT", {}).get("rps", 0)
    )
    floor = stats["capacity-floor"].get("floor submission", {})
    floor_rps = floor.get("rps", 0)
    fault = counts["fault"]
    fault_failed = stats["fault"].get(SUBMISSION, {}).get("errors", 0)
    consistent = {
        phase: counts[phase].get("recorded") == counts[phase].get("accepted")
        for phase in PHASES[:2]
    }
    fault_ok = (
        fault.get("recorded") is not None
        and 0 <= fault["recorded"] - fault.get("accepted", 0) <= fault_failed
    )
    submission_p95 = mixed.get(SUBMISSION, {}).get("p95")
    log_p95 = max(
        (mixed[name]["p95"] for name in LOG_PAGES if name in mixed), default=None
    )
    figures = {
        "bench": "load",
        "records": args.records,
        "records_after": args.records_after,
        "load_screenings": args.screenings,
        "load_seconds": None
        if args.load_seconds == "null"
        else float(args.load_seconds),
        "users": args.users,
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "pages": mixed,
        "capacity": {
            "submission_rps": submit_rps,
            "reference_rps": reference_rps,
            "ratio": round(submit_rps / reference_rps, 3) if reference_rps else None,
            "submission": stats["capacity-submit"].get(SUBMISSION),
            "reference": stats["capacity-reference"].get("reference INSERT"),
            "floor_rps": floor_rps,
            "ratio_to_floor": round(submit_rps / floor_rps, 3) if floor_rps else None,
            "floor": floor or None,
            # Every floor request answered wrote a decision and its 14 outcome
            # rows (locust's counts leave out requests still open at the end).
            "floor_written": args.floor_written,
            "floor_writes_complete": bool(floor)
            and args.floor_written >= floor.get("requests", 0) - floor.get("errors", 0)
            and args.floor_outcomes == 14 * args.floor_written,
        },
        "errors": errors,
        "decisions_recorded": counts["mixed"].get("recorded"),
        "accepted_submissions": counts["mixed"].get("accepted"),
        "capacity_recorded": counts["capacity-submit"].get("recorded"),
        "capacity_accepted": counts["capacity-submit"].get("accepted"),
        "decisions_match": all(consistent.values()),
        "fault": {
            "killed_worker": args.killed or None,
            "requests_failed": sum(p["errors"] for p in stats["fault"].values()),
            "submissions_failed": fault_failed,
            "recorded": fault.get("recorded"),
            "accepted": fault.get("accepted"),
            "recorded_minus_accepted_within_failed": fault_ok,
            "workers_after": args.workers_after,
            "answers_after": args.answers_after,
        },
        "decisions_without_14_outcomes": args.orphans,
        "audit_intact": args.audit == "true",
        "targets": {
            "submission_p95_lt_100ms": submission_p95 is not None
            and submission_p95 < TARGET_P95_MS,
            "log_p95_lt_100ms": log_p95 is not None and log_p95 < TARGET_P95_MS,
            "zero_errors": errors == 0,
            "half_reference_throughput": bool(reference_rps)
            and submit_rps >= reference_rps / 2,
        },
    }
    print()
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
