from django.core.management.base import BaseCommand, CommandError

from trials import files
from trials.services import trial_file_load


class Command(BaseCommand):
    help = (
        "Load a trial file (README, 'Trial files'): the trial, its sites and the "
        "versions not yet here. Without --file, the shipped NCT06904755. "
        "Idempotent; nothing here is overwritten."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--file",
            default=None,
            help=f"the trial file (default {files.DEFAULT_FILE.name}, shipped)",
        )

    def handle(self, *args, **options):
        path = options["file"] or files.DEFAULT_FILE
        try:
            loaded = trial_file_load(path=path)
        except files.TrialFileError as exc:
            raise CommandError(
                f"{path}: refused, nothing loaded:\n"
                + "\n".join(f"  {where}: {message}" for where, message in exc.problems)
            ) from exc
        trial = loaded.trial
        lines = [f"Trial {trial.registry_id} ({trial.slug}):"]
        if loaded.changed:
            lines.append(
                f"  {'created' if loaded.trial_created else 'already here'}; "
                f"{loaded.sites_created} site(s), "
                f"{len(loaded.versions_created)} version(s), "
                f"{loaded.criteria_created} criteria, "
                f"{loaded.conditions_created} conditions created."
            )
            lines += [
                f"  version {number}: loaded as {state}"
                + (
                    " (dry-run it with criteria_impact, sign it in the application)"
                    if state == "DRAFT"
                    else ""
                )
                for number, state in loaded.versions_created
            ]
        else:
            lines.append("  unchanged: the file's trial and versions are all here.")
        lines += [f"  kept: {note}" for note in loaded.notes]
        self.stdout.write("\n".join(lines))
