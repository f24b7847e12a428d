"""The funnel's summary: counts kept where records change, rebuilt from them.

``FunnelCount`` holds the current candidates (each candidate's latest record)
per trial, site, screening date and the decision that counts (the
investigator's where they disagreed and gave their own, else the engine's);
``FunnelBlocking`` the current ineligible candidates each blocking criterion
excludes. Both are derived data: changed in the transaction of the decision
(``funnel_recorded``, from ``decisions.services._append``) or signature
(``funnel_signed``) that changes them, under the trial's chain lock, which
serialises every writer of a trial's counts; ``funnel_rebuild`` recomputes them
from the records. An enrolment changes nothing here.

Counts move relative to what is stored, never by a read and a write, so no
writer loses another's count: a candidate added is one ``INSERT ... ON CONFLICT
DO UPDATE SET candidates = candidates + n`` per table (PostgreSQL and SQLite);
a candidate taken out (a correction) is an insert-if-missing of the row at 0
and an ``UPDATE ... candidates + n``, so that counts out of step with the
records fail the check constraint instead of passing unseen.
"""

from collections import Counter
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef

from screening.models import (
    CriterionOutcome,
    EligibilityDecision,
    FunnelBlocking,
    FunnelCount,
    Signature,
)
from screening.reports.selectors import effective_outcome
from trials.models import Trial

INELIGIBLE = EligibilityDecision.Result.INELIGIBLE.value
COUNT_KEY = ("site_id", "screening_date", "outcome")
BLOCKING_KEY = ("site_id", "screening_date", "code", "kind", "position")


def effective(outcome: str, override: str | None) -> str:
    """The decision that counts, as ``selectors.effective_outcome`` says in SQL."""
    return override or outcome


class FunnelDeltas:
    """Changes to a trial's counts, applied together (one batch, one record)."""

    def __init__(self, trial_id: int):
        self.trial_id = trial_id
        self.counts: Counter[tuple] = Counter()
        self.blocking: Counter[tuple] = Counter()

    def candidate(
        self,
        *,
        site_id,
        screening_date,
        outcome: str,
        blocking: Iterable[tuple[str, str, int]],
        sign: int = 1,
    ) -> None:
        """Add (``sign`` 1) or take out (-1) one current candidate."""
        self.counts[(site_id, screening_date, outcome)] += sign
        if outcome == INELIGIBLE:
            for code, kind, position in blocking:
                self.blocking[(site_id, screening_date, code, kind, position)] += sign

    def apply(self) -> None:
        _apply(FunnelCount, COUNT_KEY, self.trial_id, self.counts)
        _apply(FunnelBlocking, BLOCKING_KEY, self.trial_id, self.blocking)


def _apply(model, fields, trial_id: int, deltas: Counter) -> None:
    added = [(key, n) for key, n in deltas.items() if n > 0]
    for start in range(0, len(added), _UPSERT_ROWS):
        _upsert(model, fields, trial_id, added[start : start + _UPSERT_ROWS])
    taken = {key: n for key, n in deltas.items() if n < 0}
    if not taken:
        return
    # A missing row is made at 0 first, so that taking out a candidate the
    # counts do not hold fails the check constraint instead of passing unseen.
    model.objects.bulk_create(
        [
            model(
                trial_id=trial_id, candidates=0, **dict(zip(fields, key, strict=True))
            )
            for key in taken
        ],
        ignore_conflicts=True,
    )
    for key, n in taken.items():
        where = dict(zip(fields, key, strict=True))
        model.objects.filter(trial_id=trial_id, **where).update(
            candidates=F("candidates") + n
        )


# Rows per upsert statement: 7 parameters a row stays well inside SQLite's
# limit on bound parameters (32,766) in a bulk load's batch.
_UPSERT_ROWS = 1000


def _upsert(model, fields, trial_id: int, added: list[tuple[tuple, int]]) -> None:
    """Add ``n`` to each key's row, creating it at ``n``: one statement.

    The conflict target is the unique key's own expression (a missing site
    counts as site 0), so the database infers that index.
    """
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ["trial_id", *fields, "candidates"]
    target = ", ".join(
        "COALESCE(site_id, 0)" if name == "site_id" else connection.ops.quote_name(name)
        for name in ["trial_id", *fields]
    )
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    # Names come from the model and this module; every value is a parameter.
    names = ", ".join(map(connection.ops.quote_name, columns))
    sql = (
        f"INSERT INTO {table} ({names}) "  # noqa: S608
        f"VALUES {', '.join([row] * len(added))} "
        f"ON CONFLICT ({target}) DO UPDATE "
        f"SET candidates = {table}.candidates + excluded.candidates"
    )
    params = [value for key, n in added for value in (trial_id, *key, n)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _blocking_of(decision_id: int) -> list[tuple[str, str, int]]:
    return list(
        CriterionOutcome.objects.filter(decision_id=decision_id, blocking=True)
        .order_by()
        .values_list("code", "kind", "position")
    )


def funnel_recorded(*, decision: EligibilityDecision, outcomes) -> None:
    """Count a decision just inserted (its trial's chain lock held); a correction
    takes its original out of the counts."""
    deltas = FunnelDeltas(decision.trial_id)
    deltas.candidate(
        site_id=decision.site_id,
        screening_date=decision.screening_date,
        outcome=decision.outcome,
        blocking=[(o.code, o.kind, o.position) for o in outcomes if o.blocking],
    )
    if decision.supersedes_id is not None:
        original = decision.supersedes
        override = (
            Signature.objects.filter(decision_id=original.pk)
            .values_list("override_outcome", flat=True)
            .first()
        )
        deltas.candidate(
            site_id=original.site_id,
            screening_date=original.screening_date,
            outcome=effective(original.outcome, override),
            blocking=_blocking_of(original.pk),
            sign=-1,
        )
    deltas.apply()


def funnel_signed(*, signature: Signature) -> None:
    """Move a candidate whose decision that counts a disagreeing signature changes.

    Called in the signature's transaction before it is saved: the trial's lock is
    then taken before the ledger head's, in the order a decision takes them.
    """
    decision = signature.decision
    now = effective(decision.outcome, signature.override_outcome)
    if now == decision.outcome:
        return
    Trial.objects.select_for_update().filter(pk=decision.trial_id).values("pk").first()
    if EligibilityDecision.unscoped.filter(supersedes_id=decision.pk).exists():
        return  # a correction took it out of the counts already
    blocking = _blocking_of(decision.pk)
    deltas = FunnelDeltas(decision.trial_id)
    where = {"site_id": decision.site_id, "screening_date": decision.screening_date}
    deltas.candidate(**where, outcome=decision.outcome, blocking=blocking, sign=-1)
    deltas.candidate(**where, outcome=now, blocking=blocking)
    deltas.apply()


def funnel_recount(*, trial: Trial) -> tuple[dict, dict]:
    """The counts recomputed from the records: {key: n} for each table (no zeros)."""
    counts = (
        EligibilityDecision.unscoped.filter(trial=trial, superseded_by__isnull=True)
        .annotate(effective=effective_outcome())
        .order_by()
        .values_list("site_id", "screening_date", "effective")
        .annotate(n=Count("id"))
    )
    blocking = (
        CriterionOutcome.objects.filter(blocking=True, decision__trial=trial)
        .annotate(effective=effective_outcome("decision__"))
        .filter(effective=INELIGIBLE)
        .exclude(
            Exists(EligibilityDecision.unscoped.filter(supersedes=OuterRef("decision")))
        )
        .order_by()
        .values_list(
            "decision__site_id", "decision__screening_date", "code", "kind", "position"
        )
        .annotate(n=Count("id"))
    )
    return (
        {tuple(row[:-1]): row[-1] for row in counts},
        {tuple(row[:-1]): row[-1] for row in blocking},
    )


def funnel_stored(*, trial: Trial) -> tuple[dict, dict]:
    """The summary as stored, in ``funnel_recount``'s shape (zero rows left out)."""
    return tuple(
        {
            tuple(row[:-1]): row[-1]
            for row in model.objects.filter(trial=trial, candidates__gt=0)
            .order_by()
            .values_list(*fields, "candidates")
        }
        for model, fields in ((FunnelCount, COUNT_KEY), (FunnelBlocking, BLOCKING_KEY))
    )


@transaction.atomic
def funnel_rebuild(*, trial: Trial) -> tuple[int, int]:
    """Replace the trial's summary with a recomputation, under the trial's lock
    (no decision or disagreeing signature lands meanwhile); returns row counts."""
    Trial.objects.select_for_update().filter(pk=trial.pk).values("pk").first()
    counts, blocking = funnel_recount(trial=trial)
    FunnelCount.objects.filter(trial=trial).delete()
    FunnelBlocking.objects.filter(trial=trial).delete()
    FunnelCount.objects.bulk_create(
        [
            FunnelCount(
                trial=trial, candidates=n, **dict(zip(COUNT_KEY, key, strict=True))
            )
            for key, n in counts.items()
        ],
        batch_size=1000,
    )
    FunnelBlocking.objects.bulk_create(
        [
            FunnelBlocking(
                trial=trial, candidates=n, **dict(zip(BLOCKING_KEY, key, strict=True))
            )
            for key, n in blocking.items()
        ],
        batch_size=1000,
    )
    return len(counts), len(blocking)
