from django.db import migrations

from screening import db_triggers


def install(apps, schema_editor):
    db_triggers.install(schema_editor.connection, db_triggers.SCREENING_TABLES)


def remove(apps, schema_editor):
    db_triggers.remove(schema_editor.connection, db_triggers.SCREENING_TABLES)


class Migration(migrations.Migration):
    dependencies = [("screening", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]
