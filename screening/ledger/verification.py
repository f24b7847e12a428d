"""Verify the audit ledger and report the first problem.

In order: each chain (contiguous sequence, links, HMACs, each entry's content
against the row as it is now, the users it names, the chain's head); the anchors,
when given; every audited row has an entry; every user's identity is the one
their latest identity entry sealed.

``verify_ledger_chain`` checks one chain alone (a trial's, for its audit-trail
review): its walk and head, not the whole-database checks (anchors, presence,
identities), whose problems may name other trials' rows.

``verify_audit`` (``manage.py verify_audit``) and ``verify_trial_audit`` (the
audit-trail review) walk the hash chains of decisions first
(``screening.audit.verify_chains``), then the ledger, in one snapshot.
"""

import hmac
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.db import connection, transaction

from screening.audit import ChainProblem, canonical_json, verify_chains
from screening.ledger import keys
from screening.ledger.anchors import anchors_read
from screening.ledger.content import (
    GENESIS_MAC,
    Audited,
    AuditedDecision,
    audited,
    entry_mac,
    trial_chain,
)
from screening.ledger.models import LedgerEntry, LedgerHead
from screening.models import EligibilityDecision

Kind = LedgerEntry.Kind


@dataclass(frozen=True, slots=True)
class LedgerProblem:
    problem: str
    chain: str | None = None
    sequence: int | None = None
    kind: str | None = None
    object_table: str | None = None
    object_pk: int | None = None

    def __str__(self):
        where = [
            part
            for part in (
                f"chain {self.chain}" if self.chain else "",
                f"sequence {self.sequence}" if self.sequence else "",
            )
            if part
        ]
        if self.object_table:
            where.append(f"{self.kind} {self.object_table} id {self.object_pk}")
        return f"audit ledger broken at {', '.join(where)}: {self.problem}"


@dataclass
class LedgerReport:
    entries: int = 0
    chains: int = 0
    anchors: int = 0
    problem: LedgerProblem | None = None


class _Broken(Exception):
    def __init__(self, problem: LedgerProblem):
        self.problem = problem


def verify_ledger(
    *, anchors: Path | None = None, batch_size: int = 2000
) -> LedgerReport:
    """Walk every chain, then the anchors, presence and identities."""
    with _one_snapshot():
        return _verified(lambda v: v.run(anchors), batch_size)


def verify_ledger_chain(chain: str, *, batch_size: int = 2000) -> LedgerReport:
    """Walk one chain and check its head; ``chains`` is 1 if it has any entry."""
    with _one_snapshot():
        return _verified(lambda v: v.run_chain(chain), batch_size)


@dataclass
class AuditReport:
    """The hash chains of decisions and signatures, then the keyed ledger.

    ``ledger`` is None when a chain is broken (the ledger is not walked then).
    """

    decisions: int
    signatures: int
    chain_problem: ChainProblem | None
    ledger: LedgerReport | None = None


def verify_audit(*, anchors: Path | None = None, processes: int = 1) -> AuditReport:
    """Every trial's chain, then the whole ledger, in one snapshot of the database.

    Each decision's content is hashed again once, by the chain's walk (in
    ``processes`` workers); the ledger's walk then compares each decision's
    sealed hash with the stored one, which the chain's walk has just found
    equal to the recomputed one. Inside a caller's transaction that is not a
    snapshot, the ledger's walk hashes each decision again itself.
    """
    with _one_snapshot() as snapshot:
        report = AuditReport(*verify_chains(processes=processes))
        if report.chain_problem is None:
            rehashed = frozenset()
            if snapshot:
                rehashed = frozenset(
                    EligibilityDecision.objects.system()
                    .order_by()
                    .values_list("trial_id", flat=True)
                    .distinct()
                )
            report.ledger = _verified(lambda v: v.run(anchors), 2000, rehashed)
        return report


def verify_trial_audit(trial_id: int, *, processes: int = 1) -> AuditReport:
    """``verify_audit`` restricted to one trial's chain of decisions and ledger chain.

    Leaves out the whole-database checks (other trials' chains, anchors, rows
    without an entry, identities), whose problems may name other trials' rows.
    """
    with _one_snapshot() as snapshot:
        report = AuditReport(*verify_chains(trial_id=trial_id, processes=processes))
        if report.chain_problem is None:
            rehashed = frozenset({trial_id}) if snapshot else frozenset()
            chain = trial_chain(trial_id)
            report.ledger = _verified(lambda v: v.run_chain(chain), 2000, rehashed)
        return report


@contextmanager
def _one_snapshot() -> Iterator[bool]:
    """Every query inside reads the database as of one moment; yields whether so.

    PostgreSQL: a REPEATABLE READ, READ ONLY transaction (writers go on
    meanwhile). SQLite: none is opened, since a transaction there takes the
    write lock when it begins (``BEGIN IMMEDIATE``, config/settings/base.py)
    and would hold every writer back for the whole walk; each query reads
    afresh and ``False`` is yielded. Inside a caller's transaction, that
    transaction decides: a snapshot on SQLite, on PostgreSQL only at
    REPEATABLE READ or SERIALIZABLE.
    """
    vendor = connection.vendor
    if connection.in_atomic_block:
        if vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SHOW transaction_isolation")
                (level,) = cursor.fetchone()
            yield level in ("repeatable read", "serializable")
        else:
            yield vendor == "sqlite"
        return
    if vendor != "postgresql":
        yield False
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield True


def _verified(
    walk, batch_size: int, rehashed_trials: frozenset[int] = frozenset()
) -> LedgerReport:
    report = LedgerReport()
    try:
        walk(_Verification(report, batch_size, rehashed_trials))
    except _Broken as broken:
        report.problem = broken.problem
    return report


class _Verification:
    def __init__(
        self, report: LedgerReport, batch_size: int, rehashed_trials: frozenset[int]
    ):
        self.report = report
        self.batch_size = batch_size
        self.rehashed_trials = rehashed_trials
        self.keyring = keys.verification_keys()
        self.specs: dict[str, Audited] = {s.table: s for s in audited(apps)}
        self.ends: dict[str, tuple[int, str]] = {}
        # The heads as read before the walk, and the HMACs found at them.
        self.head_sequences: dict[str, int] = {}
        self.head_macs: dict[str, str] = {}
        # Every identity each user had (canonical JSON), and their latest.
        self.identities: dict[int, set[bytes]] = defaultdict(set)
        self.latest_identity: dict[int, LedgerEntry] = {}
        for entry in LedgerEntry.objects.filter(kind=Kind.IDENTITY).order_by(
            "sequence"
        ):
            self.identities[entry.object_pk].add(
                canonical_json(entry.content.get("row"))
            )
            self.latest_identity[entry.object_pk] = entry

    def run(self, anchors: Path | None) -> None:
        heads = {head.chain: head for head in LedgerHead.objects.all()}
        self.head_sequences = {chain: head.sequence for chain, head in heads.items()}
        chains = set(heads) | set(
            LedgerEntry.objects.order_by().values_list("chain", flat=True).distinct()
        )
        for chain in sorted(chains):
            self.ends[chain] = self._walk(chain)
            self._check_head(chain, heads.get(chain))
            self.report.chains += 1
        if anchors is not None:
            self._check_anchors(anchors)
        for spec in self.specs.values():
            self._check_presence(spec)
        self._check_identities()

    def run_chain(self, chain: str) -> None:
        head = LedgerHead.objects.filter(chain=chain).first()
        if head is not None:
            self.head_sequences[chain] = head.sequence
        elif not LedgerEntry.objects.filter(chain=chain).exists():
            return
        self.ends[chain] = self._walk(chain)
        self._check_head(chain, head)
        self.report.chains += 1

    # --- chains ------------------------------------------------------------

    def _walk(self, chain: str) -> tuple[int, str]:
        """Check the chain's entries in order; returns its last (sequence, HMAC)."""
        expected_sequence, expected_previous = 1, GENESIS_MAC
        while True:
            batch = list(
                LedgerEntry.objects.filter(
                    chain=chain, sequence__gte=expected_sequence
                ).order_by("sequence")[: self.batch_size]
            )
            if not batch:
                return expected_sequence - 1, expected_previous
            rows = self._rows(batch)
            for entry in batch:
                self.report.entries += 1
                problem = self._check_entry(
                    entry, expected_sequence, expected_previous, rows
                )
                if problem:
                    raise _Broken(
                        LedgerProblem(
                            problem,
                            entry.chain,
                            entry.sequence,
                            entry.kind,
                            entry.object_table,
                            entry.object_pk,
                        )
                    )
                if entry.sequence == self.head_sequences.get(chain):
                    self.head_macs[chain] = entry.mac
                expected_sequence, expected_previous = entry.sequence + 1, entry.mac

    def _rows(self, batch: list[LedgerEntry]) -> dict:
        by_table = defaultdict(list)
        for entry in batch:
            by_table[entry.object_table].append(entry.object_pk)
        rows = {}
        for table, pks in by_table.items():
            spec = self.specs.get(table)
            if isinstance(spec, AuditedDecision):
                found_rows = spec.rows(pks, rehashed_trials=self.rehashed_trials)
            elif spec is not None:
                found_rows = spec.rows(pks)
            else:
                continue
            for pk, found in found_rows.items():
                rows[table, pk] = found
        return rows

    def _check_entry(self, entry, expected_sequence, expected_previous, rows):
        if entry.sequence != expected_sequence:
            return (
                f"sequence {entry.sequence}, expected {expected_sequence}: "
                "entries are missing"
            )
        if entry.previous_mac != expected_previous:
            return "link to the previous entry does not match"
        key = self.keyring.get(entry.key_id)
        if key is None:
            return (
                f"signed with key id {entry.key_id!r}, which is not configured "
                "(AUDIT_HMAC_KEY_ID or AUDIT_HMAC_OLD_KEYS)"
            )
        mac = entry_mac(
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
        if not hmac.compare_digest(mac, entry.mac):
            return "HMAC does not match: the entry was changed or forged"
        spec = self.specs.get(entry.object_table)
        if spec is None or spec.kind != entry.kind:
            return f"{entry.object_table} is not an audited table of this kind"
        found = rows.get((entry.object_table, entry.object_pk))
        if found is None:
            return "the audited row is missing (deleted)"
        if entry.kind == Kind.IDENTITY:
            # A user's earlier identities are history; the latest is checked last.
            return None
        obj, row = found
        sealed = entry.content.get("row") or {}
        differ = sorted(
            name
            for name in sealed
            if name not in row
            or canonical_json(row[name]) != canonical_json(sealed[name])
        )
        if differ:
            return f"the row does not match its entry: {', '.join(differ)}"
        return self._check_users(spec, obj, entry.content.get("users") or {})

    def _check_users(self, spec: Audited, obj, users: dict) -> str | None:
        for name, sealed in sorted(users.items()):
            try:
                attname = spec.model._meta.get_field(name).attname
            except LookupError:
                return f"{name} is no longer a field of the row"
            user_id = getattr(obj, attname)
            if sealed is None:
                if user_id is not None:
                    return f"{name} was empty and now names user id {user_id}"
                continue
            if sealed.get("id") != user_id:
                return f"{name} was user id {sealed.get('id')}, now {user_id}"
            if canonical_json(sealed) not in self.identities.get(user_id, set()):
                return f"{name}'s identity matches none of the user's identity entries"
        return None

    def _check_head(self, chain: str, head: LedgerHead | None) -> None:
        """The head, read before the walk, is an entry of the chain.

        Entries appended while verifying go past it; entries cut off the end with
        the head left in place leave it pointing at nothing.
        """
        sequence, _mac = self.ends[chain]
        if head is None:
            if sequence:
                raise _Broken(
                    LedgerProblem("the chain has no head row", chain, sequence)
                )
            return
        if head.sequence and self.head_macs.get(chain) != head.mac:
            raise _Broken(
                LedgerProblem(
                    f"its head is at sequence {head.sequence} but the chain ends at "
                    f"sequence {sequence}: entries were removed from its end",
                    chain,
                    head.sequence,
                )
            )

    # --- anchors -------------------------------------------------------------

    def _check_anchors(self, path: Path) -> None:
        by_chain = defaultdict(dict)
        for anchor in anchors_read(path):
            by_chain[anchor.chain].setdefault((anchor.sequence, anchor.mac), anchor)
            self.report.anchors += 1
        for chain in sorted(by_chain):
            anchored = by_chain[chain]
            sequences = sorted({sequence for sequence, _mac in anchored})
            macs = {}
            for start in range(0, len(sequences), 1000):
                macs.update(
                    LedgerEntry.objects.filter(
                        chain=chain, sequence__in=sequences[start : start + 1000]
                    ).values_list("sequence", "mac")
                )
            for (sequence, mac), anchor in sorted(anchored.items()):
                ends_at = self.ends.get(chain, (0, GENESIS_MAC))[0]
                if sequence not in macs:
                    problem = (
                        f"the head anchored at {anchor.anchored_at} (anchor file "
                        f"line {anchor.line}) is no longer in the chain, which "
                        f"ends at sequence {ends_at}: entries were removed"
                    )
                elif macs[sequence] != mac:
                    problem = (
                        f"the entry at the sequence anchored at {anchor.anchored_at} "
                        f"(anchor file line {anchor.line}) has another HMAC: the "
                        "chain was cut and written again"
                    )
                else:
                    continue
                raise _Broken(LedgerProblem(problem, chain, sequence))

    # --- presence and identities ----------------------------------------------

    def _check_presence(self, spec: Audited) -> None:
        """Every row has an entry (each entry's row exists: checked in the walk)."""
        entries = LedgerEntry.objects.filter(
            object_table=spec.table, kind=spec.kind
        ).order_by()
        sealed = entries.values("object_pk").distinct().count()
        if sealed == spec.model._base_manager.count():
            return
        pks = list(spec.all_pks())
        for start in range(0, len(pks), self.batch_size):
            chunk = pks[start : start + self.batch_size]
            have = set(
                entries.filter(object_pk__in=chunk).values_list("object_pk", flat=True)
            )
            for pk in chunk:
                if pk not in have:
                    raise _Broken(
                        LedgerProblem(
                            "the row has no ledger entry: it was written outside "
                            "the application",
                            kind=spec.kind,
                            object_table=spec.table,
                            object_pk=pk,
                        )
                    )

    def _check_identities(self) -> None:
        spec = next(s for s in self.specs.values() if s.kind == Kind.IDENTITY)
        users = spec.model._base_manager.order_by("pk")
        for user in users.iterator(chunk_size=self.batch_size):
            latest = self.latest_identity.get(user.pk)
            if latest is None:
                continue  # reported by the presence check
            sealed, now = latest.content.get("row") or {}, spec.row(user)
            differ = sorted(k for k in now if sealed.get(k) != now[k])
            if differ:
                raise _Broken(
                    LedgerProblem(
                        f"the user's {', '.join(differ)} changed without an "
                        "identity entry: changed outside the application",
                        latest.chain,
                        latest.sequence,
                        latest.kind,
                        latest.object_table,
                        latest.object_pk,
                    )
                )
