"""Trials as files: the JSON format, its reading (with paths to bad fields), its export.

A trial file holds a trial, its sites and its criteria versions with their
criteria and conditions (README, "Trial files"). ``read_trial_file`` checks the
file's shape and types and gives plain values; the field rules are the models'
own (``full_clean``, in ``trials.services.trial_file_load``), so a file and the
admin share one validator. ``trial_file_dict`` and ``dumps`` write the same
format: a load of an export into an empty database exports byte for byte the
same. Impact reports and signed activations are records of one database and
are not part of a file.
"""

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

FORMAT = "trial/1"
DATA_DIR = Path(__file__).resolve().parent / "data"
# The trials shipped with the application, by slug.
SHIPPED = {
    "nct06904755": DATA_DIR / "nct06904755.json",
    "aclf-pmc6247955": DATA_DIR / "aclf-pmc6247955.json",
}
DEFAULT_FILE = SHIPPED["nct06904755"]
STATES = ("RETIRED", "ACTIVE", "DRAFT")


class TrialFileError(Exception):
    """A file that cannot be loaded: every problem with the path of its field."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("\n".join(f"{path}: {message}" for path, message in problems))


@dataclass(frozen=True, slots=True)
class Field:
    """One field of an object of the file: its JSON type, and if it may be left out.

    ``kind``: text, integer, boolean, number (a JSON number or a decimal
    string), date (YYYY-MM-DD), datetime (ISO 8601 with its offset), texts (a
    list of strings). ``null``: null is allowed. A field left out takes
    ``default``.
    """

    name: str
    kind: str
    required: bool = False
    null: bool = False
    default: object = None


TOP_FIELDS = (
    Field("format", "text", required=True),
    Field("source", "text", default=""),
)
TRIAL_FIELDS = (
    Field("slug", "text", required=True),
    Field("registry_id", "text", required=True),
    Field("title", "text", required=True),
    Field("title_zh_hans", "text", default=""),
    Field("sponsor", "text", required=True),
    Field("site", "text", required=True),
    Field("status", "text", default="RECRUITING"),
)
SITE_FIELDS = (
    Field("code", "text", required=True),
    Field("name", "text", required=True),
    Field("name_zh_hans", "text", default=""),
)
VERSION_FIELDS = (
    Field("number", "integer", required=True),
    Field("label", "text", required=True),
    Field("label_zh_hans", "text", default=""),
    Field("state", "text", required=True),
    Field("ethics_reference", "text", default=""),
    Field("ethics_approved_on", "date", null=True),
    Field("effective_from", "datetime", null=True),
    Field("default_lookback_hours", "integer", null=True),
    Field("near_miss_margin_percent", "number", default=Decimal(10)),
    Field("screening_window_hours", "integer", null=True),
    Field("based_on", "integer", null=True),
)
CRITERION_FIELDS = (
    Field("code", "text", required=True),
    Field("kind", "text", required=True),
    Field("position", "integer"),
    Field("text", "text", required=True),
    Field("text_zh_hans", "text", default=""),
    Field("is_attestation", "boolean", default=False),
    Field("active", "boolean", default=True),
)
CONDITION_FIELDS = (
    Field("position", "integer"),
    Field("variable", "text", required=True),
    Field("operator", "text", required=True),
    Field("value_low", "number", null=True),
    Field("value_high", "number", null=True),
    Field("values", "texts", default=()),
    Field("unit", "text", default=""),
    Field("supporting", "boolean", default=False),
    Field("lookback_hours", "integer", null=True),
    Field("relative_to_uln", "boolean", default=False),
    Field("lab_uln_replaces", "boolean", null=True),
)
# The lists an object holds, beside its fields.
_LISTS = {
    "top": (("trial", None), ("sites", SITE_FIELDS), ("versions", VERSION_FIELDS)),
    "version": (("criteria", CRITERION_FIELDS),),
    "criterion": (("conditions", CONDITION_FIELDS),),
}


def _shown(value) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _typed(field: Field, value, path: str, problems: list) -> object:
    """The value as Python, or the field's default after recording a problem."""
    if value is None:
        if field.null:
            return None
        problems.append((path, "must not be null"))
        return field.default
    kind = field.kind
    if kind == "text" and isinstance(value, str):
        return value
    if kind == "boolean" and isinstance(value, bool):
        return value
    if kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            problems.append((path, f"must not be negative, not {value}"))
        return value
    if kind == "number" and not isinstance(value, bool):
        if isinstance(value, int | Decimal):
            return Decimal(value)
        if isinstance(value, str):
            try:
                number = Decimal(value.strip())
            except InvalidOperation:
                number = None
            if number is not None and number.is_finite():
                return number
    if kind == "texts" and isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            return tuple(value)
        problems.append((path, "must be a list of strings"))
        return field.default
    if kind == "date" and isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            problems.append((path, f"{_shown(value)} is not a date (YYYY-MM-DD)"))
            return None
    if kind == "datetime" and isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return moment
        problems.append(
            (path, f"{_shown(value)} is not an ISO 8601 date-time with an offset")
        )
        return None
    expected = {
        "text": "a string",
        "boolean": "true or false",
        "integer": "a whole number",
        "number": "a number",
        "texts": "a list of strings",
        "date": "a date string (YYYY-MM-DD)",
        "datetime": "an ISO 8601 date-time string",
    }[kind]
    problems.append((path, f"must be {expected}, not {_shown(value)}"))
    return field.default


def _object(raw, fields, path: str, problems: list, lists=()) -> dict:
    """An object's fields as Python values; unknown and missing fields are problems."""
    if not isinstance(raw, dict):
        problems.append((path or "(file)", f"must be an object, not {_shown(raw)}"))
        return {f.name: f.default for f in fields}
    known = [f.name for f in fields] + [name for name, _ in lists]
    prefix = f"{path}." if path else ""
    for key in raw:
        if key not in known:
            problems.append(
                (f"{prefix}{key}", "unknown field (known: " + ", ".join(known) + ")")
            )
    out = {}
    for field in fields:
        if field.name not in raw:
            if field.required:
                problems.append((f"{prefix}{field.name}", "required"))
            out[field.name] = field.default
            continue
        out[field.name] = _typed(
            field, raw[field.name], f"{prefix}{field.name}", problems
        )
    return out


def _list(raw, key: str, path: str, problems: list, *, required=True) -> list:
    value = raw.get(key) if isinstance(raw, dict) else None
    where = f"{path}.{key}" if path else key
    if value is None:
        if required:
            problems.append((where, "required (a list)"))
        return []
    if not isinstance(value, list):
        problems.append((where, f"must be a list, not {_shown(value)}"))
        return []
    return value


def parse_trial_file(raw) -> dict:
    """The file's content as plain Python values, its shape and types checked.

    Raises TrialFileError naming every bad field by its path
    (``versions[1].criteria[3].conditions[0].unit``). The rules of each field
    (allowed states, known variables, units of the variable, ...) are checked
    on load by the models.
    """
    problems: list[tuple[str, str]] = []
    top = _object(raw, TOP_FIELDS, "", problems, _LISTS["top"])
    if top["format"] not in (FORMAT, None) and not any(
        p == "format" for p, _ in problems
    ):
        problems.append(("format", f"{_shown(top['format'])} is not {FORMAT!r}"))
    if problems and not isinstance(raw, dict):
        raise TrialFileError(problems)
    trial_raw = raw.get("trial") if isinstance(raw, dict) else None
    if trial_raw is None:
        problems.append(("trial", "required (an object)"))
    trial = _object(trial_raw or {}, TRIAL_FIELDS, "trial", problems)
    sites = [
        _object(s, SITE_FIELDS, f"sites[{i}]", problems)
        for i, s in enumerate(_list(raw, "sites", "", problems))
    ]
    versions = []
    for i, version_raw in enumerate(_list(raw, "versions", "", problems)):
        vpath = f"versions[{i}]"
        version = _object(
            version_raw, VERSION_FIELDS, vpath, problems, _LISTS["version"]
        )
        version["criteria"] = []
        for j, criterion_raw in enumerate(
            _list(version_raw, "criteria", vpath, problems)
        ):
            cpath = f"{vpath}.criteria[{j}]"
            criterion = _object(
                criterion_raw, CRITERION_FIELDS, cpath, problems, _LISTS["criterion"]
            )
            criterion["conditions"] = [
                _object(c, CONDITION_FIELDS, f"{cpath}.conditions[{k}]", problems)
                for k, c in enumerate(
                    _list(criterion_raw, "conditions", cpath, problems)
                )
            ]
            version["criteria"].append(criterion)
        versions.append(version)
    _check_structure(sites, versions, problems)
    if problems:
        raise TrialFileError(problems)
    return {
        "source": top["source"],
        "trial": trial,
        "sites": sites,
        "versions": versions,
    }


def _check_structure(sites: list, versions: list, problems: list) -> None:
    """What no single model checks: numbers, states and codes across objects."""
    _unique([s["code"] for s in sites], "sites[{}].code", problems)
    if not versions:
        problems.append(("versions", "at least one version is required"))
    _unique([v["number"] for v in versions], "versions[{}].number", problems)
    numbers = [v["number"] for v in versions]
    if numbers != sorted(numbers):
        problems.append(("versions", "must be in ascending order of number"))
    ranks = []
    for i, version in enumerate(versions):
        if version["state"] not in STATES:
            problems.append(
                (
                    f"versions[{i}].state",
                    f"{_shown(version['state'])} is not one of {', '.join(STATES)}",
                )
            )
        else:
            ranks.append(STATES.index(version["state"]))
        based_on = version["based_on"]
        if based_on is not None and based_on not in numbers[:i]:
            problems.append(
                (
                    f"versions[{i}].based_on",
                    f"{based_on} is not the number of an earlier version in the file",
                )
            )
        _unique(
            [c["code"] for c in version["criteria"]],
            f"versions[{i}].criteria[{{}}].code",
            problems,
        )
    if ranks.count(STATES.index("ACTIVE")) > 1:
        problems.append(("versions", "at most one version may be ACTIVE"))


def _unique(values: list, template: str, problems: list) -> None:
    seen = set()
    for index, value in enumerate(values):
        if value in seen:
            problems.append((template.format(index), f"{_shown(value)} is repeated"))
        seen.add(value)


def read_trial_file(path: Path | str) -> dict:
    """A trial file read from disk and parsed (``parse_trial_file``)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TrialFileError([("(file)", f"cannot read {path}: {exc}")]) from exc
    try:
        raw = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise TrialFileError(
            [("(file)", f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")]
        ) from exc
    return parse_trial_file(raw)


# --- Export ----------------------------------------------------------------------


def _number(value: Decimal | None):
    """A stored decimal as the JSON number it is (171, 17.1, 0.05)."""
    if value is None:
        return None
    value = value.normalize()
    if value == value.to_integral_value():
        return int(value)
    # Stored with at most 12 digits: the float's shortest repr is the decimal.
    return float(value)


def condition_dict(condition) -> dict:
    return {
        "position": condition.position,
        "variable": condition.variable,
        "operator": condition.operator,
        "value_low": _number(condition.value_low),
        "value_high": _number(condition.value_high),
        "values": list(condition.category_values),
        "unit": condition.unit,
        "supporting": condition.supporting,
        "lookback_hours": condition.lookback_hours,
        "relative_to_uln": condition.relative_to_uln,
        "lab_uln_replaces": condition.lab_uln_replaces,
    }


def criterion_dict(criterion, conditions) -> dict:
    return {
        "code": criterion.code,
        "kind": criterion.kind,
        "position": criterion.position,
        "text": criterion.text,
        "text_zh_hans": criterion.text_zh_hans,
        "is_attestation": criterion.is_attestation,
        "active": criterion.active,
        "conditions": [condition_dict(c) for c in conditions],
    }


def version_dict(version, criteria: list[dict], based_on: int | None) -> dict:
    effective = version.effective_from
    return {
        "number": version.number,
        "label": version.label,
        "label_zh_hans": version.label_zh_hans,
        "state": version.state,
        "ethics_reference": version.ethics_reference,
        "ethics_approved_on": (
            version.ethics_approved_on.isoformat()
            if version.ethics_approved_on
            else None
        ),
        "effective_from": effective.isoformat() if effective else None,
        "default_lookback_hours": version.default_lookback_hours,
        "near_miss_margin_percent": _number(version.near_miss_margin_percent),
        "screening_window_hours": version.screening_window_hours,
        "based_on": based_on,
        "criteria": criteria,
    }


def trial_file_dict(trial) -> dict:
    """The trial, its sites and versions (oldest first) in the file's format."""
    versions = []
    numbers = dict(trial.versions.values_list("pk", "number"))
    for version in trial.versions.order_by("number"):
        criteria = [
            criterion_dict(criterion, criterion.conditions.order_by("position", "id"))
            for criterion in version.criteria.order_by("position", "code")
        ]
        versions.append(
            version_dict(version, criteria, numbers.get(version.based_on_id))
        )
    return {
        "format": FORMAT,
        "trial": {f.name: getattr(trial, f.name) for f in TRIAL_FIELDS},
        "sites": [
            {f.name: getattr(site, f.name) for f in SITE_FIELDS}
            for site in trial.sites.order_by("code")
        ],
        "versions": versions,
    }


def dumps(data: dict) -> str:
    """The file's text: two-space indents, UTF-8 words as written, a final newline."""
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
