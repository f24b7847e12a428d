"""Anchors: the chains' heads copied to an append-only file outside the database.

Someone with database access can cut entries off a chain's end and move its head
back; the chain then verifies. An anchored head that is no longer in its chain
shows it. Each line is one JSON object: chain, sequence, mac, key_id and
anchored_at (UTC).
"""

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from django.db.models import Max, Q
from django.utils import timezone

from screening.ledger.content import utc_iso
from screening.ledger.models import LedgerEntry

_MAC = re.compile(r"[0-9a-f]{64}")


class AnchorFileError(ValueError):
    """The anchor file is missing or a line is not an anchor."""


@dataclass(frozen=True, slots=True)
class Anchor:
    line: int
    chain: str
    sequence: int
    mac: str
    anchored_at: str


def current_heads() -> list[dict]:
    """The last entry of every chain, as an anchor line's fields."""
    ends = list(LedgerEntry.objects.values("chain").annotate(last=Max("sequence")))
    if not ends:
        return []
    last = Q()
    for end in ends:
        last |= Q(chain=end["chain"], sequence=end["last"])
    anchored_at = utc_iso(timezone.now())
    return [
        {
            "chain": entry.chain,
            "sequence": entry.sequence,
            "mac": entry.mac,
            "key_id": entry.key_id,
            "anchored_at": anchored_at,
        }
        for entry in LedgerEntry.objects.filter(last).order_by("chain")
    ]


def anchor_append(path: Path) -> list[dict]:
    """Append the current heads to ``path`` (flushed to disk); returns them."""
    heads = current_heads()
    with open(path, "a", encoding="utf-8") as anchors:
        for head in heads:
            anchors.write(json.dumps(head, sort_keys=True) + "\n")
        anchors.flush()
        os.fsync(anchors.fileno())
    return heads


def anchors_read(path: Path) -> list[Anchor]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise AnchorFileError(f"cannot read the anchor file {path}: {error}") from None
    anchors = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            anchor = Anchor(
                line=number,
                chain=item["chain"],
                sequence=item["sequence"],
                mac=item["mac"],
                anchored_at=item.get("anchored_at", ""),
            )
        except (ValueError, TypeError, KeyError):
            anchor = None
        if (
            anchor is None
            or not isinstance(anchor.chain, str)
            or type(anchor.sequence) is not int
            or anchor.sequence < 1
            or not isinstance(anchor.mac, str)
            or not _MAC.fullmatch(anchor.mac)
        ):
            raise AnchorFileError(f"{path} line {number} is not an anchor")
        anchors.append(anchor)
    return anchors
