"""Pages at 100,000 and 1,000,000 decisions on PostgreSQL: p50/p95 and growth.

Creates a bench database (dropped at the end unless --keep), migrates it, loads
the trial and the demo users, then for each size loads decisions with
``demo_data --bulk`` (the service's evaluation, hashes, chain and ledger
entries, in batches) up to that size, VACUUMs and ANALYZEs, and times each page with the
Django test client (in process: no network, the whole view, template and
middleware). The export is timed to its first streamed chunk. For the slowest
page at the largest size, its slowest query is run again under
EXPLAIN (ANALYZE, BUFFERS). Ends with one JSON line.

    .venv/bin/python bench/pages.py --sizes 100000,1000000 [--runs 15]
        [--pg postgres://postgres@127.0.0.1:5432] [--db bench_pages] [--keep]
    .venv/bin/python bench/pages.py --rate 20000   # the load rate only
    .venv/bin/python bench/pages.py --sizes 1000000 --reuse --db bench_pages
        # times an earlier --keep's database again (migrated, topped up to the
        # size), e.g. after a change to the pages: no reload of a million records
    BENCH_DB=bench_pages DEMO_PASSWORD="bench pages passphrase 7" \
    AUDIT_HMAC_KEY=test-only-not-secret-audit-key-0123456789abcdef \
    AUDIT_HMAC_KEY_ID=test bash bench/load.sh
        # the load benchmark on a kept database (sealed under the test key)
"""

import argparse
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]


def _admin_sql(pg: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(f"{pg}/postgres", autocommit=True) as conn:
        conn.execute(statement)


def _quantiles(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return round(p50 * 1000, 1), round(p95 * 1000, 1)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--rate", type=int, default=0, help="only time a load of N")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="bench_pages")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--reuse", action="store_true", help="time the kept --db again (implies --keep)"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")] if not args.rate else []
    args.keep = args.keep or args.reuse

    if not args.reuse:
        _admin_sql(args.pg, f'DROP DATABASE IF EXISTS "{args.db}"')
        _admin_sql(args.pg, f'CREATE DATABASE "{args.db}"')
    os.environ["DATABASE_URL"] = f"{args.pg}/{args.db}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["AXES_ENABLED"] = "false"
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("DEMO_PASSWORD", "bench pages passphrase 7")
    try:
        import django

        django.setup()
        result = run(args, sizes)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            _admin_sql(args.pg, f'DROP DATABASE IF EXISTS "{args.db}"')
    print(json.dumps(result))
    return 0


def _demo_passwords(*, production: bool) -> None:
    """The demo users' passwords hashed by these settings' hasher (the test
    settings' fast one, which ``demo_data`` checks when it signs), or, at the
    end, as production hashes them (PBKDF2), so that a kept database also
    serves ``BENCH_DB=... bash bench/load.sh`` (bench.settings)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password

    hasher = PBKDF2PasswordHasher()
    password = os.environ["DEMO_PASSWORD"]
    for user in get_user_model().objects.filter(username__startswith="demo-"):
        if production:
            user.password = hasher.encode(password, hasher.salt())
        else:
            user.password = make_password(password)
        user.save(update_fields=["password"])


def run(args, sizes: list[int]) -> dict:
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from screening.models import CriterionOutcome, EligibilityDecision
    from trials.services import trial_load_protocol

    call_command("migrate", verbosity=0)
    trial, _created = trial_load_protocol()
    _demo_passwords(production=False)
    call_command("demo_data", stdout=io.StringIO())
    loaded = EligibilityDecision.objects.system().filter(trial=trial).count()
    if sizes and loaded > sizes[0]:
        raise SystemExit(f"{args.db} holds {loaded} decisions, more than {sizes[0]}")

    def load(upto: int) -> dict:
        nonlocal loaded
        if upto == loaded:
            _vacuum()
            return {"seconds": 0, "per_s": None, "reused": True}
        started = time.perf_counter()
        call_command(
            "demo_data",
            "--screenings",
            str(upto - loaded),
            "--bulk",
            "--batch",
            str(args.batch),
            "--trial",
            trial.slug,
            stdout=io.StringIO(),
        )
        seconds = time.perf_counter() - started
        rate = (upto - loaded) / seconds
        loaded = upto
        _vacuum()
        print(
            f"loaded {upto}: {seconds:.0f} s, {rate:.0f} decisions/s, "
            f"load average {os.getloadavg()[0]:.1f}",
            file=sys.stderr,
        )
        return {"seconds": round(seconds, 1), "per_s": round(rate)}

    def _vacuum():
        # What autovacuum does to an insert-only table in a running system:
        # statistics, and the visibility map that lets counts read an index
        # alone (an analyzed but never vacuumed table scans its rows).
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

    if args.rate:
        figures = load(args.rate)
        _demo_passwords(production=True)
        return {"bench": "pages", "load_only": args.rate, **figures}

    investigator, monitor = Client(), Client()
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    investigator.force_login(users.get(username="demo-investigator"))
    monitor.force_login(users.get(username="demo-monitor"))
    slug = trial.slug

    def pages(size: int) -> dict:
        # A record in the middle of the chain, and a blocking criterion it has.
        middle = (
            EligibilityDecision.objects.system()
            .filter(trial=trial, sequence=size // 2)
            .values_list("pk", flat=True)
            .get()
        )
        # The same criterion at every size (the first code that blocks).
        code = (
            CriterionOutcome.objects.filter(blocking=True)
            .order_by("code")
            .values_list("code", flat=True)
            .first()
        )
        print(f"{size} log_by_blocking filters on {code}", file=sys.stderr)
        log = reverse("screening:log", args=[slug])
        return {
            "log": (investigator, log),
            "log_by_decision": (investigator, f"{log}?outcome=INELIGIBLE"),
            "log_by_blocking": (investigator, f"{log}?blocking={code}"),
            "log_by_meld": (investigator, f"{log}?sort=-meld"),
            "record": (investigator, reverse("screening:decision", args=[middle])),
            "candidate": (investigator, reverse("screening:candidate", args=[middle])),
            "worklist": (investigator, reverse("screening:worklist", args=[slug])),
            "sign_queue": (investigator, reverse("screening:sign_queue", args=[slug])),
            "funnel": (investigator, reverse("screening:funnel", args=[slug])),
            "export_start": (monitor, reverse("screening:export", args=[slug])),
        }

    def fetch(client, url):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        if response.streaming:
            # The start of the stream: the header row and the first rows.
            first = next(iter(response.streaming_content))
            response.close()
            return len(first)
        return len(response.content)

    results, loads = {}, {}
    for size in sizes:
        loads[size] = load(size)
        timings = {}
        for name, (client, url) in pages(size).items():
            fetch(client, url)  # warm: caches, plans
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                fetch(client, url)
                times.append(time.perf_counter() - started)
            with CaptureQueriesContext(connection) as queries:
                fetch(client, url)
            p50, p95 = _quantiles(times)
            slowest = max(queries.captured_queries, key=lambda q: float(q["time"]))
            timings[name] = {
                "p50_ms": p50,
                "p95_ms": p95,
                "queries": len(queries.captured_queries),
                "slowest_query_ms": round(float(slowest["time"]) * 1000, 1),
                "_sql": slowest["sql"],
            }
            print(f"{size} {name}: p50 {p50} ms, p95 {p95} ms", file=sys.stderr)
        results[size] = timings

    _demo_passwords(production=True)
    largest, smallest = sizes[-1], sizes[0]
    worst = max(results[largest], key=lambda n: results[largest][n]["p95_ms"])
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + results[largest][worst]["_sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    print(f"EXPLAIN of {worst}'s slowest query at {largest}:\n{plan}", file=sys.stderr)
    growth = {
        name: {
            "p50": round(results[largest][name]["p50_ms"] / t["p50_ms"], 2),
            "p95": round(results[largest][name]["p95_ms"] / t["p95_ms"], 2),
        }
        for name, t in results[smallest].items()
    }
    for timings in results.values():
        for t in timings.values():
            t.pop("_sql")
    return {
        "bench": "pages",
        "sizes": sizes,
        "load": {str(k): v for k, v in loads.items()},
        "pages": {str(k): v for k, v in results.items()},
        "growth": growth,
        "slowest_page": worst,
        "explain_page": worst,
        "load_average": round(os.getloadavg()[0], 1),
    }


if __name__ == "__main__":
    raise SystemExit(main())
