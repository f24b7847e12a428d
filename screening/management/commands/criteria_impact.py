import json

from django.core.management.base import BaseCommand, CommandError

from screening.versions.services import impact_report_record
from trials.models import CriteriaVersion


class Command(BaseCommand):
    help = (
        "Re-evaluate every candidate's latest decision under a draft criteria "
        "version; store the report and print it as JSON."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        # --version names the criteria version here, not the program's.
        return super().create_parser(
            prog_name, subcommand, conflict_handler="resolve", **kwargs
        )

    def add_arguments(self, parser):
        parser.add_argument("--trial", required=True, help="the trial's slug")
        parser.add_argument("--version", required=True, type=int, help="its number")

    def handle(self, *args, **options):
        version = (
            CriteriaVersion.objects.select_related("trial")
            .filter(trial__slug=options["trial"], number=options["version"])
            .first()
        )
        if version is None:
            raise CommandError(
                f"no version {options['version']} of trial {options['trial']!r}"
            )
        try:
            report = impact_report_record(version=version, user=None)
        except Exception as exc:  # a ValidationError: not a draft
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(report.content, ensure_ascii=False, indent=2))
