"""The adapter from criterion rows to the engine's plain specs, with a snapshot."""

from dataclasses import dataclass

from django.db.models import Max, Prefetch, Subquery

from screening.domain.engine import CriterionKind, CriterionSpec
from trials.models import Condition, Criterion, Trial


@dataclass(frozen=True, slots=True)
class CriteriaSet:
    """The trial's active criteria as the engine sees them, and as recorded."""

    specs: tuple[CriterionSpec, ...]
    rows: dict[str, Criterion]
    history_ids: dict[int, int]
    snapshot: list[dict]


def criteria_load(*, trial: Trial) -> CriteriaSet:
    """Active criteria in protocol order with their conditions and versions.

    Four queries whatever the number of criteria: criteria, conditions, and the
    latest history id of each.
    """
    rows = list(
        Criterion.objects.filter(trial=trial, active=True)
        .order_by("position", "code")
        .prefetch_related(
            Prefetch(
                "conditions", queryset=Condition.objects.order_by("position", "id")
            )
        )
    )
    criterion_versions = dict(
        Criterion.history.filter(id__in=[r.pk for r in rows])
        .values("id")
        .annotate(latest=Max("history_id"))
        .values_list("id", "latest")
    )
    condition_ids = [c.pk for r in rows for c in r.conditions.all()]
    condition_versions = dict(
        Condition.history.filter(id__in=condition_ids)
        .values("id")
        .annotate(latest=Max("history_id"))
        .values_list("id", "latest")
    )
    specs = []
    snapshot = []
    for row in rows:
        conditions = list(row.conditions.all())
        specs.append(
            CriterionSpec(
                code=row.code,
                kind=CriterionKind(row.kind),
                conditions=tuple(c.to_spec() for c in conditions),
                text=row.text,
            )
        )
        snapshot.append(
            {
                "id": row.pk,
                "history_id": criterion_versions.get(row.pk),
                "code": row.code,
                "kind": row.kind,
                "position": row.position,
                "text": row.text,
                "text_zh_hans": row.text_zh_hans,
                "conditions": [
                    {
                        "id": c.pk,
                        "history_id": condition_versions.get(c.pk),
                        "variable": c.variable,
                        "operator": c.operator,
                        "value_low": _text(c.value_low),
                        "value_high": _text(c.value_high),
                        "values": c.values,
                        "unit": c.unit,
                    }
                    for c in conditions
                ],
            }
        )
    return CriteriaSet(
        specs=tuple(specs),
        rows={r.code: r for r in rows},
        history_ids=criterion_versions,
        snapshot=snapshot,
    )


def _text(value):
    return None if value is None else f"{value.normalize():f}"


_CACHE: dict[int, tuple[tuple, CriteriaSet]] = {}


def criteria_current(*, trial: Trial) -> CriteriaSet:
    """``criteria_load``, reused in this process until a criterion or condition changes.

    Every save or delete of a criterion or condition writes a history row (admin
    and services always save through the ORM), so the newest history id and time
    of each say whether the rows changed: one query instead of four, and no rebuild.
    """
    newest = {
        f"{name}_{part}": Subquery(
            model.history.order_by(f"-{field}").values(field)[:1]
        )
        for name, model in (("criterion", Criterion), ("condition", Condition))
        for part, field in (("id", "history_id"), ("at", "history_date"))
    }
    version = (
        Trial.objects.filter(pk=trial.pk)
        .annotate(**newest)
        .values_list(*newest)
        .first()
    )
    cached = _CACHE.get(trial.pk)
    if cached is not None and cached[0] == version:
        return cached[1]
    criteria = criteria_load(trial=trial)
    _CACHE[trial.pk] = (version, criteria)
    return criteria
