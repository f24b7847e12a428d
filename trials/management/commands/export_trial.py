from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from trials.models import Trial
from trials.services import trial_file_export


class Command(BaseCommand):
    help = (
        "Write a trial, its sites and criteria versions as a trial file (the "
        "format load_trial reads), to stdout or --file."
    )

    def add_arguments(self, parser):
        parser.add_argument("--trial", required=True, help="the trial's slug")
        parser.add_argument("--file", default=None, help="write here, not stdout")

    def handle(self, *args, **options):
        trial = Trial.objects.filter(slug=options["trial"]).first()
        if trial is None:
            raise CommandError(f"no trial {options['trial']!r}")
        text = trial_file_export(trial=trial)
        if options["file"]:
            Path(options["file"]).write_text(text, encoding="utf-8")
            self.stderr.write(f"Trial {trial.registry_id} written to {options['file']}")
        else:
            self.stdout.write(text, ending="")
