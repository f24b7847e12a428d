"""The input contract: one candidate as a mapping (JSON object, form, CSV row).

``parse_candidate`` is the one validator of the inputs declared in the registry
(``inputs``): it reads each value as the person or the laboratory meant it
(full-width digits, a Chinese full stop, lab limits such as ``<0.05``, Chinese
answers, local date formats) or refuses it, and collects every problem (field ->
problems) instead of stopping at the first. ``normalised`` gives a valid
candidate in canonical units. Pure Python: "today" and the site's time zone are
arguments.
"""

import math
import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, NamedTuple

from . import clinical, units
from .inputs import (
    ANSWER_WORDS,
    ANSWERS,
    CONFIRM_KEY,
    INPUTS,
    LAB_STATUS_WORDS,
    MAX_SERIES,
    PENDING,
    Input,
    InputKind,
    Section,
)

NUMBER_RE = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")
# A number as files and forms mostly give it: ASCII, nothing to fold or strip.
_PLAIN_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
# Significant digits a number may have: the arithmetic (28 digits) keeps it and
# its product with a unit's factor exactly, so 170.99...9 never rounds to 171.
# Any text this short has no more, so the quick paths below need no count.
MAX_DIGITS = 21
# Only ASCII digits, signs, dots and comparators: never a lab status word.
_NOT_A_WORD_RE = re.compile(r"[0-9.<>=+-]+")


_CENSORED_RE = re.compile(r"^(<=|>=|<|>)\s*(.+)$")


_DATE_RE = re.compile(r"^([0-9]{4})[-/]([0-9]{1,2})[-/]([0-9]{1,2})$")


# A date, then a clock time: what every accepted date-time starts with.
_CLOCK_RE = re.compile(r"^[0-9]{4}[-/][0-9]{1,2}[-/][0-9]{1,2}[ T][0-9]{1,2}:[0-9]{2}")
_DATETIME_RE = re.compile(
    r"^([0-9]{4})[-/]([0-9]{1,2})[-/]([0-9]{1,2})[ T]([0-9]{1,2}):([0-9]{2})"
    r"(?::([0-9]{2}))?\s*(Z|[+-][0-9]{2}:?[0-9]{2})?$"
)


# Measurement times outside these years are typing errors (and would overflow
# time-zone arithmetic near year 1 or 9999).
EARLIEST_YEAR, LATEST_YEAR = 1900, 2200


_MAX_TEXT = 64


MAX_AGE_YEARS = 120


# A Chinese input method types digits, signs and the dot in their full-width
# forms (U+FF01-FF5E) and the ideographic full stop for a dot; they are the
# same characters. Nothing else is folded: NFKC would also read "10²" as 102.
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}


_FULLWIDTH.update({0x3000: 0x20, 0x3002: 0x2E})


_COMPARATOR_SIGNS = {"≤": "<=", "≦": "<=", "≥": ">=", "≧": ">="}


CHECKLIST_ITEMS = tuple(k for k in ANSWERS if INPUTS[k].section is Section.CHECKLIST)


class Problem(ValueError):
    """One thing wrong with one field: a stable code, its values, and English words.

    Pages say the same thing in their own language from ``code`` and ``params``.
    """

    def __init__(self, code: str, message: str, **params):
        super().__init__(message.format(**params))
        self.code = code
        self.params = {k: str(v) for k, v in params.items()}


class CandidateError(ValueError):
    """The candidate's data do not fit the contract.

    ``errors`` maps field path -> English messages; ``problems`` maps the same
    paths -> {"code", "params"} for translation.
    """

    def __init__(self, problems: dict[str, list[Problem]]):
        self.errors = {k: [str(p) for p in v] for k, v in problems.items()}
        self.problems = {
            k: [{"code": p.code, "params": p.params} for p in v]
            for k, v in problems.items()
        }
        super().__init__(
            "; ".join(f"{k}: {', '.join(v)}" for k, v in self.errors.items())
        )


class Quantity(NamedTuple):
    """A lab value as given and in its canonical unit.

    ``comparator`` marks a censored result ("<", "<=", ">", ">="): ``value`` is
    then the laboratory's limit, never the result itself.
    """

    value: Decimal
    unit: str
    canonical: Decimal
    uln: Decimal | None = None
    uln_canonical: Decimal | None = None
    time: datetime | None = None
    comparator: str = ""


class Unusual(NamedTuple):
    """A plausible value outside the input's typical range."""

    key: str
    path: str
    value: str
    unit: str


class Candidate:
    """A valid candidate: the registry's inputs by key (None when not given).

    ``statuses`` holds "pending" or "not_done" for inputs so answered;
    ``unusual`` the values outside their typical range.
    """

    __slots__ = ("values", "statuses", "unusual")

    def __init__(self, values, statuses=None, unusual=()):
        self.values = dict(values)
        self.statuses = dict(statuses or {})
        self.unusual = tuple(unusual)

    def __getattr__(self, name):
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def checklist(self) -> dict[str, bool | None]:
        return {k: self.values.get(k) for k in CHECKLIST_ITEMS}


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def fold_fullwidth(text: str) -> str:
    """Full-width ASCII forms and the ideographic full stop as ASCII."""
    return text.translate(_FULLWIDTH)


def _number_text(raw: str) -> str:
    return fold_fullwidth(raw).strip()


class InexactNumber:
    """A JSON number that a binary float would round (see ``json_float``)."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return f"InexactNumber({self.text!r})"


# What a NUMBER input may be given as, without an object around it.
_BARE_NUMBER = (str, int, float, InexactNumber)


def json_float(text: str) -> float | InexactNumber:
    """``json.loads``'s ``parse_float``: the number, or a mark that a float rounds it.

    ``parse_decimal`` reads a float as its shortest text (``repr``), which is
    the number as written whenever the float holds it; a number it would round
    (``170.99999999999999999`` is the float 171.0) or overflow is kept as its
    text, for ``parse_decimal`` to refuse by name rather than decide on a
    value nobody wrote.
    """
    value = float(text)
    if math.isfinite(value) and Decimal(repr(value)) == Decimal(text):
        return value
    return InexactNumber(text)


def parse_decimal(raw: Any) -> Decimal:
    """A finite decimal from a JSON number or a string typed as people type it.

    Full-width digits and a Chinese full stop are read as the digits and the
    dot they are; a comma is refused (a decimal comma or a thousands separator
    cannot be told apart), never dropped or guessed.
    """
    if isinstance(raw, bool):
        raise Problem("number_not_bool", "expected a number, not true/false")
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise Problem("number_not_finite", "not a finite number")
        # Positional, as written: JSON's 0.00001 is the float 1e-05.
        raw = format(Decimal(repr(raw)), "f")
    if isinstance(raw, InexactNumber):
        raise Problem(
            "number_inexact",
            "{text}: not exact as a JSON number; send it as text",
            text=raw.text[:24],
        )
    if not isinstance(raw, str):
        raise Problem("number_expected", "expected a number")
    if len(raw) <= MAX_DIGITS and _PLAIN_NUMBER_RE.fullmatch(raw):
        # What the checks below come to for a short plain ASCII number.
        return Decimal(raw) + 0
    text = _number_text(raw)
    if "," in text and len(text) <= 32:
        raise Problem(
            "number_comma", "{text}: use a dot for decimals, no commas", text=text
        )
    if len(text) > 32 or not NUMBER_RE.match(text):
        raise Problem(
            "number_invalid",
            "not a number: {text} (use digits and a dot)",
            text=text[:20],
        )
    try:
        value = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits none
        raise Problem(
            "number_invalid",
            "not a number: {text} (use digits and a dot)",
            text=text[:20],
        ) from exc
    if not value.is_finite():
        raise Problem("number_not_finite", "not a finite number")
    if len(value.as_tuple().digits) > MAX_DIGITS:
        raise Problem(
            "number_too_precise",
            "{text}: at most {max} significant digits",
            text=text[:24],
            max=MAX_DIGITS,
        )
    return value + 0  # turns -0 into 0 (exact: within the context's digits)


def parse_censored(raw: Any) -> tuple[str, Decimal]:
    """A value that may be a detection limit: ("<", 0.05) or ("", 12.5)."""
    if isinstance(raw, str):
        if len(raw) <= MAX_DIGITS and _PLAIN_NUMBER_RE.fullmatch(raw):
            return "", Decimal(raw) + 0  # as parse_decimal reads it
        text = _number_text(raw)
        for sign, comparator in _COMPARATOR_SIGNS.items():
            text = text.replace(sign, comparator)
        match = _CENSORED_RE.match(text)
        if match:
            return match[1], parse_decimal(match[2])
    return "", parse_decimal(raw)


def parse_answer(raw: Any) -> bool | str | None:
    """True, False, "pending" or None (not answered)."""
    if _blank(raw):
        return None
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        word = _answer_word(raw)
        if word is not None:
            return word
    raise Problem("bool_invalid", "expected yes, no or pending")


@lru_cache(maxsize=256)
def _answer_word(raw: str):
    return ANSWER_WORDS.get(fold_fullwidth(raw).strip().lower(), None)


def parse_date(raw: Any) -> date:
    """2025-06-02, 2025/6/2 or 2025-6-2 (full-width digits too)."""
    if not isinstance(raw, str) or len(raw) > _MAX_TEXT:
        raise _date_problem()
    return _date_text(raw)


@lru_cache(maxsize=4096)
def _date_text(raw: str) -> date:
    # Dates repeat from row to row; a refusal is raised anew each time.
    match = _DATE_RE.match(fold_fullwidth(raw).strip())
    if not match:
        raise _date_problem()
    try:
        value = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError as exc:
        raise _date_problem() from exc
    if not EARLIEST_YEAR - 100 <= value.year <= LATEST_YEAR:
        raise Problem("year_implausible", "implausible year {year}", year=value.year)
    return value


def _date_problem() -> Problem:
    return Problem("date_invalid", "expected a date (YYYY-MM-DD)")


def _datetime_problem() -> Problem:
    return Problem("datetime_invalid", "expected a date and time (YYYY-MM-DD HH:MM)")


def parse_datetime(raw: Any, tz: tzinfo) -> datetime:
    """An ISO-8601 date-time or 2025/06/02 08:30; without an offset, the site's zone."""
    if not isinstance(raw, str) or len(raw) > _MAX_TEXT:
        raise _datetime_problem()
    text = fold_fullwidth(raw).strip()
    if not _CLOCK_RE.match(text):
        # A date alone, or a week date, is not a measurement time.
        raise _datetime_problem()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = _local_datetime(text, _datetime_problem())
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise Problem("year_implausible", "implausible year {year}", year=moment.year)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment


def _local_datetime(text: str, problem: Problem) -> datetime:
    match = _DATETIME_RE.match(text)
    if not match:
        raise problem
    year, month, day, hour, minute, second, offset = match.groups()
    zone = None
    if offset == "Z":
        zone = UTC
    elif offset:
        digits = offset[1:].replace(":", "")
        delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        if delta >= timedelta(hours=24):
            raise problem
        zone = timezone(delta if offset[0] == "+" else -delta)
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second or 0),
            tzinfo=zone,
        )
    except ValueError as exc:
        raise problem from exc


def _option_key(text: str) -> str:
    # "Ⅱ级" and "II级" are the same answer: NFKC reads Roman numeral signs.
    return unicodedata.normalize("NFKC", text).strip().casefold()


_OPTION_INDEX: dict[str, dict[str, str]] = {
    item.key: {
        _option_key(spelling): option.value
        for option in item.options
        for spelling in (option.value, *option.aliases)
    }
    for item in INPUTS.values()
    if item.kind is InputKind.CHOICE
}


def read_choice(key: str, raw: Any) -> str | None:
    """A choice's stored value from any accepted spelling ("中期", "Ⅱ级"), or None."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    if not isinstance(raw, str) or len(raw) > _MAX_TEXT:
        return None
    return _choice_value(key, raw)


def choice_option(key: str, raw: Any) -> str | None:
    """The option a choice's value reads as, as the parser reads it, or None.

    Any accepted spelling ("中期", "Ⅱ级"); for the HE grade also an integral
    number 0 to 4 ("2.0", "02", a JSON 2.0). The form shows this option when a
    stored or uploaded value is opened again.
    """
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    elif isinstance(raw, float) and raw.is_integer():
        raw = str(int(raw))  # a JSON 2.0 is grade 2
    if not isinstance(raw, str) or len(raw) > _MAX_TEXT:
        return None
    value = read_choice(key, raw)
    if value is None and key == "he_grade":
        value = _integral_grade(raw)
    return value


def _integral_grade(raw: str) -> str | None:
    try:
        grade = parse_decimal(raw)
    except Problem:
        return None
    if grade == grade.to_integral_value() and 0 <= grade <= 4:
        return str(int(grade))
    return None


@lru_cache(maxsize=1024)
def _choice_value(key: str, raw: str) -> str | None:
    # Spellings repeat from row to row; normalising each is the cost.
    return _OPTION_INDEX[key].get(_option_key(raw))


_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


class _Parser:
    def __init__(
        self,
        data: Mapping[str, Any],
        today: date | None,
        tz: tzinfo,
        require_confirmation: bool,
        for_record: bool,
        now: datetime | None = None,
    ):
        self.data = data
        self.today = today
        self.now = now
        self.tz = tz
        self.require_confirmation = require_confirmation
        self.for_record = for_record
        self.errors: dict[str, list[Problem]] = {}
        self.problem_count = 0  # problems added so far, over all paths
        self.statuses: dict[str, str] = {}
        self.unusual: list[Unusual] = []
        # The given row of each valid series item, for problems found later.
        self.series_rows: list[int] = []

    def add(self, path: str, problem: Problem) -> None:
        self.errors.setdefault(path, []).append(problem)
        self.problem_count += 1

    # -- one reader per kind of input ------------------------------------------

    def text(self, item: Input, raw: Any):
        if not isinstance(raw, str):
            raise Problem("text_expected", "expected text")
        text = fold_fullwidth(raw).strip()
        if item.key == "initials":
            # ASCII letters only: str.upper() would turn "ß" into "SS".
            text = text.translate(_ASCII_UPPER)
        if len(text) > _MAX_TEXT or not item.pattern.match(text):
            if item.key == "screening_number":
                raise Problem(
                    "screening_number_format",
                    "expected the site's format, for example 01-001",
                )
            if item.key == "consent_form_version":
                raise Problem(
                    "consent_form_version_format",
                    "expected the version as printed on the form, at most {max} "
                    "characters",
                    max=_MAX_TEXT,
                )
            raise Problem("initials_format", "expected 1 to 4 letters A-Z")
        return text

    def choice(self, item: Input, raw: Any):
        value = choice_option(item.key, raw)
        if value is not None:
            return int(value) if item.key == "he_grade" else value
        if item.key == "he_grade":
            raise Problem("he_grade_invalid", "expected a West Haven grade 0 to 4")
        raise Problem(
            "choice_invalid",
            "expected one of {options}",
            options=", ".join(item.option_values),
        )

    def date_value(self, item: Input, raw: Any):
        return parse_date(raw)

    def answer(self, item: Input, raw: Any):
        # ``parse`` passes no blank value: a word is what parse_answer reads.
        answer = _answer_word(raw) if type(raw) is str else None
        if answer is None:
            answer = parse_answer(raw)
        if answer == PENDING:
            self.statuses[item.key] = PENDING
            return None
        return answer

    def lab(self, item: Input, raw: Any, path: str | None = None):
        """A NUMBER or QUANTITY: a scalar, or {value, unit, uln, time, status}."""
        path = path or item.key
        if type(raw) is dict:
            quantity = self._plain_lab(item, raw, path)
            if quantity is not _NOT_PLAIN:
                return quantity
        if isinstance(raw, str) and (status := _lab_status(raw)):
            self.statuses[item.key] = status
            return None
        # A bare value (a number, or a NUMBER's string) has its problems at the
        # field itself; an object's at its parts.
        value_path = f"{path}.value"
        if type(raw) is not dict and not isinstance(raw, Mapping):
            if item.kind is InputKind.QUANTITY and (
                len(_UNITS[item.key]) > 1 or not isinstance(raw, _BARE_NUMBER)
            ):
                raise Problem(
                    "object_expected", "expected an object with value and unit"
                )
            raw, value_path = {"value": raw}, path
        get = raw.get
        status, given, uln_raw, time_raw = (
            get("status"),
            get("value"),
            get("uln"),
            get("time"),
        )
        uln_blank, time_blank = _blank(uln_raw), _blank(time_raw)
        if _blank(status) and isinstance(given, str):
            # A file's value cell may say "pending" (待回报) instead of a number.
            if uln_blank and time_blank and _lab_status(given):
                status, raw, given = given, {**raw, "value": None}, None
        if not _blank(status):
            if not isinstance(status, str) or not _lab_status(status):
                self.add(
                    f"{path}.status",
                    Problem("status_invalid", "expected pending or not_done"),
                )
                return None
            if not _blank(given):
                self.add(
                    f"{path}.status",
                    Problem(
                        "status_with_value", "a value and a status cannot both be given"
                    ),
                )
                return None
            self.statuses[item.key] = _lab_status(status)
            return None
        if _blank(given):
            if not uln_blank or not time_blank:
                self.add(
                    f"{path}.value", Problem("value_required", "a value is required")
                )
            return None
        errors_before = self.problem_count
        comparator, value = "", None
        try:
            if item.censorable:
                comparator, value = parse_censored(given)
            else:
                value = parse_decimal(given)
        except Problem as exc:
            self.add(value_path, exc)
        unit = self._unit(item, get("unit"), path)
        uln = None
        if item.lab_uln and not uln_blank:
            try:
                uln = parse_decimal(uln_raw)
            except Problem as exc:
                self.add(f"{path}.uln", exc)
            else:
                if uln <= 0:
                    self.add(
                        f"{path}.uln",
                        Problem(
                            "uln_not_positive",
                            "the upper limit of normal must be above 0",
                        ),
                    )
        elif not item.lab_uln and not uln_blank:
            self.add(f"{path}.uln", Problem("uln_not_accepted", "no upper limit here"))
        moment = None
        if not time_blank:
            try:
                moment = parse_datetime(time_raw, self.tz)
            except Problem as exc:
                self.add(f"{path}.time", exc)
            else:
                self._not_future(f"{path}.time", moment)
        unknown = None if raw.keys() <= _LAB_PARTS else set(raw) - _LAB_PARTS
        if unknown:
            self.add(
                path,
                Problem(
                    "unknown_part",
                    "unknown part: {parts}",
                    parts=", ".join(sorted(unknown)),
                ),
            )
        if self.problem_count > errors_before or value is None:
            return None
        canonical = self._canonical(item, value, unit)
        if not self._plausible(item, value_path, canonical, unit):
            return None
        self._typical(item, value_path, comparator, value, canonical, unit)
        uln_canonical = self._canonical(item, uln, unit) if uln is not None else None
        return Quantity(value, unit, canonical, uln, uln_canonical, moment, comparator)

    def _plain_lab(self, item: Input, raw: dict, path: str):
        """A lab value as files mostly give it, read without the general path.

        Plain ASCII numbers (a censorable one may start with a comparator), an
        accepted unit as spelt in the registry, a positive ULN, a time that is
        not in the future: what ``lab`` makes of them, with the same checks of
        range. Anything else (and anything ``lab`` would refuse before those
        checks) is ``_NOT_PLAIN``, for the general path to read and refuse.
        The value's reading is cached (``_plain_parts``; values repeat from
        row to row), its problems and notes are added for each row.
        """
        if not raw.keys() <= _PLAIN_PARTS:
            return _NOT_PLAIN
        get = raw.get
        given, unit, uln_raw = get("value"), get("unit"), get("uln")
        if (
            type(given) is not str
            or (unit is not None and type(unit) is not str)
            or (uln_raw is not None and type(uln_raw) is not str)
        ):
            return _NOT_PLAIN
        read = _plain_parts(item.key, given, unit or "", uln_raw or "")
        if read is _NOT_PLAIN:
            return _NOT_PLAIN
        comparator, value, unit, canonical, uln, uln_canonical, plausible, typical = (
            read
        )
        moment = None
        time_raw = get("time")
        if time_raw is not None and time_raw != "":
            if type(time_raw) is not str:
                return _NOT_PLAIN
            moment = _plain_time(time_raw, self.tz)
            if moment is None or self._future(moment):
                return _NOT_PLAIN
        if not plausible:
            self._plausible(item, f"{path}.value", canonical, unit)
            return None
        if not typical:
            self._typical(item, f"{path}.value", comparator, value, canonical, unit)
        return Quantity(value, unit, canonical, uln, uln_canonical, moment, comparator)

    def _unit(self, item: Input, raw: Any, path: str) -> str | None:
        accepted = _UNITS[item.key]
        if _blank(raw):
            if len(accepted) <= 1:
                return accepted[0] if accepted else ""
            self.add(f"{path}.unit", Problem("unit_required", "the unit is required"))
            return None
        unit = raw.strip() if isinstance(raw, str) else raw
        # Labs print the micro sign: "µmol/L" is "umol/L".
        unit = units.UNIT_ALIASES.get(unit, unit) if isinstance(unit, str) else unit
        if unit not in accepted:
            self.add(
                f"{path}.unit",
                Problem(
                    "unit_unknown",
                    "unknown unit (accepted: {accepted})",
                    accepted=", ".join(accepted) or "none",
                ),
            )
            return None
        return unit

    def _canonical(self, item: Input, value: Decimal, unit: str) -> Decimal:
        return _canonical_of(item, value, unit)

    def _in_unit(self, item: Input, canonical: Decimal, unit: str) -> Decimal:
        if item.analyte:
            return units.convert(item.analyte, canonical, item.canonical_unit, unit)
        return canonical

    def _plausible(self, item: Input, path: str, canonical: Decimal, unit: str):
        low, high = item.bounds
        if low <= canonical <= high:
            return True
        self.add(
            path,
            Problem(
                "implausible",
                "implausible: must be between {low} and {high} {unit}",
                low=_bound(self._in_unit(item, low, unit), ROUND_CEILING),
                high=_bound(self._in_unit(item, high, unit), ROUND_FLOOR),
                unit=unit,
            ),
        )
        return False

    def _typical(self, item, path, comparator, value, canonical, unit) -> None:
        if _is_typical(item, comparator, canonical):
            return
        note = Unusual(item.key, path, _plain(value), unit)
        self.unusual.append(note)
        confirmed = self.data.get(CONFIRM_KEY) or ()
        if self.require_confirmation and (
            not isinstance(confirmed, list | tuple) or item.key not in confirmed
        ):
            self.add(
                note.path,
                Problem(
                    "unusual",
                    "{value} {unit} is unusual: confirm or correct",
                    value=note.value,
                    unit=unit,
                    input=item.key,
                ),
            )

    def series(self, item: Input, raw: Any):
        if not isinstance(raw, list | tuple):
            raise Problem("series_not_list", "expected a list of timed measurements")
        if len(raw) > MAX_SERIES:
            raise Problem(
                "series_too_long", "at most {max} measurements", max=MAX_SERIES
            )
        tbil = INPUTS["tbil"]
        items = []
        for index, entry in enumerate(raw):
            path = f"{item.key}[{index}]"
            if not isinstance(entry, Mapping) or (
                _blank(entry.get("time")) or _blank(entry.get("value"))
            ):
                missing = [
                    k
                    for k in ("time", "value")
                    if isinstance(entry, Mapping) and _blank(entry.get(k))
                ]
                self.add(
                    f"{path}.{missing[0]}" if len(missing) == 1 else path,
                    Problem(
                        "series_item_incomplete",
                        "each measurement needs a time, a value and a unit",
                    ),
                )
                continue
            # An earlier TBil is a measured value: no upper limit, no status.
            unknown = sorted(
                k
                for k in entry
                if k not in _LAB_PARTS
                or (k in _NOT_SERIES_PARTS and not _blank(entry[k]))
            )
            if unknown:
                self.add(
                    path,
                    Problem(
                        "unknown_part",
                        "unknown part: {parts}",
                        parts=", ".join(unknown),
                    ),
                )
                continue
            quantity = self.lab(tbil, entry, path)
            if quantity is not None:
                items.append(quantity)
                self.series_rows.append(index)
        return tuple(items)

    _READERS = {
        InputKind.TEXT: text,
        InputKind.CHOICE: choice,
        InputKind.DATE: date_value,
        InputKind.ANSWER: answer,
        InputKind.NUMBER: lab,
        InputKind.QUANTITY: lab,
        InputKind.SERIES: series,
    }

    # -- the whole candidate ----------------------------------------------------

    def parse(self) -> Candidate:
        d = self.data
        if not isinstance(d, Mapping):
            raise CandidateError(
                {"candidate": [Problem("candidate_not_object", "expected an object")]}
            )
        confirmed = d.get(CONFIRM_KEY)
        if confirmed is not None and (
            not isinstance(confirmed, list | tuple)
            or not all(isinstance(k, str) and k in INPUTS for k in confirmed)
        ):
            self.add(
                CONFIRM_KEY,
                Problem("confirm_invalid", "expected a list of input names"),
            )
        for key in d:
            if key not in INPUTS and key != CONFIRM_KEY:
                self.add(
                    str(key)[:40],
                    Problem(
                        "unknown_field", "unknown field {name}", name=str(key)[:40]
                    ),
                )
        values: dict[str, Any] = {}
        get = d.get
        for key, item, reader, empty, required in _PLAN:
            raw = get(key)
            if (
                raw is None
                or (isinstance(raw, str) and not raw.strip())
                or (empty == () and raw == [])
            ):
                values[key] = empty
                if required and self.for_record:
                    self.add(key, Problem("required", "this is required"))
                continue
            try:
                values[key] = reader(self, item, raw)
            except Problem as exc:
                self.add(key, exc)
                values[key] = empty
        self._check_dates(values["date_of_birth"], values["screening_date"])
        self._check_consent(values)
        values["tbil_series"] = self._check_series(
            values["tbil"], values["tbil_series"]
        )
        if self.errors:
            raise CandidateError(self.errors)
        return Candidate(values, self.statuses, self.unusual)

    def _future(self, moment: datetime) -> bool:
        if self.now is not None:
            return moment > self.now
        return self.today is not None and moment.astimezone(self.tz).date() > self.today

    def _not_future(self, path: str, moment: datetime) -> None:
        if self._future(moment):
            self.add(
                path,
                Problem("measurement_future", "the measurement time is in the future"),
            )

    def _check_dates(self, dob: date | None, screening_date: date | None) -> None:
        if self.today is not None:
            if screening_date and screening_date > self.today:
                self.add(
                    "screening_date",
                    Problem(
                        "screening_date_future", "the screening date is in the future"
                    ),
                )
            if dob and dob > self.today:
                self.add(
                    "date_of_birth",
                    Problem(
                        "date_of_birth_future", "the date of birth is in the future"
                    ),
                )
        if dob and screening_date:
            if dob > screening_date:
                self.add(
                    "date_of_birth",
                    Problem(
                        "date_of_birth_after_screening",
                        "the date of birth is after the screening date",
                    ),
                )
            elif clinical.age_in_completed_years(dob, screening_date) > MAX_AGE_YEARS:
                self.add(
                    "date_of_birth",
                    Problem(
                        "age_implausible",
                        "implausible: age over {max} years",
                        max=MAX_AGE_YEARS,
                    ),
                )

    def _check_consent(self, values: dict[str, Any]) -> None:
        """A signed consent is dated and names its form's version.

        With written_informed_consent "yes", a record needs the date and the
        version (so no decision is ELIGIBLE without them); the date is never
        after the screening date nor before the date of birth. "Pending" and
        "no" need neither: pending stays pending (INCOMPLETE).
        """
        consent_date = values.get("consent_date")
        if self.for_record and values.get("written_informed_consent") is True:
            for key in ("consent_date", "consent_form_version"):
                if values.get(key) is None and key not in self.errors:
                    self.add(
                        key,
                        Problem(
                            "consent_detail_required",
                            "required when the written informed consent is signed",
                        ),
                    )
        if consent_date is None:
            return
        screening_date = values.get("screening_date")
        dob = values.get("date_of_birth")
        if screening_date and consent_date > screening_date:
            self.add(
                "consent_date",
                Problem(
                    "consent_date_after_screening",
                    "the consent date is after the screening date",
                ),
            )
        if dob and consent_date < dob:
            self.add(
                "consent_date",
                Problem(
                    "consent_date_before_birth",
                    "the consent date is before the date of birth",
                ),
            )

    def _check_series(self, tbil: Quantity | None, series: tuple[Quantity, ...]):
        """Order against the current TBil; conflicts at one instant are errors."""
        if tbil is not None and tbil.time is not None:
            for index, item in zip(self.series_rows, series, strict=True):
                if item.time > tbil.time:
                    self.add(
                        f"tbil_series[{index}].time",
                        Problem(
                            "series_after_current",
                            "an earlier measurement is later than the current TBil",
                        ),
                    )
        seen: dict[datetime, tuple[str, Quantity]] = {}
        if tbil is not None and tbil.time is not None:
            seen[tbil.time] = ("tbil", tbil)
        kept = []
        for index, item in zip(self.series_rows, series, strict=True):
            path = f"tbil_series[{index}]"
            earlier = seen.get(item.time)
            if earlier is None:
                seen[item.time] = (path, item)
                kept.append(item)
            elif earlier[1].canonical != item.canonical:
                self.add(
                    f"{path}.value",
                    Problem(
                        "tbil_conflict",
                        "two different TBil values at the same time: {first} and "
                        "{second} umol/L ({other})",
                        first=_plain(earlier[1].canonical),
                        second=_plain(item.canonical),
                        other=earlier[0],
                    ),
                )
            # An identical duplicate says nothing new: it is merged.
        return tuple(kept)


# Each input with its reader, its value when not given and whether a record
# needs it, in registry order.
_PLAN = tuple(
    (
        key,
        item,
        _Parser._READERS[item.kind],
        () if item.kind is InputKind.SERIES else None,
        item.required,
    )
    for key, item in INPUTS.items()
)


def _lab_status(text: str) -> str | None:
    if _NOT_A_WORD_RE.fullmatch(text):  # a number, most often: no status word
        return None
    return _status_word(text)


@lru_cache(maxsize=1024)
def _status_word(text: str) -> str | None:
    return LAB_STATUS_WORDS.get(fold_fullwidth(text).strip().lower())


# Accepted units by input, canonical first (``Input.units``, worked out once).
_UNITS: dict[str, tuple[str, ...]] = {key: item.units for key, item in INPUTS.items()}
_LAB_PARTS = frozenset({"value", "unit", "uln", "time", "status"})
_NOT_SERIES_PARTS = frozenset({"uln", "status"})
# What ``_Parser._plain_lab`` reads: no status; a plain ASCII number, after a
# comparator for a censorable value; a unit spelt as accepted (not an alias).
_PLAIN_PARTS = frozenset({"value", "unit", "uln", "time"})
_PLAIN_LAB_RE = re.compile(r"(<=|>=|<|>)?([0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_PLAIN_UNITS: dict[str, frozenset[str]] = {
    key: frozenset(u for u in accepted if units.UNIT_ALIASES.get(u, u) == u)
    for key, accepted in _UNITS.items()
}
_NOT_PLAIN = object()


@lru_cache(maxsize=16384)
def _plain_parts(key: str, given: str, unit: str, uln_raw: str):
    """What ``_Parser._plain_lab`` reads from a value, unit and ULN as text.

    (comparator, value, unit, canonical, ULN, ULN canonical, plausible,
    typical) or ``_NOT_PLAIN``. Pure, so cached: lab values repeat.
    """
    item = INPUTS[key]
    match = _PLAIN_LAB_RE.fullmatch(given) if len(given) <= MAX_DIGITS else None
    if match is None or (match[1] and not item.censorable):
        return _NOT_PLAIN
    comparator, value = match[1] or "", Decimal(match[2]) + 0
    if unit == "":
        accepted = _UNITS[key]
        if len(accepted) > 1:
            return _NOT_PLAIN
        unit = accepted[0] if accepted else ""
    elif unit not in _PLAIN_UNITS[key]:
        return _NOT_PLAIN
    uln = None
    if uln_raw != "":
        if (
            not item.lab_uln
            or len(uln_raw) > MAX_DIGITS
            or not _PLAIN_NUMBER_RE.fullmatch(uln_raw)
        ):
            return _NOT_PLAIN
        uln = Decimal(uln_raw) + 0
        if uln <= 0:
            return _NOT_PLAIN
    canonical = _canonical_of(item, value, unit)
    uln_canonical = _canonical_of(item, uln, unit) if uln is not None else None
    low, high = item.bounds
    return (
        comparator,
        value,
        unit,
        canonical,
        uln,
        uln_canonical,
        low <= canonical <= high,
        _is_typical(item, comparator, canonical),
    )


def _canonical_of(item: Input, value: Decimal, unit: str) -> Decimal:
    if item.analyte:
        return units.to_canonical(item.analyte, value, unit)
    return value


def _is_typical(item: Input, comparator: str, canonical: Decimal) -> bool:
    """Within the input's typical range (a censored value is never unusual)."""
    if item.typical is None or comparator:
        return True
    low, high = item.typical
    return low <= canonical <= high


@lru_cache(maxsize=4096)
def _plain_time(text: str, tz: tzinfo) -> datetime | None:
    """``parse_datetime`` of a time cell, None where it refuses it (cached)."""
    try:
        return parse_datetime(text, tz)
    except Problem:
        return None


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"


_HUNDREDTH = Decimal("0.01")
# More decimal places than a range's end has is a long quotient.
_EXACT_PLACES = 6


def _bound(value: Decimal, rounding: str) -> str:
    """A range's end in a unit it converts to inexactly: to 0.01, inwards.

    1500 umol/L is 87.719298... mg/dL, shown 87.71: every value in the range
    shown is accepted. An end the unit holds exactly (0.005) is shown as it is.
    """
    if value.as_tuple().exponent < -_EXACT_PLACES:
        value = value.quantize(_HUNDREDTH, rounding=rounding)
    return _plain(value)


def parse_candidate(
    data: Mapping[str, Any],
    *,
    today: date | None,
    tz: tzinfo,
    require_confirmation: bool = False,
    for_record: bool = False,
    now: datetime | None = None,
) -> Candidate:
    """Check a candidate against the contract; raise CandidateError listing all.

    ``for_record``: the inputs needed to record a decision are required.
    ``require_confirmation``: a value outside its typical range must be listed
    under ``confirmed_unusual`` (the form's confirmation) or it is refused.
    ``now``: when given, a measurement time after it is in the future (else
    one on a day after ``today``).
    """
    return _Parser(data, today, tz, require_confirmation, for_record, now).parse()


def _written(value: Decimal) -> str:
    """A decimal as the parser reads it back: positional, never 1E-7 or 1E+2.

    The same text as ``str`` for every value that ``str`` writes positionally.
    """
    return f"{value:f}"


def _lab_json(item: Input, q: Quantity | None, status: str) -> Any:
    if q is None:
        return {"status": status} if status else None
    if item.kind is InputKind.NUMBER and q.time is None:
        return _written(q.canonical)
    out: dict[str, Any] = {"value": _written(q.canonical)}
    if item.kind is InputKind.QUANTITY:
        out["unit"] = item.canonical_unit
    if q.comparator:
        out["comparator"] = q.comparator
    if q.uln_canonical is not None:
        out["uln"] = _written(q.uln_canonical)
    if q.time is not None:
        out["time"] = q.time.isoformat()
    return out


def normalised(c: Candidate) -> dict[str, Any]:
    """The candidate in canonical units, JSON-safe (numbers as strings)."""
    out: dict[str, Any] = {}
    for key, item in INPUTS.items():
        value = c.values.get(key)
        status = c.statuses.get(key, "")
        if item.is_lab:
            out[key] = _lab_json(item, value, status)
        elif item.kind is InputKind.SERIES:
            out[key] = [_lab_json(INPUTS["tbil"], q, "") for q in value]
        elif item.kind is InputKind.DATE:
            out[key] = value.isoformat() if value else None
        elif item.kind is InputKind.ANSWER and status:
            out[key] = status
        else:
            out[key] = value
    if c.unusual:
        out[CONFIRM_KEY] = sorted({u.key for u in c.unusual})
    return out
