from django.db import migrations

from screening.common import db_triggers


# The tables as they were when this migration was written.
TABLES = (
    "screening_eligibilitydecision",
    "screening_criterionoutcome",
    "screening_signature",
    "screening_screeninglogexport",
    "screening_prescreenupload",
)


def install(apps, schema_editor):
    db_triggers.install(schema_editor.connection, TABLES)


def remove(apps, schema_editor):
    db_triggers.remove(schema_editor.connection, TABLES)


class Migration(migrations.Migration):
    dependencies = [("screening", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]
