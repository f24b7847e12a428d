from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from screening.ledger.anchors import anchor_append


class Command(BaseCommand):
    help = (
        "Append the audit ledger's current heads (chain, sequence, HMAC, UTC time) "
        "to an append-only anchor file outside the database (README, Audit ledger)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--file",
            type=Path,
            default=None,
            help="the anchor file (default: the AUDIT_ANCHOR_FILE setting)",
        )

    def handle(self, *args, file, **options):
        path = file or Path(settings.AUDIT_ANCHOR_FILE)
        try:
            heads = anchor_append(path)
        except OSError as error:
            raise CommandError(f"cannot append to {path}: {error}") from None
        self.stdout.write(f"Anchored {len(heads)} chain heads in {path}.")
