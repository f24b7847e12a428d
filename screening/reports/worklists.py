"""The coordinator's worklist and the investigator's sign-off queue."""

import math

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.shortcuts import render
from django.utils import timezone

from accounts.scope import SCREEN, SIGN, scope_for, trial_for
from screening.common.words import input_label
from screening.decisions.context import how_close_rows, record_margins
from screening.domain.collect import to_collect
from screening.models import (
    CriterionOutcome,
    EligibilityDecision,
    not_signed,
    not_superseded,
)

LIMIT = 200
# The menu counts the decisions waiting to be signed up to this many, then
# shows "99+": a count of every unsigned record would grow with the trial and
# be paid on every page an investigator opens.
QUEUE_COUNT_CAP = 99


def collect_groups(outcomes) -> list[dict]:
    """What each undecided criterion still needs (screening.domain.collect), in
    the page's words; inputs awaited from the laboratory listed as pending."""
    groups = []
    for outcome in sorted(outcomes, key=lambda o: o.position):
        needed = to_collect(outcome.code, outcome.kind, outcome.details)
        if needed is None:
            continue
        groups.append(
            {
                "code": needed.code,
                "conditions": [
                    ", ".join(input_label(key) for key in keys)
                    for keys in needed.conditions
                ],
                "any_one": needed.any_one,
                "all_of": needed.all_of,
                "pending": [input_label(key) for key in needed.pending],
            }
        )
    return groups


def _undecided_outcomes() -> Prefetch:
    return Prefetch(
        "outcomes",
        queryset=CriterionOutcome.objects.filter(outcome="UNKNOWN").only(
            "decision_id", "code", "kind", "position", "details"
        ),
        to_attr="undecided",
    )


def _awaiting_signature(*, scope, trial, user) -> QuerySet[EligibilityDecision]:
    return (
        EligibilityDecision.objects.visible_to(scope, SIGN)
        .filter(not_signed(), not_superseded(), trial=trial)
        .exclude(recorded_by=user)
    )


def sign_queue_count(*, user, trial) -> int:
    """How many decisions wait for this investigator's signature (the menu), up
    to ``QUEUE_COUNT_CAP + 1``: more than the cap is all the menu says.

    The newest are counted first (the log's index on the trial and recording
    time), where unsigned records are in a trial whose older ones are signed.
    """
    scope = scope_for(user)
    if not scope.can(SIGN, trial.pk):
        return 0
    waiting = _awaiting_signature(scope=scope, trial=trial, user=user)
    return waiting.order_by("-recorded_at", "-pk")[: QUEUE_COUNT_CAP + 1].count()


def _longest_waiting(*, trial, current) -> dict[str, object]:
    """The ``LIMIT`` screening numbers first screened longest ago whose current
    record is in ``current``, each with when it was first screened.

    A number's first record is the one that supersedes nothing (corrections keep
    the number and come after it). The first records are walked oldest first
    along the log's index and each is kept when its number's current record is
    incomplete, so the walk stops after ``LIMIT`` of them; sorting every
    incomplete candidate by a computed first time would read them all.
    """
    firsts = (
        EligibilityDecision.unscoped.filter(trial=trial, supersedes__isnull=True)
        .filter(Exists(current.filter(screening_number=OuterRef("screening_number"))))
        .order_by("recorded_at", "pk")
        .values_list("screening_number", "recorded_at")[:LIMIT]
    )
    return dict(firsts)


def worklist(request, trial_slug):
    """Candidates whose latest decision is incomplete: what is still to collect."""
    trial = trial_for(request, trial_slug, SCREEN)
    current = EligibilityDecision.objects.visible_to(
        scope_for(request.user), SCREEN
    ).filter(not_superseded(), trial=trial, outcome="INCOMPLETE")
    first_screened = _longest_waiting(trial=trial, current=current)
    rows = list(
        current.filter(screening_number__in=list(first_screened))
        .select_related("recorded_by", "recorded_by__profile", "criteria_version")
        # Records of one criteria version share one stored snapshot: read once.
        .prefetch_related(_undecided_outcomes(), "snapshot")
        .only(
            "pk",
            "screening_number",
            "outcome",
            "to_collect",
            "unknown_codes",
            "recorded_at",
            "recorded_by__first_name",
            "recorded_by__last_name",
            "recorded_by__username",
            "recorded_by__profile__display_name_zh",
            # How close: read again from the record itself, no query per row.
            "entered",
            "criteria_snapshot",
            "snapshot",
            "blocking_codes",
            "criteria_version__near_miss_margin_percent",
            "criteria_version__screening_window_hours",
        )
    )
    now = timezone.now()
    for row in rows:
        row.first_screened = first_screened[row.screening_number]
        row.hours_left = hours_left(
            first_screened=row.first_screened,
            window_hours=row.criteria_version.screening_window_hours
            if row.criteria_version
            else None,
            now=now,
        )
        row.hours_over = -row.hours_left if row.hours_left is not None else None
        row.to_collect_labels = [input_label(key) for key in row.to_collect]
        row.collect_groups = collect_groups(row.undecided)
        row.waiting_hours = int((now - row.first_screened).total_seconds() // 3600)
        row.how_close = how_close_rows(record_margins(row, now=now), only_notable=True)
    # Most urgent first: the least time left in the window; then the longest
    # waiting of those whose version sets no window (sorts are stable).
    rows.sort(key=lambda r: (r.first_screened, r.pk))
    rows.sort(key=lambda r: (r.hours_left is None, r.hours_left or 0))
    return render(
        request,
        "screening/worklist.html",
        {"trial": trial, "rows": rows, "limit": LIMIT},
    )


def hours_left(*, first_screened, window_hours: int | None, now) -> int | None:
    """Hours left in the screening window, counted from the first screening.

    A started hour counts whole, both ways: 30 minutes left is 1; at the end
    of the window or 30 minutes past it, -1 (over by 1). None without a window.
    """
    if window_hours is None or first_screened is None:
        return None
    seconds = window_hours * 3600 - (now - first_screened).total_seconds()
    if seconds > 0:
        return math.ceil(seconds / 3600)
    return -max(1, math.ceil(-seconds / 3600))


def sign_queue(request, trial_slug):
    """Decisions this investigator may sign: unsigned, current, not their own."""
    trial = trial_for(request, trial_slug, SIGN)
    rows = (
        _awaiting_signature(
            scope=scope_for(request.user), trial=trial, user=request.user
        )
        .select_related("recorded_by__profile", "criteria_version")
        .defer("entered", "normalised", "computed", "criteria_snapshot")
        .order_by("recorded_at", "pk")[:LIMIT]
    )
    return render(
        request,
        "screening/sign_queue.html",
        {"trial": trial, "rows": rows, "limit": LIMIT},
    )
