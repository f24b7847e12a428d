"""Rows evaluated in worker processes: the same output as in one process.

The ``prescreen`` command and the pre-screening job hand their rows to forked
workers (``screening/common/processes.py``) when a file is large; these tests
make "large" small and compare with the same file decided in one process.
"""

import csv
import gc
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from screening import synthetic
from screening.common.processes import fewer_collections, in_processes
from screening.management.commands import prescreen as command
from screening.prescreen.files import CSV_COLUMNS, csv_row_from_contract

pytestmark = pytest.mark.django_db


def _rows(count: int) -> list[dict]:
    """Synthetic candidates as CSV cells, with malformed cells in some rows."""
    rows = [csv_row_from_contract(data) for data in synthetic.candidates(count)]
    odd = ["１２３", "1,5", "< 0.05", "pending", "未做", "2030-01-01T08:00+08:00"]
    for index in range(0, count, 7):
        rows[index]["tbil"] = odd[index % len(odd)]
    for index in range(3, count, 11):
        rows[index]["date_of_birth"] = "2026-02-30"
    return rows


def _write(path, rows, *, extra: str = "") -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
        handle.write(extra)


def _run(path, *args) -> str:
    out = io.StringIO()
    call_command("prescreen", str(path), *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_the_command_writes_in_workers_what_it_writes_alone(
    tmp_path, trial, monkeypatch, fmt
):
    monkeypatch.setattr(command, "CHUNK_ROWS", 9)  # 10 chunks, 2 workers
    path = tmp_path / "candidates.csv"
    _write(path, _rows(85))
    alone = _run(path, "--format", fmt, "--jobs", "1")
    assert _run(path, "--format", fmt, "--jobs", "2") == alone
    if fmt == "json":
        results = json.loads(alone)
        assert [r["row"] for r in results] == list(range(1, 86))
        assert sum(r["decision"] is None for r in results) >= 13  # refused rows
    else:
        assert alone.count("\r\n") == 86


def test_a_problem_in_the_file_stops_workers_after_the_same_rows(
    tmp_path, trial, monkeypatch
):
    monkeypatch.setattr(command, "CHUNK_ROWS", 4)
    path = tmp_path / "candidates.csv"
    # Row 31 holds a cell longer than the csv module reads.
    _write(path, _rows(30), extra='01-9999,"' + "x" * 200_000 + '"\r\n')
    outputs = []
    for jobs in ("1", "2"):
        out = io.StringIO()
        with pytest.raises(CommandError, match="not a readable CSV file"):
            call_command(
                "prescreen", str(path), "--format", "csv", "--jobs", jobs, stdout=out
            )
        outputs.append(out.getvalue())
    assert outputs[0] == outputs[1]
    # The rows of the whole chunks read before the problem: 7 chunks of 4.
    assert outputs[0].count("\r\n") == 1 + 28


def _square(n: int) -> tuple[int, int]:
    return n * n, os.getpid()


def _niceness(_n: int) -> int:
    return os.nice(0)


def test_workers_can_run_at_a_lower_priority():
    mine = os.nice(0)
    assert set(in_processes(_niceness, ((n,) for n in range(6)), 2, nice=5)) == {
        min(mine + 5, 19)
    }
    assert set(in_processes(_niceness, ((n,) for n in range(6)), 2)) == {mine}
    assert os.nice(0) == mine


def _refuse(n: int) -> int:
    if n == 3:
        raise ValueError("three")
    return n


def test_in_processes_keeps_the_order_and_runs_elsewhere():
    results = list(in_processes(_square, ((n,) for n in range(20)), 2))
    assert [square for square, _pid in results] == [n * n for n in range(20)]
    assert os.getpid() not in {pid for _square, pid in results}
    alone = list(in_processes(_square, ((n,) for n in range(3)), 1))
    assert {pid for _square, pid in alone} == {os.getpid()}


def test_in_processes_yields_what_came_before_a_failing_source():
    def source():
        yield from ((n,) for n in range(5))
        raise OSError("the file went away")

    got = []
    with pytest.raises(OSError, match="went away"):
        for value in in_processes(_square, source(), 2):
            got.append(value[0])
    assert got == [0, 1, 4, 9, 16]


def test_in_processes_raises_a_workers_error_in_order():
    got = []
    with pytest.raises(ValueError, match="three"):
        for value in in_processes(_refuse, ((n,) for n in range(6)), 2):
            got.append(value)
    assert got == [0, 1, 2]


def test_fewer_collections_puts_the_collector_back():
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold()[0] == 50_000
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


STOPPED_EARLY = """
import signal
import time
from screening.common.processes import in_processes



class StopRequested(Exception):
    pass


def stop(signum, frame):
    raise StopRequested  # as RQ's worker does, for a warm shutdown


signal.signal(signal.SIGTERM, stop)
for _ in range(10):
    results = in_processes(time.sleep, ((0.05,) for n in range(10_000)), 2)
    assert next(results) is None
    results.close()  # the pool is terminated with the first results only read
print("closed")
"""


def test_workers_stop_when_the_caller_handles_sigterm():
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", STOPPED_EARLY],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, "closed\n"), done.stderr
