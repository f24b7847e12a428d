"""``manage.py import_labs --trial SLUG --user NAME FILE``: lab results in.

FHIR JSON or a LIS CSV export, told apart by the first byte; the CSV's encoding
is UTF-8 (with or without a BOM), else GB18030, else refused with the line.
The import is made as the named user, whose membership must allow screening.
Synchronous: a large import may become a background job later.
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from screening.labs.models import LabImport
from screening.labs.reading import LabFileError
from screening.labs.services import MAX_MESSAGE_BYTES, lab_import
from trials.models import Site, Trial


class Command(BaseCommand):
    help = "Import a FHIR R4 bundle or a LIS CSV export into a trial's lab inbox."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--trial", required=True, help="The trial's slug.")
        parser.add_argument(
            "--user", required=True, help="Who imports (a member who may screen)."
        )
        parser.add_argument(
            "--site", help="Site code for candidates not yet screened, if several."
        )

    def handle(self, *args, file: Path, trial: str, user: str, site=None, **options):
        translation.activate("en")
        found = Trial.objects.filter(slug=trial).first()
        if found is None:
            raise CommandError(f"no trial {trial!r}")
        importer = get_user_model().objects.filter(username=user).first()
        if importer is None or not importer.is_active:
            raise CommandError(f"no active user {user!r}")
        at = None
        if site is not None:
            at = Site.objects.filter(trial=found, code=site).first()
            if at is None:
                raise CommandError(f"no site {site!r} in trial {trial!r}")
        try:
            if file.stat().st_size > MAX_MESSAGE_BYTES:
                raise CommandError(f"{file}: larger than {MAX_MESSAGE_BYTES} bytes")
            content = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror or exc}") from None
        try:
            record = lab_import(
                trial=found,
                user=importer,
                content=content,
                file_name=file.name,
                channel=LabImport.Channel.COMMAND,
                site=at,
            )
        except LabFileError as exc:
            raise CommandError(
                f"{file}: refused, nothing imported:\n  " + "\n  ".join(exc.messages())
            ) from None
        except PermissionDenied:
            raise CommandError(f"{user} may not import into {trial}") from None
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(
            f"imported {record.value_count} values from {file.name} "
            f"({record.get_file_format_display()}, {record.encoding}, "
            f"SHA-256 {record.sha256}) into the inbox of {found.slug}"
        )
