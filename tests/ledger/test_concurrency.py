"""Concurrent writers on PostgreSQL: each chain stays contiguous and verifies."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from accounts import roles
from screening.decisions.services import decision_record
from screening.ledger.models import LedgerEntry, LedgerHead
from screening.ledger.services import ledger_append
from screening.reports.services import screening_log_export_record
from tests.factories import UserFactory, eligible_candidate
from tests.ledger.conftest import verify

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs concurrent writers (PostgreSQL)"
)


def run_at_once(calls) -> list:
    barrier = threading.Barrier(len(calls))
    results = []

    def run(call):
        try:
            barrier.wait()
            results.append(call())
        except ValidationError as error:
            results.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_decisions_and_exports_at_once_keep_one_contiguous_chain(
    transactional_audit_db, trial
):
    users = [UserFactory(username=f"w{i}", role=roles.COORDINATOR) for i in range(8)]

    def screen(user, number):
        return lambda: decision_record(
            trial=trial, data=eligible_candidate(screening_number=number), user=user
        )

    def export(user):
        return lambda: screening_log_export_record(
            trial=trial, user=user, export_format="csv", filters={}
        )

    calls = [screen(u, f"04-{i:03d}") for i, u in enumerate(users[:4])]
    calls += [export(u) for u in users[4:]]
    results = run_at_once(calls)
    assert not [r for r in results if isinstance(r, Exception)]
    chain = f"trial:{trial.pk}"
    sequences = list(
        LedgerEntry.objects.filter(chain=chain)
        .order_by("sequence")
        .values_list("sequence", flat=True)
    )
    assert sequences == list(range(1, len(sequences) + 1))
    assert LedgerHead.objects.get(chain=chain).sequence == len(sequences)
    assert "Audit ledger intact" in verify()


def test_first_appends_to_a_new_chain_at_once_create_one_head(transactional_audit_db):
    def append(pk):
        return lambda: ledger_append(
            chain="concurrency-test",
            kind=LedgerEntry.Kind.ACCESS,
            object_table="concurrency_test",
            object_pk=pk,
            content={"row": {"id": pk}, "users": {}},
        )

    run_at_once([append(pk) for pk in range(1, 7)])
    entries = LedgerEntry.objects.filter(chain="concurrency-test").order_by("sequence")
    assert [e.sequence for e in entries] == [1, 2, 3, 4, 5, 6]
    links = [e.previous_mac for e in entries[1:]]
    assert links == [e.mac for e in entries[:5]]
    assert LedgerHead.objects.filter(chain="concurrency-test").count() == 1
