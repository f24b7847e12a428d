"""Writes to trials and criteria."""

from django.db import transaction

from . import trial_data
from .models import Condition, Criterion, Site, Trial

LOAD_REASON = "Loaded from the protocol listing (load_trial)"


@transaction.atomic
def trial_load_protocol() -> tuple[Trial, int]:
    """Create NCT06904755 and its criteria if missing; never overwrite admin edits.

    Returns the trial and the number of criteria created (0 on a second run).
    """
    trial = Trial.objects.filter(slug=trial_data.TRIAL["slug"]).first()
    if trial is None:
        trial = Trial(**trial_data.TRIAL)
        trial._change_reason = LOAD_REASON
        trial.full_clean()
        trial.save()
    if not trial.sites.exists():
        site = Site(trial=trial, **trial_data.SITE)
        site._change_reason = LOAD_REASON
        site.full_clean()
        site.save()
    existing = set(trial.criteria.values_list("code", flat=True))
    created = 0
    for position, row in enumerate(trial_data.CRITERIA, start=1):
        code, kind, attestation, text, text_zh, conditions = row
        if code in existing:
            continue
        criterion = Criterion(
            trial=trial,
            code=code,
            kind=kind,
            position=position,
            text=text,
            text_zh_hans=text_zh,
            is_attestation=attestation,
        )
        criterion._change_reason = LOAD_REASON
        criterion.full_clean()
        criterion.save()
        for index, (variable, op, low, high, values, unit) in enumerate(
            conditions, start=1
        ):
            condition = Condition(
                criterion=criterion,
                position=index,
                variable=variable,
                operator=op,
                value_low=low,
                value_high=high,
                values=values,
                unit=unit,
            )
            condition._change_reason = LOAD_REASON
            condition.full_clean()
            condition.save()
        created += 1
    return trial, created
