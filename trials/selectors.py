"""Reads of a trial's criteria across its versions."""

from django.db.models import Min

from .models import CriteriaVersion, Criterion, Trial


def criteria_shown(*, trial: Trial) -> list[Criterion]:
    """Each criterion code once, with the wording of its newest signed version.

    Old records name codes of earlier versions; a code that a later version
    dropped keeps the wording it last had.
    """
    rows = (
        Criterion.objects.filter(trial=trial)
        .exclude(version__state=CriteriaVersion.State.DRAFT)
        .select_related("version")
        .order_by("position", "code", "-version__number")
    )
    shown: dict[str, Criterion] = {}
    for row in rows:
        shown.setdefault(row.code, row)
    return sorted(shown.values(), key=lambda c: (c.position, c.code))


def criterion_codes(*, trial: Trial) -> list[str]:
    """Every criterion code of the trial's signed versions, in protocol order."""
    rows = (
        Criterion.objects.filter(trial=trial)
        .exclude(version__state=CriteriaVersion.State.DRAFT)
        .values("code")
        .annotate(position=Min("position"))
        .order_by("position", "code")
    )
    return [row["code"] for row in rows]
