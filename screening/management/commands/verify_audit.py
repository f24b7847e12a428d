from django.core.management.base import BaseCommand, CommandError

from screening.audit import verify_chains


class Command(BaseCommand):
    help = "Verify every trial's hash chain of decisions and every signature."

    def handle(self, *args, **options):
        decisions, signatures, problem = verify_chains()
        if problem is not None:
            raise CommandError(
                f"audit chain broken at decision id {problem.decision_id} "
                f"(trial id {problem.trial_id}, sequence {problem.sequence}): "
                f"{problem.problem}"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit chain intact: {decisions} decisions, {signatures} signatures."
            )
        )
