"""Recompute a trial's funnel summary from its records (one transaction)."""

from django.core.management.base import BaseCommand, CommandError

from screening.reports.summary import funnel_rebuild
from trials.models import Trial


class Command(BaseCommand):
    help = (
        "Rebuild the funnel's summary of a trial from its decisions and signatures: "
        "derived data, replaced whole under the trial's lock."
    )

    def add_arguments(self, parser):
        parser.add_argument("--trial", required=True, help="the trial's slug")

    def handle(self, *args, trial, **options):
        found = Trial.objects.filter(slug=trial).first()
        if found is None:
            raise CommandError(f"--trial: no trial {trial!r}")
        counts, blocking = funnel_rebuild(trial=found)
        self.stdout.write(
            f"{found.slug}: funnel rebuilt, {counts} count rows, "
            f"{blocking} blocking rows."
        )
