"""Traceability: which tests check which protocol criterion, and how they ran.

A test names the criteria it checks with the ``criterion`` marker::

    @pytest.mark.criterion("I3")              # one or more codes
    @pytest.mark.criterion(from_param="code")  # the codes are a parameter's value

``from_param`` takes a parameter name (or several): its value in each case, a
code or a sequence of codes, tags that case only, so a test parametrised over
criteria is traced case by case. A bare code is NCT06904755's; a code of
another shipped trial carries its prefix (``TRIAL_PREFIXES``), as in
``criterion("ACLF:I4")``. A code the trial does not have is a usage error, so a
typo cannot tag nothing.

Given ``--validation-report[=PATH]`` (or the ``VALIDATION_REPORT`` environment
variable), the run records each tagged test's result and writes the matrix
criterion -> kind -> protocol wording -> tests -> results as markdown
(``validation-report.md`` at the root by default). ``--criteria-coverage=PATH``
writes the tagged node ids per criterion of NCT06904755 as JSON after
collection (works with ``--collect-only``).
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

MARKER = "criterion"
MARKER_HELP = (
    "criterion(*codes, from_param=None): the protocol criteria (e.g. 'I3') this "
    "test checks; from_param names a parameter whose value is the code(s)"
)
DEFAULT_REPORT = "validation-report.md"
ENV_REPORT = "VALIDATION_REPORT"

PASSED, FAILED, SKIPPED, NOT_RUN = "passed", "failed", "skipped", "not run"
CODES_KEY = pytest.StashKey[tuple[str, ...]]()


@dataclass(frozen=True)
class Criterion:
    code: str
    kind: str
    text: str
    text_zh: str


@dataclass
class Run:
    """What the report needs besides the criteria: per test, its codes and result."""

    codes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    results: dict[str, str] = field(default_factory=dict)
    started: datetime | None = None
    meta: dict[str, str] = field(default_factory=dict)


# --- The trials' criteria ------------------------------------------------------

# Code prefix -> the shipped trial file (trials/data/) whose criteria it names;
# the bare codes are the first trial's.
TRIAL_PREFIXES = {"": "nct06904755", "ACLF": "aclf-pmc6247955"}


def _trial_file(prefix: str) -> dict:
    from trials.files import SHIPPED

    return json.loads(SHIPPED[TRIAL_PREFIXES[prefix]].read_text(encoding="utf-8"))


def _code(prefix: str, code: str) -> str:
    return f"{prefix}:{code}" if prefix else code


def trial_info(prefix: str = "") -> dict:
    return _trial_file(prefix)["trial"]


def trial_criteria(prefix: str = "") -> list[Criterion]:
    """A shipped trial's criteria, in protocol order, as its file lists them.

    The wording is the first version's (the one loaded as active); a code that
    only a later version has follows with that version's wording.
    """
    seen: dict[str, Criterion] = {}
    for version in _trial_file(prefix)["versions"]:
        for c in version["criteria"]:
            code = _code(prefix, c["code"])
            if code not in seen:
                seen[code] = Criterion(code, c["kind"], c["text"], c["text_zh_hans"])
    return list(seen.values())


def known_codes() -> set[str]:
    """Every code a ``criterion`` marker may name, prefixed for other trials."""
    return {c.code for prefix in TRIAL_PREFIXES for c in trial_criteria(prefix)}


# --- Codes of a collected test --------------------------------------------------


def _flatten(value) -> list:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple | set | frozenset):
        return [code for part in value for code in _flatten(part)]
    return [value]


def codes_from_marks(marks, params: dict, known: set[str]) -> tuple[str, ...]:
    """The codes these ``criterion`` marks name for a test with ``params``.

    Raises ValueError for a code the trial does not have or a missing parameter.
    """
    codes: list[str] = []
    for mark in marks:
        named = list(mark.args)
        from_param = mark.kwargs.get("from_param")
        unexpected = set(mark.kwargs) - {"from_param"}
        if unexpected:
            raise ValueError(f"unknown argument(s) {sorted(unexpected)}")
        for name in _flatten(from_param) if from_param else []:
            if name not in params:
                raise ValueError(f"no parameter {name!r} to take codes from")
            named.extend(_flatten(params[name]))
        for code in named:
            if code not in known:
                raise ValueError(f"{code!r} is not a criterion of the trial")
            if code not in codes:
                codes.append(code)
    return tuple(codes)


def item_codes(item) -> tuple[str, ...]:
    return item.stash.get(CODES_KEY, ())


# --- Rendering -------------------------------------------------------------------


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _pipes(text: str) -> str:
    """A node id in a table cell: its pipes escaped."""
    return text.replace("|", "\\|")


def _function_of(nodeid: str) -> str:
    """The test function of a node id: the parametrised cases grouped."""
    return nodeid.split("[", 1)[0]


def _counts(results: list[str]) -> str:
    counter = Counter(results)
    order = (PASSED, FAILED, SKIPPED, NOT_RUN)
    return ", ".join(f"{counter[r]} {r}" for r in order if counter[r]) or "none"


def criterion_status(results: list[str]) -> str:
    """OK, FAILED, NO TEST (none tagged) or NOT RUN (none of its tests passed)."""
    if not results:
        return "NO TEST"
    if FAILED in results:
        return "FAILED"
    if PASSED not in results:
        return "NOT RUN"
    return "OK"


def render_report(criteria: list[Criterion], run: Run, title: str = "") -> str:
    """The validation matrix as markdown."""
    by_code: dict[str, list[str]] = {c.code: [] for c in criteria}
    for nodeid, codes in run.codes.items():
        for code in codes:
            if code in by_code:
                by_code[code].append(nodeid)
    status = {
        code: criterion_status([run.results.get(n, NOT_RUN) for n in nodeids])
        for code, nodeids in by_code.items()
    }
    flagged = [code for code, s in status.items() if s != "OK"]
    tagged = sorted(run.codes)
    lines = [f"# Validation report{': ' + title if title else ''}", ""]
    for key, value in run.meta.items():
        lines.append(f"- {key}: {value}")
    lines += [
        f"- Tagged tests: {len(tagged)} "
        f"({_counts([run.results.get(n, NOT_RUN) for n in tagged])})",
        "- Result: "
        + (
            "every criterion has tagged tests and all of them passed"
            if not flagged
            else "**ATTENTION** " + ", ".join(f"{c} {status[c]}" for c in flagged)
        ),
        "",
        "Each test is listed once per criterion it is tagged with "
        "(`@pytest.mark.criterion`); a parametrised test counts its cases.",
        "",
        "## Matrix",
        "",
        "| Criterion | Kind | Protocol wording | 方案原文 | Tests | Cases | Result "
        "| Status |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for criterion in criteria:
        nodeids = by_code[criterion.code]
        results = [run.results.get(n, NOT_RUN) for n in nodeids]
        functions = {_function_of(n) for n in nodeids}
        flag = status[criterion.code]
        lines.append(
            f"| {criterion.code} | {criterion.kind.title()} | {_cell(criterion.text)} "
            f"| {_cell(criterion.text_zh)} | {len(functions)} | {len(nodeids)} "
            f"| {_counts(results)} | {flag if flag == 'OK' else '**' + flag + '**'} |"
        )
    for criterion in criteria:
        nodeids = by_code[criterion.code]
        lines += [
            "",
            f"## {criterion.code} ({criterion.kind.title()})",
            "",
            f"> {_cell(criterion.text)}",
            ">",
            f"> {_cell(criterion.text_zh)}",
            "",
        ]
        if not nodeids:
            lines.append("**No test is tagged with this criterion.**")
            continue
        groups: dict[str, list[str]] = {}
        for nodeid in sorted(nodeids):
            groups.setdefault(_function_of(nodeid), []).append(nodeid)
        lines += ["| Test | Cases | Result |", "|---|---|---|"]
        for function, cases in groups.items():
            results = [run.results.get(n, NOT_RUN) for n in cases]
            failing = [n for n, r in zip(cases, results, strict=True) if r == FAILED]
            shown = _counts(results)
            if failing:
                shown = (
                    "**"
                    + shown
                    + "**: "
                    + ", ".join(f"`{n.removeprefix(function)}`" for n in failing)
                )
            name, shown = _pipes(function), _pipes(shown)
            lines.append(f"| `{name}` | {len(cases)} | {shown} |")
        lines += [
            "",
            f"<details><summary>Each case ({len(nodeids)})</summary>",
            "",
        ]
        lines += [f"- `{n}`: {run.results.get(n, NOT_RUN)}" for n in sorted(nodeids)]
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


# --- Run facts -----------------------------------------------------------------


def _git(root: Path, *args: str) -> str:
    try:
        done = subprocess.run(  # noqa: S603 - fixed git arguments
            ["git", *args],  # noqa: S607 - git from PATH
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip()


def run_meta(root: Path, started: datetime, args: list[str]) -> dict[str, str]:
    import django

    commit = _git(root, "rev-parse", "HEAD") or "unknown"
    if commit != "unknown" and _git(root, "status", "--porcelain", "--untracked=no"):
        commit += " (with uncommitted changes)"
    return {
        "Date (UTC)": started.strftime("%Y-%m-%d %H:%M:%S"),
        "Git commit": commit,
        "Python": platform.python_version(),
        "Django": django.get_version(),
        "pytest": pytest.__version__,
        "Command": f"`pytest {shlex.join(args)}`",
    }


# --- Hooks -----------------------------------------------------------------------


def pytest_addoption(parser):
    group = parser.getgroup("validation", "criterion traceability")
    group.addoption(
        "--validation-report",
        nargs="?",
        const=DEFAULT_REPORT,
        default=None,
        metavar="PATH",
        help=f"write the criterion/tests/results matrix (default {DEFAULT_REPORT})",
    )
    group.addoption(
        "--criteria-coverage",
        default=None,
        metavar="PATH",
        help="write the tagged node ids per criterion as JSON after collection",
    )


def _report_path(config) -> Path | None:
    path = config.getoption("validation_report") or os.environ.get(ENV_REPORT)
    if not path:
        return None
    path = Path(path)
    return path if path.is_absolute() else Path(config.rootpath) / path


def pytest_configure(config):
    config.pluginmanager.register(Recorder(config), "criterion-validation")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    known = known_codes()
    problems = []
    for item in items:
        marks = list(item.iter_markers(MARKER))
        if not marks:
            continue
        callspec = getattr(item, "callspec", None)
        try:
            codes = codes_from_marks(marks, callspec.params if callspec else {}, known)
        except ValueError as exc:
            problems.append(f"{item.nodeid}: {exc}")
            continue
        item.stash[CODES_KEY] = codes
    if problems:
        raise pytest.UsageError("criterion marker:\n" + "\n".join(problems))


class Recorder:
    """Records the tagged tests of the session and their results; writes the files."""

    def __init__(self, config):
        self.config = config
        self.run = Run(started=datetime.now(UTC))

    def pytest_collection_finish(self, session):
        self.run.codes = {
            item.nodeid: item_codes(item) for item in session.items if item_codes(item)
        }
        coverage = self.config.getoption("criteria_coverage")
        if coverage:
            # NCT06904755's codes (the loaded trial's); other trials' are
            # checked by their own tests (tests/screening/domain/test_aclf_criteria.py).
            matrix = {c.code: [] for c in trial_criteria()}
            for nodeid, codes in self.run.codes.items():
                for code in codes:
                    if code in matrix:
                        matrix[code].append(nodeid)
            Path(coverage).write_text(json.dumps(matrix, indent=1), encoding="utf-8")

    def pytest_runtest_logreport(self, report):
        if report.nodeid not in self.run.codes:
            return
        results = self.run.results
        if report.failed:
            results[report.nodeid] = FAILED
        elif report.skipped and results.get(report.nodeid) != FAILED:
            results[report.nodeid] = SKIPPED
        elif report.when == "call" and report.nodeid not in results:
            results[report.nodeid] = PASSED

    def pytest_sessionfinish(self, session):
        path = _report_path(self.config)
        if path is None or self.config.option.collectonly:
            return
        root = Path(self.config.rootpath)
        args = list(self.config.invocation_params.args)
        self.run.meta = run_meta(root, self.run.started, args)
        reports = []
        for prefix in TRIAL_PREFIXES:
            trial = trial_info(prefix)
            title = f"{trial['registry_id']}, {trial['title']}"
            reports.append(render_report(trial_criteria(prefix), self.run, title))
        path.write_text("\n".join(reports), encoding="utf-8")
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"validation report written to {path}")
