import django.db.models.deletion
from django.db import migrations, models

from trials import db_triggers


def install(apps, schema_editor):
    db_triggers.install(schema_editor.connection)


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
