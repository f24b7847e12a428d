"""Appending to the ledger: one entry per audited row, in the row's transaction."""

import json

from django.db import transaction
from django.utils import timezone

from screening.audit import canonical_json
from screening.ledger import keys
from screening.ledger.content import GENESIS_MAC, Audited, entry_mac
from screening.ledger.models import LedgerEntry, LedgerHead


def _locked_head(head_model, chain: str):
    """The chain's head row, locked until the transaction ends (created if new).

    A concurrent first append to a new chain waits on the other's insert
    (``ON CONFLICT DO NOTHING`` on PostgreSQL), then locks the committed row.
    """
    heads = head_model._base_manager.select_for_update()
    head = heads.filter(chain=chain).first()
    if head is None:
        head_model._base_manager.bulk_create(
            [head_model(chain=chain, sequence=0, mac=GENESIS_MAC)],
            ignore_conflicts=True,
        )
        head = heads.get(chain=chain)
    return head


def ledger_append(
    *,
    chain: str,
    kind: str,
    object_table: str,
    object_pk: int,
    content: dict,
    entry_model=LedgerEntry,
    head_model=LedgerHead,
):
    """Append one entry to ``chain``, signed with the current key.

    Joins the caller's transaction (or opens one): the entry is written or lost
    with the row it seals. Appends to one chain are serialised by its head's lock.
    """
    key_id, key = keys.signing_key()
    # As the database gives it back, so that the HMAC verifies after a round trip.
    content = json.loads(canonical_json(content))
    with transaction.atomic(savepoint=False):
        head = _locked_head(head_model, chain)
        entry = entry_model(
            chain=chain,
            sequence=head.sequence + 1,
            kind=kind,
            object_table=object_table,
            object_pk=object_pk,
            content=content,
            key_id=key_id,
            previous_mac=head.mac,
            recorded_at=timezone.now(),
        )
        entry.mac = entry_mac(
            key,
            chain=entry.chain,
            sequence=entry.sequence,
            kind=entry.kind,
            object_table=entry.object_table,
            object_pk=entry.object_pk,
            content=entry.content,
            previous_mac=entry.previous_mac,
            key_id=entry.key_id,
            recorded_at=entry.recorded_at,
        )
        entry.save(force_insert=True)
        head_model._base_manager.filter(pk=head.pk).update(
            sequence=entry.sequence, mac=entry.mac
        )
    return entry


def ledger_seal(*, spec: Audited, obj, **models) -> LedgerEntry:
    """Seal one audited row (``spec`` says what of it) at the end of its chain."""
    return ledger_append(
        chain=spec.chain_of(obj),
        kind=spec.kind,
        object_table=spec.table,
        object_pk=obj.pk,
        content=spec.content(obj),
        **models,
    )
