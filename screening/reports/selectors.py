"""Reads of the screening log and the funnel, filtered and sorted in the database."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, Sum, When

from accounts.scope import VIEW, Scope
from screening.models import (
    CriterionOutcome,
    EligibilityDecision,
    FunnelBlocking,
    FunnelCount,
    Signature,
    not_signed,
    not_superseded,
)
from trials.models import Trial


def effective_outcome(prefix: str = "") -> Case:
    """The decision that counts: the investigator's where they disagreed and gave
    their own, else the engine's (an expression over a decision's columns)."""
    override = f"{prefix}signature__override_outcome"
    return Case(
        When(
            Q(**{f"{override}__isnull": False}) & ~Q(**{override: ""}),
            then=F(override),
        ),
        default=F(f"{prefix}outcome"),
    )


def counts_as(outcome: str) -> Q:
    """A filter: the decision that counts is ``outcome`` (``effective_outcome``
    as conditions on the decision's own column and its signature, which the
    database can estimate and walk an index for; the Case expression it cannot).
    """
    overridden = Signature.objects.filter(decision=OuterRef("pk")).exclude(
        override_outcome=""
    )
    return (Q(outcome=outcome) & ~Exists(overridden)) | Exists(
        overridden.filter(override_outcome=outcome)
    )


SORTS = {
    "recorded": "recorded_at",
    "number": "screening_number",
    "decision": "outcome",
    "screening_date": "screening_date",
    "age": "age_years",
    "meld": "meld",
}


@dataclass(frozen=True, slots=True)
class LogFilter:
    outcome: str = ""
    blocking: str = ""
    date_from: date | None = None
    date_to: date | None = None
    recorded_by: int | None = None
    signed: str = ""  # "", "signed", "unsigned", "disagreed"
    q: str = ""
    sort: str = "-recorded"
    current_only: bool = False

    def as_dict(self) -> dict:
        return {
            key: (value.isoformat() if isinstance(value, date) else value)
            for key, value in (
                ("outcome", self.outcome),
                ("blocking", self.blocking),
                ("date_from", self.date_from),
                ("date_to", self.date_to),
                ("recorded_by", self.recorded_by),
                ("signed", self.signed),
                ("q", self.q),
                ("sort", self.sort),
                ("current_only", self.current_only),
            )
            if value not in ("", None, False)
        }


def decision_log(
    *, scope: Scope, trial: Trial, filters: LogFilter
) -> QuerySet[EligibilityDecision]:
    """The screening log: filtered, sorted, with who screened and the sign-off."""
    qs = (
        EligibilityDecision.objects.visible_to(scope, VIEW)
        .filter(trial=trial)
        .select_related(
            "recorded_by__profile",
            "signature__signer__profile",
            "superseded_by",
            "criteria_version",
        )
        .defer(
            "entered",
            "normalised",
            "criteria_snapshot",
            "superseded_by__entered",
            "superseded_by__normalised",
            "superseded_by__criteria_snapshot",
            "superseded_by__computed",
        )
    )
    f = filters
    qs = qs.annotate(effective=effective_outcome())
    if f.outcome:
        qs = qs.filter(counts_as(f.outcome))
    if f.blocking:
        qs = qs.filter(
            Exists(
                CriterionOutcome.objects.filter(
                    decision=OuterRef("pk"), code=f.blocking, blocking=True
                )
            )
        )
    if f.date_from:
        qs = qs.filter(screening_date__gte=f.date_from)
    if f.date_to:
        qs = qs.filter(screening_date__lte=f.date_to)
    if f.recorded_by:
        qs = qs.filter(recorded_by_id=f.recorded_by)
    if f.signed == "signed":
        qs = qs.filter(signature__isnull=False)
    elif f.signed == "unsigned":
        qs = qs.filter(not_signed())
    elif f.signed == "disagreed":
        qs = qs.filter(signature__meaning=Signature.Meaning.DISAGREE)
    if f.q:
        term = f.q.strip()[:20]
        qs = qs.filter(Q(screening_number__icontains=term) | Q(initials__iexact=term))
    if f.current_only:
        qs = qs.filter(not_superseded())
    # Ties (many records share a MELD, an age, a date) are broken by id in the
    # same direction, so that one index on (trial, column, id) gives the order
    # and a page reads no more rows than it shows.
    field = SORTS.get(f.sort.lstrip("-"), "recorded_at")
    if f.sort.startswith("-"):
        return qs.order_by(f"-{field}", "-id")
    return qs.order_by(field, "id")


@dataclass(frozen=True, slots=True)
class Funnel:
    screened: int
    eligible: int
    ineligible: int
    incomplete: int
    reasons: list[tuple[str, str, int]]  # code, kind, candidates excluded by it


def screening_funnel(
    *, scope: Scope, trial: Trial, date_from: date | None, date_to: date | None
) -> Funnel:
    """Counts over each candidate's latest record (corrections replace originals),
    read from the summary (screening/reports/summary.py), by the sites the user
    may see.

    A candidate excluded by several criteria counts under each of them.
    """
    dated = {}
    if date_from:
        dated["screening_date__gte"] = date_from
    if date_to:
        dated["screening_date__lte"] = date_to
    visible = scope.q(VIEW)
    counts = dict(
        FunnelCount.objects.filter(visible, trial=trial, **dated)
        .order_by()
        .values_list("outcome")
        .annotate(n=Sum("candidates"))
    )
    reasons = (
        FunnelBlocking.objects.filter(visible, trial=trial, **dated)
        .order_by()
        .values_list("code", "kind", "position")
        .annotate(n=Sum("candidates"))
        .filter(n__gt=0)
    )
    ordered = sorted(reasons, key=lambda r: (r[2], r[0]))
    return Funnel(
        screened=sum(counts.values()),
        eligible=counts.get("ELIGIBLE", 0),
        ineligible=counts.get("INELIGIBLE", 0),
        incomplete=counts.get("INCOMPLETE", 0),
        reasons=[(code, kind, n) for code, kind, _position, n in ordered],
    )
