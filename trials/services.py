"""Writes to trials, their criteria versions and criteria."""

from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import files
from .models import Condition, CriteriaVersion, Criterion, Site, Trial

LOAD_REASON = "Loaded from a trial file (load_trial)"
COPY_REASON = "Copied from version %(number)s into a new draft"


@dataclass
class TrialFileLoad:
    """What a load of a trial file did; ``notes`` say what was kept and why."""

    trial: Trial
    trial_created: bool = False
    sites_created: int = 0
    versions_created: list[tuple[int, str]] = field(default_factory=list)
    criteria_created: int = 0
    conditions_created: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.trial_created or self.sites_created or self.versions_created)


def _problems(exc: ValidationError, path: str) -> list[tuple[str, str]]:
    """A model's ValidationError as (file path, message) pairs."""
    out = []
    for name, messages in exc.message_dict.items():
        where = path if name == NON_FIELD_ERRORS else f"{path}.{name}"
        out.extend((where, message) for message in messages)
    return out


def _checked(instance, path: str, problems: list, exclude=()) -> None:
    try:
        instance.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        problems.extend(_problems(exc, path))


@dataclass
class _Planned:
    """One version of the file as unsaved, validated rows."""

    index: int
    data: dict
    version: CriteriaVersion
    criteria: list[tuple[Criterion, list[Condition]]]

    def content(self) -> dict:
        """What a reload compares: everything but the state and its start."""
        return _content(
            self.version,
            [files.criterion_dict(c, conditions) for c, conditions in self.criteria],
        )


def _content(version: CriteriaVersion, criteria: list[dict]) -> dict:
    data = files.version_dict(version, criteria, None)
    for moving in ("state", "effective_from", "based_on"):
        data.pop(moving)
    return data


def _plan(
    data: dict, problems: list, *, check_trial: bool
) -> tuple[Trial, list[Site], list[_Planned]]:
    trial = Trial(**data["trial"])
    if check_trial:
        _checked(trial, "trial", problems)
    sites = [Site(**site) for site in data["sites"]]
    for i, site in enumerate(sites):
        _checked(site, f"sites[{i}]", problems, exclude=["trial"])
    planned = []
    for i, raw in enumerate(data["versions"]):
        path = f"versions[{i}]"
        version = CriteriaVersion(
            number=raw["number"],
            label=raw["label"],
            label_zh_hans=raw["label_zh_hans"],
            state=CriteriaVersion.State.DRAFT,
            ethics_reference=raw["ethics_reference"],
            ethics_approved_on=raw["ethics_approved_on"],
            effective_from=raw["effective_from"],
            default_lookback_hours=raw["default_lookback_hours"],
            near_miss_margin_percent=raw["near_miss_margin_percent"],
            screening_window_hours=raw["screening_window_hours"],
        )
        _checked(version, path, problems, exclude=["trial", "based_on", "created_by"])
        criteria = []
        for j, raw_criterion in enumerate(raw["criteria"]):
            cpath = f"{path}.criteria[{j}]"
            criterion = Criterion(
                code=raw_criterion["code"],
                kind=raw_criterion["kind"],
                position=raw_criterion["position"] or j + 1,
                text=raw_criterion["text"],
                text_zh_hans=raw_criterion["text_zh_hans"],
                is_attestation=raw_criterion["is_attestation"],
                active=raw_criterion["active"],
            )
            _checked(criterion, cpath, problems, exclude=["trial", "version"])
            conditions = []
            for k, raw_condition in enumerate(raw_criterion["conditions"]):
                condition = Condition(
                    **{
                        **raw_condition,
                        "position": raw_condition["position"] or k + 1,
                        "values": ",".join(v.strip() for v in raw_condition["values"]),
                    }
                )
                _checked(
                    condition,
                    f"{cpath}.conditions[{k}]",
                    problems,
                    exclude=["criterion"],
                )
                conditions.append(condition)
            criteria.append((criterion, conditions))
        planned.append(_Planned(i, raw, version, criteria))
    return trial, sites, planned


def _save(instance, reason: str) -> None:
    instance._change_reason = reason
    instance.full_clean()
    instance.save()


@transaction.atomic
def trial_file_load(*, path: Path | str) -> TrialFileLoad:
    """Load a trial file: the trial, its sites and the versions not yet here.

    A new trial is created with every version as the file says: RETIRED and
    ACTIVE versions are in force as approved elsewhere (the file is the
    record, as a registry listing is), DRAFTs are drafts. For a trial already
    here, nothing is overwritten: a version missing here is added only as a
    DRAFT (an amendment is dry-run and signed in the application, never put in
    force by a file), and whatever differs from the file is kept and named in
    ``notes``. A second load of the same file changes nothing.

    Raises files.TrialFileError naming every bad field by its path; nothing is
    written then.
    """
    data = files.read_trial_file(path)
    problems: list[tuple[str, str]] = []
    slug = data["trial"]["slug"]
    existing = Trial.objects.select_for_update().filter(slug=slug).first()
    trial, sites, planned = _plan(data, problems, check_trial=existing is None)
    fresh = existing is None or not existing.versions.exists()
    here = {} if existing is None else {v.number: v for v in existing.versions.all()}
    if not fresh:
        for plan in planned:
            if plan.version.number not in here and plan.data["state"] != "DRAFT":
                problems.append(
                    (
                        f"versions[{plan.index}].state",
                        f"{plan.data['state']}: the trial is already here with "
                        "its versions; a new version loads only as a DRAFT, to be "
                        "dry-run and signed in the application",
                    )
                )
    if problems:
        raise files.TrialFileError(problems)

    result = TrialFileLoad(trial=existing or trial)
    if existing is None:
        _save(trial, LOAD_REASON)
        result.trial_created = True
    else:
        differing = [
            f.name
            for f in files.TRIAL_FIELDS
            if getattr(existing, f.name) != getattr(trial, f.name)
        ]
        if differing:
            result.notes.append(
                f"trial: {', '.join(differing)} differ from the file; kept as here"
            )
        trial = existing
    codes = {site.code: site for site in trial.sites.all()}
    for site in sites:
        if site.code in codes:
            if any(
                getattr(codes[site.code], f.name) != getattr(site, f.name)
                for f in files.SITE_FIELDS
            ):
                result.notes.append(
                    f"site {site.code}: differs from the file; kept as here"
                )
            continue
        site.trial = trial
        _save(site, LOAD_REASON)
        result.sites_created += 1

    by_number = dict(here)
    for plan in planned:
        number = plan.version.number
        if number in here:
            _compare(here[number], plan, result)
            continue
        version = plan.version
        version.trial = trial
        based_on = plan.data["based_on"]
        version.based_on = by_number.get(based_on) if based_on else None
        version.effective_from = None
        _save(version, LOAD_REASON)
        for criterion, conditions in plan.criteria:
            criterion.trial = trial
            criterion.version = version
            _save(criterion, LOAD_REASON)
            for condition in conditions:
                condition.criterion = criterion
                _save(condition, LOAD_REASON)
            result.criteria_created += 1
            result.conditions_created += len(conditions)
        state = plan.data["state"]
        if state != CriteriaVersion.State.DRAFT:
            # In force as the file records it: no signature of this database.
            version.state = state
            version.effective_from = plan.data["effective_from"] or (
                timezone.now() if state == CriteriaVersion.State.ACTIVE else None
            )
            _save(version, LOAD_REASON)
        by_number[number] = version
        result.versions_created.append((number, state))
    return result


def _compare(version: CriteriaVersion, plan: _Planned, result: TrialFileLoad) -> None:
    criteria = [
        files.criterion_dict(c, c.conditions.order_by("position", "id"))
        for c in version.criteria.order_by("position", "code")
    ]
    if _content(version, criteria) != plan.content():
        result.notes.append(
            f"version {version.number}: differs from the file; kept as here"
        )
    elif version.state != plan.data["state"]:
        result.notes.append(
            f"version {version.number}: {version.state} here, "
            f"{plan.data['state']} in the file; kept as here"
        )


def trial_file_export(*, trial: Trial) -> str:
    """The trial as a trial file's text (``files.dumps``)."""
    return files.dumps(files.trial_file_dict(trial))


def trial_load_protocol() -> tuple[Trial, int]:
    """Load the shipped NCT06904755 file (idempotent; admin edits are kept).

    Returns the trial and the number of criteria created (0 on a second run).
    """
    loaded = trial_file_load(path=files.DEFAULT_FILE)
    return loaded.trial, loaded.criteria_created


def version_active(*, trial: Trial) -> CriteriaVersion | None:
    """The trial's active version, after starting any signed one now due.

    One query when nothing is due: the active version and any signed draft
    whose time has come, together.
    """
    rows = list(
        CriteriaVersion.objects.filter(trial=trial)
        .filter(
            Q(state=CriteriaVersion.State.ACTIVE)
            | Q(
                state=CriteriaVersion.State.DRAFT,
                activation__isnull=False,
                effective_from__lte=timezone.now(),
            )
        )
        .order_by("effective_from")
    )
    due = [v for v in rows if v.state == CriteriaVersion.State.DRAFT]
    if due:
        version_start(version=due[0])
        return CriteriaVersion.objects.filter(
            trial=trial, state=CriteriaVersion.State.ACTIVE
        ).first()
    return rows[0] if rows else None


@transaction.atomic
def version_start(*, version: CriteriaVersion) -> None:
    """Put a signed version in force: the active one is retired (one active, always)."""
    Trial.objects.select_for_update().filter(pk=version.trial_id).first()
    version.refresh_from_db()
    if version.state != CriteriaVersion.State.DRAFT:
        return
    reason = f"Activated as signed ({version.activation.signed_at:%Y-%m-%d %H:%M} UTC)"
    for previous in CriteriaVersion.objects.filter(
        trial_id=version.trial_id, state=CriteriaVersion.State.ACTIVE
    ):
        previous.state = CriteriaVersion.State.RETIRED
        previous._change_reason = reason
        previous.save()
    version.state = CriteriaVersion.State.ACTIVE
    version._change_reason = reason
    version.save()


@transaction.atomic
def version_draft_create(
    *, trial: Trial, user, label: str, label_zh_hans: str = ""
) -> CriteriaVersion:
    """A new draft: a copy of the active version's criteria and conditions.

    ``label`` in English, ``label_zh_hans`` in Simplified Chinese (may be empty).
    """
    Trial.objects.select_for_update().filter(pk=trial.pk).first()
    source = version_active(trial=trial)
    last = trial.versions.order_by("-number").first()
    draft = CriteriaVersion(
        trial=trial,
        number=(last.number + 1) if last else 1,
        label=label.strip()[:120],
        label_zh_hans=label_zh_hans.strip()[:120],
        based_on=source,
        created_by=user,
    )
    if source is not None:
        # The version's own settings are copied with its criteria.
        draft.default_lookback_hours = source.default_lookback_hours
        draft.near_miss_margin_percent = source.near_miss_margin_percent
        draft.screening_window_hours = source.screening_window_hours
    reason = COPY_REASON % {"number": source.number if source else "-"}
    draft._change_reason = reason
    draft.full_clean()
    draft.save()
    if source is None:
        return draft
    for criterion in source.criteria.order_by("position").prefetch_related(
        "conditions"
    ):
        conditions = list(criterion.conditions.order_by("position", "id"))
        criterion.pk = None
        criterion.id = None
        criterion._state.adding = True
        criterion.version = draft
        criterion._change_reason = reason
        criterion.save()
        for condition in conditions:
            condition.pk = None
            condition.id = None
            condition._state.adding = True
            condition.criterion = criterion
            condition._change_reason = reason
            condition.save()
    return draft
