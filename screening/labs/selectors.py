"""Reads of the lab inbox for pages, the API and the screening form."""

from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model
from django.utils.translation import gettext

from accounts.names import display_name
from accounts.scope import SCREEN
from screening.common.words import UNIT_LABELS
from screening.domain.inputs import INPUTS
from screening.labs.models import LabReview, LabSource, LabValue
from screening.models import EligibilityDecision

PENDING = "PENDING"


def state(value: LabValue) -> str:
    """PENDING, APPROVED or REJECTED: from the value's review, if any."""
    review = getattr(value, "review", None)
    return review.verdict if review is not None else PENDING


def visible_values(scope, perm: str = SCREEN):
    return (
        LabValue.objects.visible_to(scope, perm)
        .select_related(
            "lab_import__imported_by", "review__reviewed_by__profile", "site"
        )
        .defer("lab_import__content")
    )


@dataclass
class CandidateInbox:
    screening_number: str
    pending: list = field(default_factory=list)
    approved: list = field(default_factory=list)
    rejected: list = field(default_factory=list)
    decision_id: int | None = None


def inbox(*, scope, trial) -> list[CandidateInbox]:
    """The trial's values the user may screen, by candidate, newest first."""
    rows = (
        visible_values(scope)
        .filter(trial=trial)
        .order_by("screening_number", "input_key", "-collected_at", "-id")
    )
    by_number: dict[str, CandidateInbox] = {}
    for value in rows:
        box = by_number.setdefault(
            value.screening_number, CandidateInbox(value.screening_number)
        )
        value.label = _label(value.input_key)
        value.unit_label = _unit_label(value.entry.get("unit", ""))
        {
            PENDING: box.pending,
            LabReview.Verdict.APPROVED: box.approved,
            LabReview.Verdict.REJECTED: box.rejected,
        }[state(value)].append(value)
    latest = latest_decisions(scope=scope, trial=trial, numbers=list(by_number))
    for number, box in by_number.items():
        box.decision_id = latest.get(number)
    return list(by_number.values())


def latest_decisions(*, scope, trial, numbers) -> dict[str, int]:
    """The latest record's id of each screening number the user may see."""
    found: dict[str, int] = {}
    for number, pk in (
        EligibilityDecision.objects.visible_to(scope, SCREEN)
        .filter(trial=trial, screening_number__in=numbers)
        .order_by("screening_number", "sequence")
        .values_list("screening_number", "pk")
    ):
        found[number] = pk
    return found


def prefill_entries(*, scope, trial, screening_number: str) -> dict[str, dict]:
    """The latest approved value of each input, in the contract's form."""
    entries: dict[str, dict] = {}
    approved = (
        LabValue.objects.visible_to(scope, SCREEN)
        .filter(
            trial=trial,
            screening_number=screening_number,
            review__verdict=LabReview.Verdict.APPROVED,
        )
        .order_by("input_key", "-collected_at", "-id")
        .values_list("input_key", "entry")
    )
    for key, entry in approved:
        entries.setdefault(key, entry)
    return entries


def _label(key: str) -> str:
    item = INPUTS.get(key)
    return gettext(item.label) if item is not None else key


def _unit_label(unit: str) -> str:
    return str(UNIT_LABELS.get(unit, unit))


def _moment(text) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except (TypeError, ValueError):
        return None


def decision_sources(*, decision) -> list[LabSource]:
    """Where each lab input of a decision came from, in registry order, with
    the times of its provenance as datetimes (shown in the site's zone)."""
    order = {key: i for i, key in enumerate(INPUTS)}
    sources = list(LabSource.objects.filter(decision=decision))
    # Who approved each value, by the id its provenance seals, shown by name
    # as every page names people (accounts/names.py), not by account name.
    approvers = (
        get_user_model()
        ._default_manager.select_related("profile")
        .in_bulk({s.content.get("approved_by_id") for s in sources} - {None})
    )
    for source in sources:
        content = source.content
        source.label = _label(source.input_key)
        source.unit_label = _unit_label(content.get("unit", ""))
        source.collected_at = _moment(content.get("collected_at"))
        source.approved_at = _moment(content.get("approved_at"))
        source.approver = approvers.get(content.get("approved_by_id"))
        # As sealed when the account is gone.
        source.approver_name = (
            display_name(source.approver)
            if source.approver
            else content.get("approved_by", "")
        )
    return sorted(sources, key=lambda s: order.get(s.input_key, len(order)))
