import itertools
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from screening.assessment import NoActiveCriteria, active_criteria, assess_rows
from screening.prescreen.files import (
    UnreadableFile,
    result_entry,
    uploaded_candidates,
    write_csv,
    write_json,
)
from trials.models import Trial

_NOTHING = object()


class Command(BaseCommand):
    help = (
        "Evaluate candidates from a JSON list or CSV file against a trial's criteria "
        "and print the results. Records nothing."
    )

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

    def handle(self, *args, **options):
        trial = Trial.objects.filter(slug=options["trial"]).first()
        if trial is None:
            raise CommandError(f"no trial {options['trial']!r}")
        path = Path(options["file"])
        fmt = options["input_format"]
        if fmt == "auto":
            fmt = "json" if path.suffix.lower() == ".json" else "csv"
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from exc
        try:
            criteria = active_criteria(trial=trial)
        except NoActiveCriteria:
            raise CommandError(f"trial {trial.slug} has no active criteria") from None
        write = write_json if options["format"] == "json" else write_csv
        self.stdout.ending = ""
        try:
            records = iter(uploaded_candidates(content, fmt=fmt))
            # Read the first candidate before printing anything, so that an
            # unreadable file prints nothing but the error.
            first = next(records, _NOTHING)
            if first is not _NOTHING:
                records = itertools.chain([first], records)
            results = (
                result_entry(row)
                for row in assess_rows(
                    records, criteria=criteria, today=timezone.localdate()
                )
            )
            write(results, self.stdout)
        except UnreadableFile as exc:
            raise CommandError(f"cannot read {path}: {exc}") from exc
