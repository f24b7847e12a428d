"""Tamper evidence: canonical content, SHA-256 hash chain, and its verification."""

import hashlib
import json
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from screening.models import CriterionOutcome, EligibilityDecision, Signature

GENESIS_HASH = "0" * 64


def canonical_json(content: dict) -> bytes:
    return json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def sha256(content: dict) -> str:
    return hashlib.sha256(canonical_json(content)).hexdigest()


def _date(value):
    return value.isoformat() if value is not None else None


def decision_content(
    decision: EligibilityDecision, outcomes: list[CriterionOutcome]
) -> dict:
    """Everything a decision records, in a form that survives a database round trip."""
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
        "criteria_snapshot": decision.criteria_snapshot,
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
    batch_size: int = 2000, *, trial_id: int | None = None
) -> tuple[int, int, ChainProblem | None]:
    """Walk every trial's chain in order; return (decisions, signatures, first problem).

    With ``trial_id``, only that trial's chain and its decisions' signatures.
    Reads in batches so that a long chain does not load into memory at once.
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
        for decision, outcomes in _iter_chain(chain_trial_id, batch_size):
            checked += 1
            problem = None
            if decision.sequence != expected_sequence:
                problem = f"sequence {decision.sequence}, expected {expected_sequence}"
            elif decision.previous_hash != expected_previous:
                problem = "link to the previous record does not match"
            elif sha256(decision_content(decision, outcomes)) != decision.content_hash:
                problem = "content does not match its hash"
            if problem:
                return (
                    checked,
                    0,
                    ChainProblem(
                        chain_trial_id, decision.pk, decision.sequence, problem
                    ),
                )
            expected_previous = decision.content_hash
            expected_sequence += 1
    signatures = 0
    for signature in signatures_of.select_related("decision").order_by("pk"):
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


def _iter_chain(
    trial_id: int, batch_size: int
) -> Iterator[tuple[EligibilityDecision, list[CriterionOutcome]]]:
    last_sequence = 0
    while True:
        batch = list(
            EligibilityDecision.objects.system()
            .filter(trial_id=trial_id, sequence__gt=last_sequence)
            .order_by("sequence")[:batch_size]
        )
        if not batch:
            return
        outcomes: dict[int, list[CriterionOutcome]] = {d.pk: [] for d in batch}
        for outcome in CriterionOutcome.objects.filter(decision__in=batch):
            outcomes[outcome.decision_id].append(outcome)
        for decision in batch:
            yield decision, outcomes[decision.pk]
        last_sequence = batch[-1].sequence
