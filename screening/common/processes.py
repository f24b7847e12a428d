"""CPU-bound work over many rows: in worker processes, in order, memory bounded.

Used by the ``prescreen`` command and the pre-screening job. The workers are
forked, so they start with what the caller set up (the criteria, today's date)
without its being sent; they never touch the database. The caller's database
connections stay open (closing them would end a caller's transaction); a forked
worker leaves through ``os._exit``, so it never closes the inherited sockets
either. A worker does not keep the signal handlers of the process that forked
it (a job worker's graceful shutdown): the pool's SIGTERM ends it, and Ctrl+C
is the caller's to handle.
"""

import gc
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import islice


def numbered_batches(
    records: Iterable, size: int, *, first_row: int = 1
) -> Iterator[tuple[int, list]]:
    """(number of the first row, up to ``size`` records), in order."""
    records = iter(records)
    while batch := list(islice(records, size)):
        yield first_row, batch
        first_row += len(batch)


def in_processes(
    function: Callable, arguments: Iterable[tuple], processes: int, *, nice: int = 0
) -> Iterator:
    """``function(*args)`` for each args, in that order, in ``processes`` workers.

    At most two calls a worker are waiting or running at any time, so neither
    the arguments nor the results pile up. When ``arguments`` raises, the
    results of the calls made before it are yielded first, then it is raised.
    With one process, the calls run here, one after the other. ``nice``: how
    much lower the workers' scheduling priority is than the caller's (work in
    the background leaves the cores to the pages people are waiting for).
    """
    if processes <= 1:
        for args in arguments:
            yield function(*args)
        return
    context = multiprocessing.get_context("fork")
    with context.Pool(processes, initializer=_started, initargs=(nice,)) as pool:
        pending = deque()
        try:
            for args in arguments:
                pending.append(pool.apply_async(function, args))
                if len(pending) > 2 * processes:
                    yield pending.popleft().get()
        except Exception:
            while pending:
                yield pending.popleft().get()
            raise
        while pending:
            yield pending.popleft().get()


def _started(nice: int) -> None:
    if nice:
        os.nice(nice)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def fewer_collections():
    """The garbage collector set for a run of rows, then as it was.

    A row makes thousands of short-lived objects and next to no reference
    cycles: the collector runs after 50,000 allocations instead of 700, and
    never walks the objects loaded at start-up (frozen; forked workers inherit
    both). On a 10,000-row file, collections took about a tenth of the time.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
