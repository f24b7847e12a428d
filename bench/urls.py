"""The project's URLs plus the reference view of the load benchmark."""

import hashlib
import hmac
import json
from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection, transaction
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.urls import urlpatterns as project_urlpatterns


@login_not_required
@csrf_exempt
@require_POST
def reference_insert(request):
    """One INSERT into the bench table (made by bench/load.sh), nothing else.

    What this server can do per request through the same middleware: the
    floor for the screening submission's throughput.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_reference (payload) VALUES (%s)",
            [request.POST.get("payload", "")[:64]],
        )
    return HttpResponse("ok", content_type="text/plain")


# One decision of the loaded trial and its outcome rows, read once per process:
# what the floor writes again and again (bench/load.sh makes the tables).
_TEMPLATE: dict = {}


def _template(cursor) -> dict:
    if not _TEMPLATE:
        cursor.execute(
            "SELECT * FROM screening_eligibilitydecision ORDER BY id DESC LIMIT 1"
        )
        columns = [c.name for c in cursor.description]
        decision = dict(zip(columns, cursor.fetchone(), strict=True))
        cursor.execute(
            "SELECT * FROM screening_criterionoutcome WHERE decision_id = %s "
            "ORDER BY position",
            [decision["id"]],
        )
        outcome_columns = [c.name for c in cursor.description]
        outcomes = [dict(zip(outcome_columns, row, strict=True)) for row in cursor]
        # JSON columns come back as Python values; psycopg writes them as jsonb
        # again through the JSON dumper below.
        del decision["id"]
        # A first screening: a correction's link is one-to-one (unique).
        decision.update(supersedes_id=None, supersede_reason="")
        for outcome in outcomes:
            del outcome["id"], outcome["decision_id"]
        _TEMPLATE.update(decision=decision, outcomes=outcomes)
    return _TEMPLATE


def _jsonable(value):
    from psycopg.types.json import Jsonb

    return Jsonb(value) if isinstance(value, dict | list) else value


@login_not_required
@csrf_exempt
@require_POST
def floor_submission(request):
    """What one screening submission must write, in raw SQL, nothing else.

    One transaction on the bench tables (copies of the decision and outcome
    tables with their indexes, made by bench/load.sh): lock the bench chain's
    row, read the head, HMAC the decision's content with the link, insert the
    decision and its outcome rows in one statement each. No login, no form, no
    evaluation: the floor of the submission's write path on this server.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        template = _template(cursor)
        cursor.execute("SELECT 1 FROM bench_chain WHERE id = 1 FOR UPDATE")
        cursor.execute(
            "SELECT sequence, content_hash FROM bench_decision WHERE trial_id = %s "
            "ORDER BY sequence DESC LIMIT 1",
            [template["decision"]["trial_id"]],
        )
        head = cursor.fetchone() or (0, "0" * 64)
        sequence = head[0] + 1
        row = {
            **template["decision"],
            "sequence": sequence,
            # Unique as the position is: the number is taken under the lock.
            "screening_number": f"F{sequence}",
            "previous_hash": head[1],
            "recorded_at": datetime.now(UTC),
        }
        # The canonical content with its link, serialised and keyed per request.
        message = json.dumps(
            [row, template["outcomes"]],
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            default=str,
        ).encode()
        key = settings.AUDIT_HMAC_KEY.encode()
        row["content_hash"] = hmac.new(key, message, hashlib.sha256).hexdigest()
        names = list(row)
        cursor.execute(
            f"INSERT INTO bench_decision ({', '.join(names)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(names))}) RETURNING id",
            [_jsonable(row[name]) for name in names],
        )
        decision_id = cursor.fetchone()[0]
        outcome_names = ["decision_id", *template["outcomes"][0]]
        values = ", ".join(
            ["(" + ", ".join(["%s"] * len(outcome_names)) + ")"]
            * len(template["outcomes"])
        )
        cursor.execute(
            f"INSERT INTO bench_outcome ({', '.join(outcome_names)}) "  # noqa: S608
            f"VALUES {values}",
            [
                _jsonable(value)
                for outcome in template["outcomes"]
                for value in (decision_id, *outcome.values())
            ],
        )
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench/reference/", reference_insert, name="bench_reference"),
    path("bench/floor-submission/", floor_submission, name="bench_floor"),
    *project_urlpatterns,
]
