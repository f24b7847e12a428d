"""The audit-trail review a monitor reads and signs (ICH E6(R3) 3.16.1, 2.12).

For one trial and one period (dates in the site's zone, both inclusive), the
report gathers what a monitor looks for in the audit trail: corrections made
after a decision, decisions per criteria version, investigators' overrides,
refused self-signings, entries out of hours, failed re-authentications,
exports, role and membership changes, and the result of ``verify_audit`` over
the trial's own chains. Everything is scoped to the trial, and the records to
the sites the reader may audit.

The report's content is codes, numbers and times, never words of a language:
its SHA-256 is what the monitor's signature (``AuditReview``) covers, and the
page shows the same content in its language.
"""

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from urllib.parse import urlencode

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts import reauth
from accounts.models import AccessEvent, Membership
from accounts.reauth import reauth_detail_prefix, reauth_parts, reauthenticate
from accounts.scope import AUDIT, scope_for, trial_for
from accounts.selectors import membership_details
from accounts.views import detail_label
from screening.assessment import site_zone
from screening.audit import sha256
from screening.ledger.models import AuditReview, SignatureRefusal
from screening.ledger.verification import verify_trial_audit
from screening.models import EligibilityDecision, ScreeningLogExport, Signature
from trials.models import Trial


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """The site's working hours: an entry outside them is out of hours.

    In hours is from ``start`` (inclusive) to ``end`` (exclusive) on
    ``weekdays`` (Monday is 0), in the site's zone. Public holidays are not
    known to the application.
    """

    start: time = time(8, 0)
    end: time = time(20, 0)
    weekdays: frozenset[int] = frozenset(range(5))

    def outside(self, moment: datetime, tz: tzinfo) -> bool:
        local = moment.astimezone(tz)
        if local.weekday() not in self.weekdays:
            return True
        return not self.start <= local.time() < self.end


WORKING_HOURS = WorkingHours()
REVIEW_STATEMENT = "I reviewed the audit trail for %(start)s to %(end)s"
MAX_PERIOD_DAYS = 366

# The report's codes in the page's language.
_WORDS = {
    **{value: label for value, label in EligibilityDecision.Result.choices},
    **{value: label for value, label in AccessEvent.Action.choices},
    "decision": gettext_lazy("Decision recorded"),
    "signature": gettext_lazy("Signature"),
    reauth.SIGNATURE: gettext_lazy("signing a decision"),
    reauth.VERSION_ACTIVATION: gettext_lazy("activating a criteria version"),
    reauth.AUDIT_REVIEW: gettext_lazy("signing an audit-trail review"),
    True: gettext_lazy("Yes"),
    False: gettext_lazy("No"),
}


# How a column's cells are shown: as they are (False), codes translated by
# _WORDS (True), an access event's detail in the page's words (DETAIL), words a
# person typed (TYPED) or identifiers in no language (CODE: user names, formats).
DETAIL, TYPED, CODE = "detail", "typed", "code"


def _shown_cell(cell, header, kind) -> dict:
    shown = {"value": cell, "kind": "", "code": "", "header": header}
    if kind is True and isinstance(cell, str | bool) and cell in _WORDS:
        shown["value"] = _WORDS[cell]
    elif kind == DETAIL and isinstance(cell, str):
        shown["value"], shown["code"] = detail_label(cell)
    elif isinstance(kind, str):
        shown["kind"] = kind
    return shown


@dataclass
class Section:
    key: str
    title: str
    # Each column's header, and how its cells are shown (see DETAIL above).
    columns: tuple[tuple[str, bool | str], ...]
    rows: list[list] = field(default_factory=list)
    count: int | None = None

    def __post_init__(self):
        if self.count is None:
            self.count = len(self.rows)

    @property
    def shown_rows(self) -> list[list[dict]]:
        """The rows in the page's language: each cell's value, kind, code and
        column header (a phone shows each row as a card of labelled cells)."""
        return [
            [
                _shown_cell(cell, header, kind)
                for cell, (header, kind) in zip(row, self.columns, strict=True)
            ]
            for row in self.rows
        ]

    @property
    def headers(self) -> list[str]:
        return [header for header, _words in self.columns]


@dataclass
class Verification:
    intact: bool
    problem: str
    decisions: int = 0
    signatures: int = 0
    entries: int = 0
    chains: int = 0


@dataclass
class Report:
    trial: Trial
    start: date
    end: date
    sections: list[Section]
    verification: Verification

    @property
    def content(self) -> dict:
        """What the signature covers: the trial, period, hours, rows and verdict."""
        return {
            "trial": self.trial.slug,
            "period": [self.start.isoformat(), self.end.isoformat()],
            "working_hours": [
                WORKING_HOURS.start.isoformat(),
                WORKING_HOURS.end.isoformat(),
                sorted(WORKING_HOURS.weekdays),
                str(site_zone()),
            ],
            "sections": {
                s.key: {"count": s.count, "rows": s.rows} for s in self.sections
            },
            "verify_audit": {
                "intact": self.verification.intact,
                "problem": self.verification.problem,
            },
        }

    @property
    def content_hash(self) -> str:
        return sha256(self.content)


def period_bounds(start: date, end: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """[first moment, moment after the last day) of the period in the zone."""
    return (
        datetime.combine(start, time.min, tzinfo=tz),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
    )


def _local(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %z")


def _who(user) -> str:
    return user.get_username() if user is not None else ""


def _corrections(decisions, tz) -> Section:
    rows = [
        [
            _local(d.recorded_at, tz),
            d.screening_number,
            d.supersedes.sequence,
            d.sequence,
            d.supersedes.outcome,
            d.outcome,
            hasattr(d.supersedes, "signature"),
            _who(d.recorded_by),
            d.supersede_reason,
        ]
        for d in decisions.filter(supersedes__isnull=False)
        .select_related("recorded_by", "supersedes", "supersedes__signature")
        .order_by("recorded_at", "pk")
    ]
    return Section(
        "corrections",
        _("Corrections after a decision"),
        (
            (_("When"), False),
            (_("Screening number"), False),
            (_("Corrected record"), False),
            (_("New record"), False),
            (_("Decision before"), True),
            (_("Decision after"), True),
            (_("Corrected record was signed"), True),
            (_("User"), CODE),
            (_("Reason"), TYPED),
        ),
        rows,
    )


def _per_version(decisions) -> Section:
    counts = Counter(
        decisions.values_list("criteria_version__number", "outcome").order_by()
    )
    versions = sorted({number for number, _outcome in counts}, key=lambda n: n or 0)
    outcomes = [value for value, _label in EligibilityDecision.Result.choices]
    rows = [
        [
            f"v{number}" if number is not None else "—",
            *(counts[number, outcome] for outcome in outcomes),
            sum(counts[number, outcome] for outcome in outcomes),
        ]
        for number in versions
    ]
    return Section(
        "per_version",
        _("Decisions per criteria version"),
        (
            (_("Criteria version"), False),
            *(
                (str(label), False)
                for _value, label in EligibilityDecision.Result.choices
            ),
            (_("Total"), False),
        ),
        rows,
        count=sum(counts.values()),
    )


def _overrides(signatures, tz) -> Section:
    rows = [
        [
            _local(s.signed_at, tz),
            s.decision.screening_number,
            s.decision.sequence,
            s.decision.outcome,
            s.override_outcome,
            s.signer_full_name,
            s.reason,
        ]
        for s in signatures.filter(meaning=Signature.Meaning.DISAGREE)
        .select_related("decision")
        .order_by("signed_at", "pk")
    ]
    return Section(
        "overrides",
        _("Overrides (the investigator disagreed)"),
        (
            (_("When"), False),
            (_("Screening number"), False),
            (_("Record"), False),
            (_("Decision"), True),
            (_("Investigator's decision"), True),
            (_("Investigator"), False),
            (_("Reason"), TYPED),
        ),
        rows,
    )


def _self_signing(trial, scope, bounds, tz) -> Section:
    refusals = (
        SignatureRefusal.objects.filter(
            trial=trial,
            refused_at__gte=bounds[0],
            refused_at__lt=bounds[1],
            decision__in=EligibilityDecision.objects.visible_to(scope, AUDIT).filter(
                trial=trial
            ),
        )
        .select_related("decision", "user")
        .order_by("refused_at", "pk")
    )
    rows = [
        [
            _local(r.refused_at, tz),
            r.decision.screening_number,
            r.decision.sequence,
            _who(r.user),
        ]
        for r in refusals
    ]
    return Section(
        "self_signing",
        _("Refused self-signing"),
        (
            (_("When"), False),
            (_("Screening number"), False),
            (_("Record"), False),
            (_("User"), CODE),
        ),
        rows,
    )


def _out_of_hours(decisions, signatures, tz) -> Section:
    entries = [
        ("decision", d.recorded_at, d.screening_number, d.sequence, _who(d.recorded_by))
        for d in decisions.select_related("recorded_by").only(
            "recorded_at", "screening_number", "sequence", "recorded_by"
        )
    ] + [
        (
            "signature",
            s.signed_at,
            s.decision.screening_number,
            s.decision.sequence,
            _who(s.signer),
        )
        for s in signatures.select_related("decision", "signer")
    ]
    rows = [
        [_local(at, tz), kind, number, sequence, who]
        for kind, at, number, sequence, who in sorted(entries, key=lambda e: e[1])
        if WORKING_HOURS.outside(at, tz)
    ]
    return Section(
        "out_of_hours",
        _("Entries out of hours"),
        (
            (_("When"), False),
            (_("Entry"), True),
            (_("Screening number"), False),
            (_("Record"), False),
            (_("User"), CODE),
        ),
        rows,
    )


def _reauth_failures(trial, bounds, tz) -> Section:
    events = AccessEvent.objects.filter(
        action=AccessEvent.Action.LOGIN_FAILED,
        detail__startswith=reauth_detail_prefix(trial.slug),
        at__gte=bounds[0],
        at__lt=bounds[1],
    ).order_by("at", "pk")
    rows = []
    for e in events:
        parts = reauth_parts(e.detail)
        rows.append(
            [
                _local(e.at, tz),
                e.username,
                parts[1] if parts else "",
                e.ip_address or "",
            ]
        )
    return Section(
        "reauth_failures",
        _("Failed re-authentications"),
        (
            (_("When"), False),
            (_("User name typed"), TYPED),
            (_("While"), True),
            (_("IP address"), False),
        ),
        rows,
    )


def _exports(trial, bounds, tz) -> Section:
    exports = (
        ScreeningLogExport.objects.filter(
            trial=trial, exported_at__gte=bounds[0], exported_at__lt=bounds[1]
        )
        .select_related("user")
        .order_by("exported_at", "pk")
    )
    rows = [
        [
            _local(e.exported_at, tz),
            _who(e.user),
            e.export_format,
            json.dumps(e.filters, sort_keys=True, ensure_ascii=False),
        ]
        for e in exports
    ]
    return Section(
        "exports",
        _("Exports"),
        (
            (_("When"), False),
            (_("User"), CODE),
            (_("Format"), CODE),
            (_("Filters"), CODE),
        ),
        rows,
    )


def _access_changes(trial, bounds, tz) -> Section:
    in_period = Q(at__gte=bounds[0], at__lt=bounds[1])
    memberships = Q(
        action__in=[
            AccessEvent.Action.MEMBERSHIP_ADDED,
            AccessEvent.Action.MEMBERSHIP_REMOVED,
        ]
    ) & membership_details(trial)
    # Site-wide roles, of the users who are or were members of the trial.
    members = set(
        Membership.objects.filter(trial=trial).values_list("user_id", flat=True)
    )
    members |= set(
        AccessEvent.objects.filter(memberships)
        .exclude(user__isnull=True)
        .values_list("user_id", flat=True)
    )
    roles = Q(
        action__in=[AccessEvent.Action.ROLE_ADDED, AccessEvent.Action.ROLE_REMOVED],
        user_id__in=sorted(members),
    )
    events = (
        AccessEvent.objects.filter(in_period & (memberships | roles))
        .select_related("actor")
        .order_by("at", "pk")
    )
    rows = [
        [_local(e.at, tz), e.action, e.username, e.detail, _who(e.actor)]
        for e in events
    ]
    return Section(
        "access_changes",
        _("Role and membership changes"),
        (
            (_("When"), False),
            (_("Change"), True),
            (_("User"), CODE),
            (_("What"), DETAIL),
            (_("Changed by"), CODE),
        ),
        rows,
    )


def audit_verification(trial: Trial) -> Verification:
    """``verify_audit`` restricted to the trial's own chains.

    The trial's hash chain of decisions (and their signatures), then its ledger
    chain. The whole-database checks of ``manage.py verify_audit`` (other
    trials' chains, anchors, rows without an entry, identities) are left out:
    their problems would name other trials' rows.
    """
    report = verify_trial_audit(trial.pk)
    problem = report.chain_problem
    if problem is not None:
        return Verification(
            False,
            f"audit chain broken at decision id {problem.decision_id} "
            f"(sequence {problem.sequence}): {problem.problem}",
            report.decisions,
        )
    ledger = report.ledger
    return Verification(
        ledger.problem is None,
        str(ledger.problem) if ledger.problem is not None else "",
        report.decisions,
        report.signatures,
        ledger.entries,
        ledger.chains,
    )


def audit_review_report(
    *, trial: Trial, scope, start: date, end: date, verification=None
) -> Report:
    """Every section of the review of ``trial`` from ``start`` to ``end``."""
    tz = site_zone()
    bounds = period_bounds(start, end, tz)
    decisions = EligibilityDecision.objects.visible_to(scope, AUDIT).filter(
        trial=trial, recorded_at__gte=bounds[0], recorded_at__lt=bounds[1]
    )
    signatures = Signature.objects.filter(
        decision__in=EligibilityDecision.objects.visible_to(scope, AUDIT).filter(
            trial=trial
        ),
        signed_at__gte=bounds[0],
        signed_at__lt=bounds[1],
    )
    sections = [
        _corrections(decisions, tz),
        _per_version(decisions),
        _overrides(signatures, tz),
        _self_signing(trial, scope, bounds, tz),
        _out_of_hours(decisions, signatures, tz),
        _reauth_failures(trial, bounds, tz),
        _exports(trial, bounds, tz),
        _access_changes(trial, bounds, tz),
    ]
    return Report(
        trial, start, end, sections, verification or audit_verification(trial)
    )


def audit_reviews(*, trial: Trial):
    return AuditReview.objects.filter(trial=trial).select_related("signer__profile")


# --- Writes ---------------------------------------------------------------------


def audit_review_sign(
    *,
    trial: Trial,
    user: AbstractBaseUser,
    password: str,
    start: date,
    end: date,
    content_hash: str,
    request: HttpRequest | None = None,
) -> AuditReview:
    """Sign the review of the period, after re-authentication (as a sign-off).

    The report is computed again: a report that changed since the monitor read
    it (``content_hash``) is refused, so the signature covers what was read.
    """
    scope = scope_for(user)
    if not scope.can(AUDIT, trial.pk):
        raise PermissionDenied("not a monitor of this trial")
    reauthenticate(
        request, user, password, trial_slug=trial.slug, purpose=reauth.AUDIT_REVIEW
    )
    full_name = user.get_full_name().strip()
    if not full_name:
        raise ValidationError(
            _("Your account has no full name; an administrator must add it first."),
            code="no_full_name",
        )
    report = audit_review_report(trial=trial, scope=scope, start=start, end=end)
    if report.content_hash != content_hash:
        raise ValidationError(
            _(
                "The audit trail of this period changed since you read it: "
                "review it again."
            ),
            code="report_changed",
        )
    review = AuditReview(
        trial=trial,
        period_start=start,
        period_end=end,
        content_hash=report.content_hash,
        signer=user,
        signer_full_name=full_name,
        meaning=REVIEW_STATEMENT % {"start": start.isoformat(), "end": end.isoformat()},
        signed_at=timezone.now(),
    )
    review.full_clean()
    with transaction.atomic():
        review.save(force_insert=True)
    return review


# --- Forms and the page -----------------------------------------------------------


# A review's period is turned into moments in the site's zone and in UTC: dates
# at the ends of the calendar (0001-01-01, 9999-12-31) cannot be.
PERIOD_FIRST, PERIOD_LAST = date(2000, 1, 1), date(2099, 12, 31)


def _period_date(label) -> forms.DateField:
    return forms.DateField(
        label=label,
        validators=[
            MinValueValidator(
                PERIOD_FIRST,
                message=gettext_lazy("Choose a date from %(limit_value)s on."),
            ),
            MaxValueValidator(
                PERIOD_LAST,
                message=gettext_lazy("Choose a date up to %(limit_value)s."),
            ),
        ],
        widget=forms.DateInput(
            attrs={"type": "date", "class": "form-control form-control-sm"}
        ),
    )


class PeriodForm(forms.Form):
    date_from = _period_date(gettext_lazy("From"))
    date_to = _period_date(gettext_lazy("To (inclusive)"))

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end:
            if end < start:
                raise ValidationError(
                    gettext_lazy("The period ends before it starts."),
                    code="period_reversed",
                )
            if (end - start).days >= MAX_PERIOD_DAYS:
                raise ValidationError(
                    gettext_lazy("A review covers at most %(days)s days."),
                    code="period_too_long",
                    params={"days": MAX_PERIOD_DAYS},
                )
        return data


class ReviewSignForm(PeriodForm):
    content_hash = forms.CharField(max_length=64, widget=forms.HiddenInput)
    password = forms.CharField(
        label=gettext_lazy("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=gettext_lazy("Re-enter your password to sign."),
    )

    def __init__(self, *args, **kwargs):
        # Its hidden dates are not the period form's fields: ids of their own.
        kwargs.setdefault("auto_id", "id_sign_%s")
        super().__init__(*args, **kwargs)
        for name in ("date_from", "date_to"):
            self.fields[name].widget = forms.HiddenInput()
        self.helper = FormHelper(self)
        self.helper.form_tag = False
        self.helper.add_input(Submit("submit", gettext_lazy("Sign the review")))


def _default_period() -> dict:
    today = timezone.localdate(timezone.now(), site_zone())
    return {"date_from": today - timedelta(days=30), "date_to": today}


@require_http_methods(["GET", "POST"])
def audit_review(request, trial_slug):
    """The review of a period (GET), and the monitor's signature on it (POST)."""
    trial = trial_for(request, trial_slug, AUDIT)
    scope = scope_for(request.user)
    sign_form = None
    if request.method == "POST":
        sign_form = ReviewSignForm(request.POST)
        period = PeriodForm(request.POST)
        if sign_form.is_valid():
            data = sign_form.cleaned_data
            try:
                audit_review_sign(
                    trial=trial,
                    user=request.user,
                    password=data["password"],
                    start=data["date_from"],
                    end=data["date_to"],
                    content_hash=data["content_hash"],
                    request=request,
                )
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for name, errors in exc.error_dict.items():
                        sign_form.add_error(
                            name if name in sign_form.fields else None, errors
                        )
                else:
                    sign_form.add_error(None, exc)
            else:
                messages.success(request, _("Signed."))
                query = urlencode(
                    {k: data[k].isoformat() for k in ("date_from", "date_to")}
                )
                url = reverse("screening:audit_review", args=[trial.slug])
                return redirect(f"{url}?{query}")
    else:
        period = PeriodForm(request.GET if request.GET else _default_period())
    report = None
    if period.is_valid():
        start, end = period.cleaned_data["date_from"], period.cleaned_data["date_to"]
        report = audit_review_report(trial=trial, scope=scope, start=start, end=end)
        fresh = {
            "date_from": start.isoformat(),
            "date_to": end.isoformat(),
            "content_hash": report.content_hash,
        }
        if sign_form is None:
            sign_form = ReviewSignForm(initial=fresh)
        else:
            # What the monitor signs is the report as shown now.
            sign_form.data = sign_form.data.copy()
            sign_form.data.update(fresh)
    return render(
        request,
        "screening/audit_review.html",
        {
            "trial": trial,
            "period_form": period
            if request.method == "GET"
            else PeriodForm(initial=period.cleaned_data if period.is_valid() else None),
            "report": report,
            "sign_form": sign_form,
            "reviews": audit_reviews(trial=trial),
            "hours": WORKING_HOURS,
            # The zone's name is an identifier, in no language.
            "zone": format_html('<span lang="en">{}</span>', site_zone()),
        },
    )
