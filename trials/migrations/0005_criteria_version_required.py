import django.db.models.deletion
from django.db import migrations, models

from trials import db_triggers


# The version columns fixed once signed, frozen as of this migration.
FIXED = (
    "trial_id",
    "number",
    "label",
    "ethics_reference",
    "ethics_approved_on",
    "effective_from",
    "based_on_id",
    "created_by_id",
    "created_at",
)


def install(apps, schema_editor):
    # 0006 adds a column and reinstalls.
    db_triggers.install(schema_editor.connection, fixed=FIXED)


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
