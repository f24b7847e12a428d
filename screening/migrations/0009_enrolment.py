import django.db.models.deletion
import django.db.models.manager
from django.conf import settings
from django.db import migrations, models

from screening.common import db_triggers

# Enrolments are append-only from the start: UPDATE and DELETE refused.
TABLES = db_triggers.ENROLMENT_TABLES


def install(apps, schema_editor):
    db_triggers.install(schema_editor.connection, TABLES)


def remove(apps, schema_editor):
    db_triggers.remove(schema_editor.connection, TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("screening", "0008_prescreen_purge"),
        ("trials", "0007_aclf_variables"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Enrolment",
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
                    "screening_number",
                    models.CharField(max_length=12, verbose_name="screening number"),
                ),
                ("enrolled_on", models.DateField(verbose_name="enrolment date")),
                (
                    "randomisation_number",
                    models.CharField(
                        max_length=32, verbose_name="randomisation or subject number"
                    ),
                ),
                (
                    "recorded_at",
                    models.DateTimeField(
                        editable=False, verbose_name="recorded at (UTC)"
                    ),
                ),
                (
                    "decision",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="enrolment",
                        to="screening.eligibilitydecision",
                        verbose_name="decision",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="recorded by",
                    ),
                ),
                (
                    "site",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="trials.site",
                        verbose_name="site",
                    ),
                ),
                (
                    "trial",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="trials.trial",
                        verbose_name="trial",
                    ),
                ),
            ],
            options={
                "verbose_name": "enrolment",
                "verbose_name_plural": "enrolments",
                "ordering": ["-recorded_at", "-id"],
                "default_permissions": ("view",),
                "base_manager_name": "unscoped",
                "default_manager_name": "unscoped",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("trial", "randomisation_number"),
                        name="enrolment_unique_randomisation_number",
                    ),
                    models.UniqueConstraint(
                        fields=("trial", "screening_number"),
                        name="enrolment_unique_candidate",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("randomisation_number", ""), _negated=True),
                        name="enrolment_randomisation_number_given",
                    ),
                ],
            },
            managers=[
                ("unscoped", django.db.models.manager.Manager()),
            ],
        ),
        migrations.RunPython(install, remove),
    ]
