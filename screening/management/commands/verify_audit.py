import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from screening.ledger.anchors import AnchorFileError
from screening.ledger.verification import verify_audit


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
        parser.add_argument(
            "--processes",
            type=int,
            default=None,
            help="worker processes that hash the decisions again (default: one "
            "per core)",
        )

    def handle(self, *args, anchors, processes, **options):
        if processes is not None and processes < 1:
            raise CommandError("--processes must be at least 1")
        try:
            report = verify_audit(
                anchors=anchors, processes=processes or os.cpu_count() or 1
            )
        except AnchorFileError as error:
            raise CommandError(str(error)) from None
        problem = report.chain_problem
        if problem is not None:
            raise CommandError(
                f"audit chain broken at decision id {problem.decision_id} "
                f"(trial id {problem.trial_id}, sequence {problem.sequence}): "
                f"{problem.problem}"
            )
        ledger = report.ledger
        if ledger.problem is not None:
            raise CommandError(str(ledger.problem))
        anchored = f", {ledger.anchors} anchors" if anchors is not None else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit chain intact: {report.decisions} decisions, "
                f"{report.signatures} signatures. "
                f"Audit ledger intact: {ledger.entries} entries in {ledger.chains} "
                f"chains{anchored}."
            )
        )
