"""``manage.py prescreen FILE``: candidates in, the JSON or CSV contract out.

The file is streamed (a CSV file is never held whole in memory) and its rows
are decided in order. A large file (``LARGE_FILE_BYTES`` or more) is decided in
as many worker processes as there are cores (``--jobs`` to choose), in chunks
of ``CHUNK_ROWS`` rows, written in file order as they come back; at most a few
chunks per worker are in flight, so memory does not grow with the file.

The JSON output carries every criterion's reason; the CSV output the reasons of
the deciding criteria only (``files.assessment_csv_row``).
"""

import csv
import io
import itertools
import json
import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from screening.assessment import NoActiveCriteria, active_criteria, assess_rows
from screening.common.csv import spreadsheet_safe
from screening.common.processes import (
    fewer_collections,
    in_processes,
    numbered_batches,
)
from screening.prescreen.files import (
    RESULT_COLUMNS,
    UnreadableFile,
    assessment_csv_row,
    chunk_cells,
    contract_from_cells,
    csv_line_chunks,
    csv_rows,
    json_records,
    open_text,
    result_entry,
)
from trials.models import Trial

_NOTHING = object()
CHUNK_ROWS = 1000
LARGE_FILE_BYTES = 1 << 20
# What a forked worker needs, set before the pool starts (inherited, not sent).
_JOB: dict = {}


def _decide_chunk(first_row: int, records: list | str) -> str:
    """The output text of consecutive rows, the first of which is ``first_row``.

    ``records``: candidates (JSON), CSV rows' cells, or CSV lines as one text
    (what workers are sent: a chunk's text is one string to pickle, its cells
    a list per row).
    """
    job = _JOB
    columns = job["columns"]
    if isinstance(records, str):
        records = chunk_cells(records)
    if columns is not None:
        records = [contract_from_cells(columns, cells) for cells in records]
    offset = first_row - 1
    results = assess_rows(records, criteria=job["criteria"], today=job["today"])
    if job["format"] == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        for result in results:
            cells = assessment_csv_row(result)
            cells[0] += offset
            writer.writerow(spreadsheet_safe(cells))
        return out.getvalue()
    entries = []
    for result in results:
        entry = result_entry(result)
        entry["row"] += offset
        entries.append(json.dumps(entry, ensure_ascii=False))
    return ",\n".join(entries)


def _text_chunks(chunks):
    """(first row, CSV lines of up to CHUNK_ROWS rows) in file order."""
    row = 1
    for count, text in chunks:
        yield row, text
        row += count


class Command(BaseCommand):
    help = (
        "Evaluate candidates from a JSON list or CSV file against a trial's criteria "
        "and print the results. Records nothing."
    )
    # Reads files and records nothing: the project's system checks (URL
    # configuration, admin, templates) are for the server and cost 0.2 s a run.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("file", help="JSON list of candidates, or CSV (README)")
        parser.add_argument("--trial", default="nct06904755", help="trial slug")
        parser.add_argument("--format", choices=["json", "csv"], default="json")
        parser.add_argument(
            "--input-format",
            choices=["auto", "json", "csv"],
            default="auto",
            help="by default, from the file name (.json or .csv)",
        )
        parser.add_argument(
            "--jobs",
            type=int,
            default=0,
            help="worker processes (default: one per core for a file of 1 MiB "
            "or more, else none)",
        )

    def handle(self, *args, **options):
        trial = Trial.objects.filter(slug=options["trial"]).first()
        if trial is None:
            raise CommandError(f"no trial {options['trial']!r}")
        path = Path(options["file"])
        fmt = options["input_format"]
        if fmt == "auto":
            fmt = "json" if path.suffix.lower() == ".json" else "csv"
        try:
            size = path.stat().st_size
            text = open_text(path)
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from exc
        except UnreadableFile as exc:
            raise CommandError(f"cannot read {path}: {exc}") from exc
        try:
            criteria = active_criteria(trial=trial)
        except NoActiveCriteria:
            text.close()
            raise CommandError(f"trial {trial.slug} has no active criteria") from None
        jobs = options["jobs"] or (
            (os.cpu_count() or 1) if size >= LARGE_FILE_BYTES else 1
        )
        self.stdout.ending = ""
        try:
            with text:
                if fmt == "json":
                    columns, records = None, iter(json_records(text.read()))
                elif jobs > 1:
                    # Workers are sent each chunk's lines, not its cells.
                    columns, records = csv_line_chunks(text, CHUNK_ROWS)
                else:
                    columns, records = csv_rows(text)
                # Read the first candidate before printing anything, so that an
                # unreadable file prints nothing but the error.
                first = next(records, _NOTHING)
                if first is not _NOTHING:
                    records = itertools.chain([first], records)
                _JOB.update(
                    columns=columns,
                    criteria=criteria,
                    today=timezone.localdate(),
                    format=options["format"],
                )
                if fmt == "csv" and jobs > 1:
                    chunks = _text_chunks(records)
                else:
                    chunks = numbered_batches(records, CHUNK_ROWS)
                with fewer_collections():
                    self._write(chunks, options["format"], jobs)
        except UnreadableFile as exc:
            raise CommandError(f"cannot read {path}: {exc}") from exc
        finally:
            _JOB.clear()

    def _write(self, chunks, fmt: str, jobs: int) -> None:
        out = self.stdout
        if fmt == "csv":
            out.write(",".join(RESULT_COLUMNS) + "\r\n")
        else:
            out.write("[")
        count = 0
        # Workers are forked with the criteria and today's date (``_JOB``).
        for text in in_processes(_decide_chunk, chunks, jobs):
            if not text:
                continue  # no rows (a file's problem follows)
            if fmt == "csv":
                out.write(text)
            else:
                out.write((",\n" if count else "\n") + text)
            count += 1
        if fmt == "json":
            out.write("\n]\n" if count else "]\n")
