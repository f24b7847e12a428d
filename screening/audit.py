"""Tamper evidence: canonical content, SHA-256 hash chain, and its verification."""

import hashlib
import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace

from django.db import models
from django.db.models.functions import Cast

from screening.common.processes import in_processes
from screening.models import (
    CriteriaSnapshot,
    CriterionOutcome,
    EligibilityDecision,
    Signature,
)

GENESIS_HASH = "0" * 64


def canonical_json(content: dict) -> bytes:
    return json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def sha256(content: dict) -> str:
    return hashlib.sha256(canonical_json(content)).hexdigest()


def _date(value):
    return value.isoformat() if value is not None else None


_ABSENT = object()


def _criteria_of(decision) -> list[dict]:
    criteria = getattr(decision, "criteria_as_evaluated", _ABSENT)
    if criteria is not _ABSENT:
        return criteria
    # A migration's historical model has the fields but not the property.
    if getattr(decision, "snapshot_id", None) is None:
        return decision.criteria_snapshot
    return decision.snapshot.content


def decision_content(
    decision: EligibilityDecision, outcomes: list[CriterionOutcome]
) -> dict:
    """Everything a decision records, in a form that survives a database round trip.

    Reads the decision's and outcomes' fields as attributes: model instances, or
    rows read back as values (``_as_read``), whose fields are converted alike.
    """
    content = {
        "trial_id": decision.trial_id,
        "sequence": decision.sequence,
        "screening_number": decision.screening_number,
        "initials": decision.initials,
        "sex": decision.sex,
        "date_of_birth": _date(decision.date_of_birth),
        "screening_date": _date(decision.screening_date),
        "age_years": decision.age_years,
        "meld": decision.meld,
        "outcome": decision.outcome,
        "blocking_codes": decision.blocking_codes,
        "unknown_codes": decision.unknown_codes,
        "to_collect": decision.to_collect,
        "entered": decision.entered,
        "normalised": decision.normalised,
        "computed": decision.computed,
        # Hashed as the records' own copy was before snapshots were stored
        # once: the content, wherever it is kept.
        "criteria_snapshot": _criteria_of(decision),
        "supersedes_id": decision.supersedes_id,
        "supersede_reason": decision.supersede_reason,
        "recorded_by_id": decision.recorded_by_id,
        "recorded_at": decision.recorded_at.isoformat(),
        "app_version": decision.app_version,
        "previous_hash": decision.previous_hash,
        "outcomes": [
            {
                "criterion_id": o.criterion_id,
                "criterion_history_id": o.criterion_history_id,
                "position": o.position,
                "code": o.code,
                "kind": o.kind,
                "outcome": o.outcome,
                "blocking": o.blocking,
                "reason": o.reason,
                "details": o.details,
                "missing": o.missing,
            }
            for o in sorted(outcomes, key=lambda o: o.position)
        ],
    }
    # Records made before sites existed keep their original content. The
    # criteria version is in the hashed snapshot (each criterion names it).
    if decision.site_id is not None:
        content["site_id"] = decision.site_id
    return content


def decision_hasher(
    decision: EligibilityDecision, outcomes: list[CriterionOutcome]
) -> Callable[[int, str], str]:
    """``sha256(decision_content(...))`` at a chain position yet to be known.

    The content is serialised once, before the chain's lock, with a random
    placeholder for the position (``sequence``) and the link
    (``previous_hash``); under the lock only these are put in and the bytes
    hashed. The bytes are those ``canonical_json`` gives with the real values:
    the keys do not change (so neither does their order), an integer is written
    as its digits and a hash as its quoted hex.
    """
    token = secrets.token_hex(16)
    content = decision_content(decision, outcomes)
    content["sequence"], content["previous_hash"] = f"S{token}", f"P{token}"
    serialised = canonical_json(content)
    slots = {
        "sequence": f'"S{token}"'.encode(),
        "previous_hash": f'"P{token}"'.encode(),
    }
    if any(serialised.count(slot) != 1 for slot in slots.values()):
        raise AssertionError("a placeholder is not in the content exactly once")
    # The pieces between the two slots, in the order the keys are written.
    order = sorted(slots, key=lambda name: serialised.index(slots[name]))
    first, second = (slots[name] for name in order)
    head, _, rest = serialised.partition(first)
    middle, _, tail = rest.partition(second)

    def content_hash(sequence: int, previous_hash: str) -> str:
        if type(sequence) is not int or len(previous_hash) != 64:
            raise ValueError("a chain position is an integer and a 64-digit hash")
        values = {
            "sequence": str(sequence).encode(),
            "previous_hash": json.dumps(previous_hash).encode(),
        }
        digest = hashlib.sha256(head)
        digest.update(values[order[0]])
        digest.update(middle)
        digest.update(values[order[1]])
        digest.update(tail)
        return digest.hexdigest()

    return content_hash


def signature_content(signature: Signature) -> dict:
    return {
        "decision_id": signature.decision_id,
        "decision_hash": signature.decision_hash,
        "signer_id": signature.signer_id,
        "signer_full_name": signature.signer_full_name,
        "signed_at": signature.signed_at.isoformat(),
        "meaning": signature.meaning,
        "statement": signature.statement,
        "reason": signature.reason,
        "override_outcome": signature.override_outcome,
    }


@dataclass(frozen=True, slots=True)
class ChainProblem:
    trial_id: int
    decision_id: int
    sequence: int
    problem: str


def verify_chains(
    batch_size: int = 2000, *, trial_id: int | None = None, processes: int = 1
) -> tuple[int, int, ChainProblem | None]:
    """Walk every trial's chain in order; return (decisions, signatures, first problem).

    With ``trial_id``, only that trial's chain and its decisions' signatures.
    Reads in batches so that a long chain does not load into memory at once.
    Each decision's content is read back and hashed again (in ``processes``
    workers when more than one); the sequence and the links are checked here,
    in chain order.
    """
    checked = 0
    decisions = EligibilityDecision.objects.system()
    signatures_of = Signature.objects.all()
    if trial_id is not None:
        decisions = decisions.filter(trial_id=trial_id)
        signatures_of = signatures_of.filter(decision__trial_id=trial_id)
    trial_ids = decisions.order_by().values_list("trial_id", flat=True).distinct()
    for chain_trial_id in sorted(set(trial_ids)):
        expected_previous = GENESIS_HASH
        expected_sequence = 1
        batches = _chain_batches(chain_trial_id, batch_size)
        for hashed in in_processes(_rehashed, batches, processes):
            for decision_id, sequence, previous_hash, content_hash, now in hashed:
                checked += 1
                problem = None
                if sequence != expected_sequence:
                    problem = f"sequence {sequence}, expected {expected_sequence}"
                elif previous_hash != expected_previous:
                    problem = "link to the previous record does not match"
                elif now != content_hash:
                    problem = "content does not match its hash"
                if problem:
                    return (
                        checked,
                        0,
                        ChainProblem(chain_trial_id, decision_id, sequence, problem),
                    )
                expected_previous = content_hash
                expected_sequence += 1
    signatures = 0
    signed = signatures_of.select_related("decision").only(
        *(f.name for f in Signature._meta.concrete_fields),
        "decision__trial_id",
        "decision__sequence",
        "decision__content_hash",
    )
    for signature in signed.order_by("pk"):
        signatures += 1
        problem = None
        if signature.decision_hash != signature.decision.content_hash:
            problem = "signature is linked to a different decision hash"
        elif sha256(signature_content(signature)) != signature.content_hash:
            problem = "signature content does not match its hash"
        if problem:
            decision = signature.decision
            return (
                checked,
                signatures,
                ChainProblem(
                    decision.trial_id, decision.pk, decision.sequence, problem
                ),
            )
    return checked, signatures, None


# --- reading a chain back --------------------------------------------------
#
# Rows are read as values, not model instances (building instances took most
# of a long chain's walk), and a JSON column as the text the database holds:
# the field itself decodes it where the content is hashed, in a worker when
# there are several, exactly as it does when it reads a model instance.


def _columns(model) -> tuple[tuple[str, models.JSONField | None], ...]:
    """Each concrete field's attribute name, with the field when it is JSON."""
    return tuple(
        (f.attname, f if isinstance(f, models.JSONField) else None)
        for f in model._meta.concrete_fields
    )


_DECISION_COLUMNS = _columns(EligibilityDecision)
_OUTCOME_COLUMNS = _columns(CriterionOutcome)
_DECISION_NAMES = [name for name, _ in _DECISION_COLUMNS]
_ID, _SEQUENCE = _DECISION_NAMES.index("id"), _DECISION_NAMES.index("sequence")
_SNAPSHOT = _DECISION_NAMES.index("snapshot_id")
_CONTENT_FIELD = CriteriaSnapshot._meta.get_field("content")
_OF_DECISION = [name for name, _ in _OUTCOME_COLUMNS].index("decision_id")
# Decisions a worker hashes in one call.
_CALL_SIZE = 250


def _selected(columns) -> list:
    return [Cast(name, models.TextField()) if json else name for name, json in columns]


def _chain_batches(trial_id: int, batch_size: int) -> Iterator[tuple[list]]:
    """A trial's decisions in chain order, each with its outcomes, as rows.

    One argument tuple per worker call: a list of (decision row, its outcome
    rows), in the columns of ``_DECISION_COLUMNS`` and ``_OUTCOME_COLUMNS``.
    """
    last_sequence = 0
    while True:
        decisions = list(
            EligibilityDecision.objects.system()
            .filter(trial_id=trial_id, sequence__gt=last_sequence)
            .order_by("sequence")
            .values_list(*_selected(_DECISION_COLUMNS))[:batch_size]
        )
        if not decisions:
            return
        outcomes: dict[int, list[tuple]] = {row[_ID]: [] for row in decisions}
        for row in CriterionOutcome.objects.filter(
            decision_id__in=list(outcomes)
        ).values_list(*_selected(_OUTCOME_COLUMNS)):
            outcomes[row[_OF_DECISION]].append(row)
        for start in range(0, len(decisions), _CALL_SIZE):
            rows = decisions[start : start + _CALL_SIZE]
            yield (
                [(row, outcomes[row[_ID]]) for row in rows],
                _snapshot_texts({row[_SNAPSHOT] for row in rows} - {None}),
            )
        last_sequence = decisions[-1][_SEQUENCE]


def _snapshot_texts(ids: set[int]) -> dict[int, str]:
    """The stored criteria snapshots of ``ids``, as the text the database holds
    (one or two per batch: decoded once per worker call, not once per record)."""
    if not ids:
        return {}
    return dict(
        CriteriaSnapshot.objects.filter(pk__in=ids).values_list(
            "pk", Cast("content", models.TextField())
        )
    )


def _as_read(columns, row: tuple) -> SimpleNamespace:
    """A row's values by attribute name, as a model instance would hold them."""
    return SimpleNamespace(
        **{
            name: value if json is None else json.from_db_value(value, None, None)
            for (name, json), value in zip(columns, row, strict=True)
        }
    )


def _rehashed(
    batch: list, snapshot_texts: dict[int, str]
) -> list[tuple[int, int, str, str, str]]:
    """(id, sequence, previous hash, stored hash, hash of the content now) of each.

    ``snapshot_texts``: the criteria snapshots the batch's records reference.
    """
    read = _CONTENT_FIELD.from_db_value
    snapshots = {pk: read(text, None, None) for pk, text in snapshot_texts.items()}
    hashed = []
    for decision_row, outcome_rows in batch:
        decision = _as_read(_DECISION_COLUMNS, decision_row)
        decision.criteria_as_evaluated = (
            decision.criteria_snapshot
            if decision.snapshot_id is None
            else snapshots[decision.snapshot_id]
        )
        outcomes = [_as_read(_OUTCOME_COLUMNS, row) for row in outcome_rows]
        hashed.append(
            (
                decision.id,
                decision.sequence,
                decision.previous_hash,
                decision.content_hash,
                sha256(decision_content(decision, outcomes)),
            )
        )
    return hashed
