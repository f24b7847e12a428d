from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from screening.audit import verify_chains
from screening.ledger.anchors import AnchorFileError
from screening.ledger.verification import verify_ledger


class Command(BaseCommand):
    help = (
        "Verify every trial's hash chain of decisions and every signature, then the "
        "keyed audit ledger (links, HMACs, each row against its entry, rows without "
        "entries, users' identities) and, with --anchors, the anchored heads."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--anchors",
            type=Path,
            default=None,
            help="an anchor file written by audit_anchor: every head in it must "
            "still be in its chain",
        )

    def handle(self, *args, anchors, **options):
        decisions, signatures, problem = verify_chains()
        if problem is not None:
            raise CommandError(
                f"audit chain broken at decision id {problem.decision_id} "
                f"(trial id {problem.trial_id}, sequence {problem.sequence}): "
                f"{problem.problem}"
            )
        try:
            ledger = verify_ledger(anchors=anchors)
        except AnchorFileError as error:
            raise CommandError(str(error)) from None
        if ledger.problem is not None:
            raise CommandError(str(ledger.problem))
        anchored = f", {ledger.anchors} anchors" if anchors is not None else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit chain intact: {decisions} decisions, {signatures} signatures. "
                f"Audit ledger intact: {ledger.entries} entries in {ledger.chains} "
                f"chains{anchored}."
            )
        )
