"""Queue again the background jobs whose worker stopped (README, "Background jobs")."""

from django.core.management.base import BaseCommand

from screening.common.jobs import job_recover


class Command(BaseCommand):
    help = (
        "Queue again unfinished jobs whose worker has not reported for "
        "JOBS_STALE_SECONDS; --all when no worker is running (before starting them)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--all",
            action="store_true",
            help="every running job: use only while no worker runs",
        )

    def handle(self, *args, **options):
        recovered = job_recover(seconds=0 if options["all"] else None)
        self.stdout.write(f"{len(recovered)} job(s) queued again")
