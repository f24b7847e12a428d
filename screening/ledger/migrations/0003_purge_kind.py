from django.db import migrations, models

from screening.common import db_triggers

KINDS = [
    "DECISION",
    "SIGNATURE",
    "EXPORT",
    "UPLOAD",
    "ACCESS",
    "IDENTITY",
    "HISTORY",
    "PURGE",
]


def install(apps, schema_editor):
    # SQLite rebuilds the table to change its constraint, which drops its triggers.
    db_triggers.install(schema_editor.connection, db_triggers.LEDGER_TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0002_seal_existing_rows"),
    ]

    operations = [
        migrations.AlterField(
            model_name="ledgerentry",
            name="kind",
            field=models.CharField(
                choices=[
                    ("DECISION", "Eligibility decision"),
                    ("SIGNATURE", "Signature"),
                    ("EXPORT", "Screening log export"),
                    ("UPLOAD", "Pre-screening upload"),
                    ("ACCESS", "Access event"),
                    ("IDENTITY", "User identity"),
                    ("HISTORY", "Trial or criteria history"),
                    ("PURGE", "Pre-screening upload purged"),
                ],
                max_length=10,
                verbose_name="kind",
            ),
        ),
        migrations.RemoveConstraint(model_name="ledgerentry", name="ledger_kind_valid"),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.CheckConstraint(
                condition=models.Q(kind__in=KINDS), name="ledger_kind_valid"
            ),
        ),
        migrations.RunPython(install, migrations.RunPython.noop),
    ]
