from django.db import migrations

from screening.ledger.content import audited
from screening.ledger.services import ledger_seal


def seal(apps, schema_editor):
    """Seal the lab rows written before the lab inbox was sealed in the ledger.

    Imports (with their values), then reviews, then decisions' sources, each in
    the order they were written; rows of other apps are left alone.
    """
    Entry = apps.get_model("ledger", "LedgerEntry")
    Head = apps.get_model("ledger", "LedgerHead")
    order = {"imported_at": ("imported_at", "pk"), "reviewed_at": ("reviewed_at", "pk")}
    for spec in audited(apps):
        if spec.model._meta.app_label != "labs":
            continue
        sealed = set(
            Entry._base_manager.filter(object_table=spec.table).values_list(
                "object_pk", flat=True
            )
        )
        rows = spec.model._base_manager.order_by(*order.get(spec.time_field, ("pk",)))
        for obj in rows.iterator():
            if obj.pk not in sealed:
                ledger_seal(spec=spec, obj=obj, entry_model=Entry, head_model=Head)


class Migration(migrations.Migration):
    dependencies = [
        ("labs", "0001_initial"),
        ("ledger", "0004_audit_review"),
    ]

    operations = [migrations.RunPython(seal, migrations.RunPython.noop)]
