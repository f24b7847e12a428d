import django.db.models.deletion
from django.db import migrations, models

from trials import db_triggers


def install(apps, schema_editor):
    # The columns a version has at this migration (0006 adds one and reinstalls).
    fixed = [c for c in db_triggers._FIXED if c != "default_lookback_hours"]
    db_triggers.install(schema_editor.connection, fixed=fixed)


def remove(apps, schema_editor):
    db_triggers.remove(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ("trials", "0004_criteria_versions"),
    ]

    operations = [
        migrations.AlterField(
            model_name="criterion",
            name="version",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="criteria",
                to="trials.criteriaversion",
                verbose_name="criteria version",
            ),
        ),
        migrations.RunPython(install, remove),
    ]
