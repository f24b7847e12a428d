import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from screening.common import db_triggers

# The tombstone table is append-only; the upload and result tables are guarded
# again, now with the purge's one exception (it needs the tombstone table).
TABLES = (
    db_triggers.UPLOAD_TABLE,
    db_triggers.RESULT_TABLE,
    db_triggers.PURGE_TABLE,
)
GUARDED_BEFORE = (db_triggers.UPLOAD_TABLE, db_triggers.RESULT_TABLE)


def install(apps, schema_editor):
    db_triggers.install(schema_editor.connection, TABLES)


def remove(apps, schema_editor):
    db_triggers.remove(schema_editor.connection, TABLES)


def guard_without_purges(apps, schema_editor):
    # Backwards, once the tombstone table is gone: no purge exception.
    db_triggers.install(schema_editor.connection, GUARDED_BEFORE)


class Migration(migrations.Migration):
    dependencies = [
        ("screening", "0008_criteria_version"),
        ("ledger", "0003_purge_kind"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, guard_without_purges),
        migrations.AlterModelOptions(
            name="prescreenupload",
            options={
                "base_manager_name": "unscoped",
                "default_manager_name": "unscoped",
                "default_permissions": ("view",),
                "ordering": ["-uploaded_at"],
                "permissions": [
                    (
                        "purge_prescreenupload",
                        "Can purge a mistaken pre-screening upload",
                    )
                ],
                "verbose_name": "pre-screening upload",
                "verbose_name_plural": "pre-screening uploads",
            },
        ),
        migrations.CreateModel(
            name="PrescreenPurge",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                (
                    "purged_at",
                    models.DateTimeField(
                        editable=False, verbose_name="purged at (UTC)"
                    ),
                ),
                ("reason", models.TextField(verbose_name="reason")),
                (
                    "file_sha256",
                    models.CharField(max_length=64, verbose_name="file SHA-256"),
                ),
                (
                    "file_name",
                    models.CharField(max_length=200, verbose_name="file name"),
                ),
                ("row_count", models.PositiveIntegerField(verbose_name="rows")),
                (
                    "purged_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="purged by",
                    ),
                ),
                (
                    "upload",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="purge",
                        to="screening.prescreenupload",
                        verbose_name="upload",
                    ),
                ),
            ],
            options={
                "verbose_name": "pre-screening purge",
                "verbose_name_plural": "pre-screening purges",
                "ordering": ["-purged_at"],
                "default_permissions": ("view",),
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("reason", ""), _negated=True),
                        name="prescreen_purge_reason_given",
                    )
                ],
            },
        ),
        migrations.RunPython(install, remove),
    ]
