"""The adapter from criterion rows to the engine's plain specs, with a snapshot."""

import json
from dataclasses import dataclass
from functools import lru_cache

from django.db.models import Max, Prefetch

from screening.domain.engine import CriterionKind, CriterionSpec
from screening.domain.specs import specs_from_snapshot
from trials.models import Condition, CriteriaVersion, Criterion, Trial
from trials.services import version_active


@dataclass(frozen=True, slots=True)
class CriteriaSet:
    """The trial's active criteria as the engine sees them, and as recorded."""

    specs: tuple[CriterionSpec, ...]
    rows: dict[str, Criterion]
    history_ids: dict[int, int]
    snapshot: list[dict]
    version: CriteriaVersion | None = None


def criteria_load(
    *, trial: Trial, version: CriteriaVersion | None = None
) -> CriteriaSet:
    """A version's criteria (the active one by default) in protocol order.

    With their conditions and the history id of each row: four queries whatever
    the number of criteria.
    """
    if version is None:
        version = version_active(trial=trial)
    rows = list(
        Criterion.objects.filter(trial=trial, version=version, active=True)
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
    window = version.default_lookback_hours if version else None
    specs = []
    snapshot = []
    for row in rows:
        conditions = list(row.conditions.all())
        condition_specs = [c.to_spec(window) for c in conditions]
        specs.append(
            CriterionSpec(
                code=row.code,
                kind=CriterionKind(row.kind),
                conditions=tuple(condition_specs),
                text=row.text,
            )
        )
        snapshot.append(
            {
                "id": row.pk,
                "history_id": criterion_versions.get(row.pk),
                "version_id": version.pk if version else None,
                "version": version.number if version else None,
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
                        "supporting": c.supporting,
                        # The window that applied (the version's, if the row
                        # names none): the snapshot is read back without it.
                        "lookback_hours": spec.lookback_hours,
                        "relative_to_uln": c.relative_to_uln,
                        "lab_uln_replaces": c.lab_uln_replaces,
                    }
                    for c, spec in zip(conditions, condition_specs, strict=True)
                ],
            }
        )
    return CriteriaSet(
        specs=tuple(specs),
        rows={r.code: r for r in rows},
        history_ids=criterion_versions,
        snapshot=snapshot,
        version=version,
    )


def criteria_from_snapshot(snapshot: list[dict]) -> CriteriaSet:
    """A record's criteria as it was decided on, from its own snapshot.

    The specs come from the builder the rows' specs come from
    (``screening.domain.specs``), so they are the ones the record was evaluated
    against. Raises ValueError, KeyError or TypeError for a snapshot the engine
    cannot read.

    Records of one criteria version carry equal snapshots: a list of them (the
    worklist's 200 rows) builds the specs once per distinct snapshot, found by
    its canonical text (a bounded cache; refusals are raised again each time).
    The set returned carries the snapshot it was given.
    """
    try:
        text = json.dumps(snapshot, sort_keys=True, separators=(",", ":"))
    except TypeError:  # not as stored (values built in memory): read as it is
        specs = specs_from_snapshot(snapshot)
    else:
        specs = _specs_from_snapshot_text(text)
    return CriteriaSet(specs=specs, rows={}, history_ids={}, snapshot=snapshot)


@lru_cache(maxsize=64)
def _specs_from_snapshot_text(text: str) -> tuple[CriterionSpec, ...]:
    return specs_from_snapshot(json.loads(text))


def _text(value):
    return None if value is None else f"{value.normalize():f}"


_CACHE: dict[tuple, CriteriaSet] = {}


def criteria_current(*, trial: Trial) -> CriteriaSet:
    """The active version's criteria, built once per process and version.

    An active version and its criteria and conditions cannot change (database
    triggers refuse any UPDATE, INSERT or DELETE, bulk or raw), so the version's
    id is the whole cache key: one small query per call, and no write path can
    leave a worker deciding on old criteria.
    """
    version = version_active(trial=trial)
    if version is None:
        return criteria_load(trial=trial, version=None)
    # The id with the version's creation time: an id alone can come back after a
    # rolled-back transaction (tests, SQLite), a signed version never changes.
    key = (version.pk, version.created_at, version.effective_from)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    criteria = criteria_load(trial=trial, version=version)
    _CACHE[key] = criteria
    return criteria
