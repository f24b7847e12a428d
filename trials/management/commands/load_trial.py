from django.core.management.base import BaseCommand

from trials.services import trial_load_protocol


class Command(BaseCommand):
    help = "Load NCT06904755 and its criteria (idempotent; admin edits are kept)."

    def handle(self, *args, **options):
        trial, created = trial_load_protocol()
        self.stdout.write(
            f"Trial {trial.registry_id}: {created} criteria created, "
            f"{trial.criteria.count()} in total."
        )
