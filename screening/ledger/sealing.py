"""Seal rows that have no entry yet, in chain order: for databases that predate
the ledger (its data migration). Never a routine repair: a row inserted behind
the application's back must stay reported, not be sealed.
"""

from collections import defaultdict

from screening.ledger.content import audited
from screening.ledger.services import ledger_seal


def seal_existing(apps) -> int:
    """Seal every audited row of ``apps`` without an entry; returns how many."""
    Entry = apps.get_model("ledger", "LedgerEntry")
    Head = apps.get_model("ledger", "LedgerHead")
    sealed = set(Entry._base_manager.values_list("object_table", "object_pk"))
    pending = defaultdict(list)
    for order, spec in enumerate(audited(apps)):
        rows = spec.model._base_manager.order_by("pk")
        if spec.exclude:
            rows = rows.defer(*spec.exclude)
        for obj in rows.iterator():
            if (spec.table, obj.pk) in sealed:
                continue
            at = getattr(obj, spec.time_field)
            pending[spec.chain_of(obj)].append((at, order, obj.pk, spec, obj))
    count = 0
    for chain in sorted(pending):
        for _at, _order, _pk, spec, obj in sorted(
            pending[chain], key=lambda item: item[:3]
        ):
            ledger_seal(spec=spec, obj=obj, entry_model=Entry, head_model=Head)
            count += 1
    return count
