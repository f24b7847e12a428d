from django.conf import settings
from django.db import migrations

from screening.ledger.sealing import seal_existing


def seal(apps, schema_editor):
    """Seal the rows written before the ledger existed, in each chain's order."""
    seal_existing(apps)


class Migration(migrations.Migration):
    # The latest migration of every audited app when the ledger was introduced;
    # rows written later are sealed as they are written.
    dependencies = [
        ("ledger", "0001_initial"),
        ("screening", "0006_export_format_length"),
        ("accounts", "0002_append_only_and_roles"),
        ("trials", "0002_constraint_codes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(seal, migrations.RunPython.noop)]
