"""A trial and its eligibility criteria, as rows that admins edit (with history)."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Left
from django.db.models.lookups import Exact
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from screening.domain.engine import (
    BOOLEAN_OPERATORS,
    NUMERIC_OPERATORS,
    RANGE_OPERATORS,
    ConditionSpec,
    Operator,
    SpecError,
)
from screening.domain.specs import SPEC_FIELDS, category_values, condition_spec
from screening.domain.variables import (
    VARIABLES,
    Kind,
    ThresholdUnitError,
    threshold_to_canonical,
    threshold_units,
)


class Trial(models.Model):
    class Status(models.TextChoices):
        NOT_YET_RECRUITING = "NOT_YET_RECRUITING", _("Not yet recruiting")
        RECRUITING = "RECRUITING", _("Recruiting")
        CLOSED = "CLOSED", _("Closed to recruitment")

    slug = models.SlugField(_("slug"), max_length=40, unique=True)
    title = models.CharField(_("title"), max_length=300)
    title_zh_hans = models.CharField(
        _("title (Simplified Chinese)"), max_length=300, blank=True
    )
    registry_id = models.CharField(_("registry id"), max_length=40, unique=True)
    sponsor = models.CharField(_("sponsor"), max_length=200)
    site = models.CharField(_("site"), max_length=200)
    status = models.CharField(
        _("status"), max_length=24, choices=Status.choices, default=Status.RECRUITING
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("trial")
        verbose_name_plural = _("trials")
        ordering = ["slug"]

    def __str__(self):
        return f"{self.registry_id} {self.localized_title}"

    def get_absolute_url(self):
        return reverse("screening:log", kwargs={"trial_slug": self.slug})

    @property
    def localized_title(self) -> str:
        if (get_language() or "").startswith("zh") and self.title_zh_hans:
            return self.title_zh_hans
        return self.title


class Site(models.Model):
    """A place where a trial screens; memberships may be limited to one."""

    trial = models.ForeignKey(
        Trial, on_delete=models.PROTECT, related_name="sites", verbose_name=_("trial")
    )
    code = models.CharField(_("site code"), max_length=12)
    name = models.CharField(_("name"), max_length=200)
    name_zh_hans = models.CharField(
        _("name (Simplified Chinese)"), max_length=200, blank=True
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["trial", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["trial", "code"], name="site_unique_code_per_trial"
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.localized_name}"

    @property
    def localized_name(self) -> str:
        if (get_language() or "").startswith("zh") and self.name_zh_hans:
            return self.name_zh_hans
        return self.name


class CriteriaVersion(models.Model):
    """One version of a trial's criteria: a protocol amendment.

    Drafts are edited; activation is signed (``VersionActivation``) and makes
    the version active, retiring the previous one. Active and retired versions,
    and their criteria and conditions, are immutable, also in the database
    (triggers, ``trials.db_triggers``).
    """

    class State(models.TextChoices):
        DRAFT = "DRAFT", _("Draft")
        ACTIVE = "ACTIVE", _("Active")
        RETIRED = "RETIRED", _("Retired")

    trial = models.ForeignKey(
        Trial,
        on_delete=models.PROTECT,
        related_name="versions",
        verbose_name=_("trial"),
    )
    number = models.PositiveSmallIntegerField(_("version"))
    label = models.CharField(
        _("label"),
        max_length=120,
        help_text=_("As the protocol names it, e.g. Protocol v2.0 (amendment 2)."),
    )
    label_zh_hans = models.CharField(
        _("label (Simplified Chinese)"),
        max_length=120,
        blank=True,
        help_text=_("As the Chinese protocol names it; empty: the label above."),
    )
    state = models.CharField(
        _("state"), max_length=8, choices=State.choices, default=State.DRAFT
    )
    ethics_reference = models.CharField(
        _("ethics approval reference"), max_length=120, blank=True
    )
    ethics_approved_on = models.DateField(
        _("ethics approval date"), null=True, blank=True
    )
    effective_from = models.DateTimeField(
        _("effective from (UTC)"), null=True, blank=True
    )
    default_lookback_hours = models.PositiveSmallIntegerField(
        _("default lookback window (hours)"),
        null=True,
        blank=True,
        help_text=_(
            "Laboratory values must be collected within this many hours before "
            "the screening, unless a condition says otherwise; empty: no window."
        ),
    )
    screening_window_hours = models.PositiveSmallIntegerField(
        _("screening window (hours)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_(
            "Hours from a candidate's first screening within which the screening "
            "should be completed (the worklist shows the time left); empty: none."
        ),
    )
    near_miss_margin_percent = models.DecimalField(
        _("near-miss margin (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(10),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_(
            "A value this close to a threshold (as a percentage of it) is shown "
            "as a near miss; for information, it never changes an outcome."
        ),
    )
    based_on = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("copied from"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at (UTC)"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("criteria version")
        verbose_name_plural = _("criteria versions")
        ordering = ["trial", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["trial", "number"], name="version_unique_number"
            ),
            models.UniqueConstraint(
                fields=["trial"],
                condition=Q(state="ACTIVE"),
                name="version_one_active_per_trial",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["DRAFT", "ACTIVE", "RETIRED"]),
                name="version_state_valid",
            ),
            models.CheckConstraint(
                condition=Q(
                    near_miss_margin_percent__gte=0, near_miss_margin_percent__lte=100
                ),
                name="version_near_miss_margin_range",
                violation_error_code="version_near_miss_margin_range",
            ),
        ]

    def __str__(self):
        return f"v{self.number} {self.localized_label}"

    @property
    def localized_label(self) -> str:
        """The label in the active language (the English one if none is given)."""
        if (get_language() or "").startswith("zh") and self.label_zh_hans:
            return self.label_zh_hans
        return self.label

    @property
    def is_draft(self) -> bool:
        return self.state == self.State.DRAFT


class Criterion(models.Model):
    class Kind(models.TextChoices):
        INCLUSION = "INCLUSION", _("Inclusion")
        EXCLUSION = "EXCLUSION", _("Exclusion")

    trial = models.ForeignKey(
        Trial,
        on_delete=models.PROTECT,
        related_name="criteria",
        verbose_name=_("trial"),
    )
    version = models.ForeignKey(
        CriteriaVersion,
        on_delete=models.PROTECT,
        related_name="criteria",
        verbose_name=_("criteria version"),
    )
    code = models.CharField(
        _("code"), max_length=8, help_text=_("As numbered in the protocol: I1, E4.")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    position = models.PositiveSmallIntegerField(_("position"))
    text = models.TextField(_("protocol wording (English)"))
    text_zh_hans = models.TextField(
        _("protocol wording (Simplified Chinese)"), blank=True
    )
    is_attestation = models.BooleanField(
        _("clinician's attestation"),
        default=False,
        help_text=_("Decided by a clinician's answer on the checklist."),
    )
    active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("Inactive criteria are not evaluated. Deactivate, never delete."),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        ordering = ["trial", "version", "position", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "code"], name="criterion_unique_code_per_version"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["INCLUSION", "EXCLUSION"]),
                name="criterion_kind_valid",
                violation_error_code="criterion_kind_valid",
            ),
            models.CheckConstraint(
                # Left() and = compare case-sensitively on SQLite too (LIKE
                # does not).
                condition=(
                    Q(Exact(Left("code", 1), "I"), kind="INCLUSION")
                    | Q(Exact(Left("code", 1), "E"), kind="EXCLUSION")
                ),
                name="criterion_code_matches_kind",
                violation_error_code="criterion_code_matches_kind",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.localized_text[:60]}"

    def clean(self):
        if (
            self.version_id
            and self.trial_id
            and self.version.trial_id != (self.trial_id)
        ):
            raise ValidationError(
                {"version": _("This version belongs to another trial.")},
                code="criterion_version_trial",
            )

    @property
    def localized_text(self) -> str:
        if (get_language() or "").startswith("zh") and self.text_zh_hans:
            return self.text_zh_hans
        return self.text


def _variables_of(*kinds: Kind) -> list[str]:
    return [name for name, v in VARIABLES.items() if v.kind in kinds]


def _ops(*operators: Operator) -> list[str]:
    return sorted(op.value for op in operators)


class Condition(models.Model):
    """One machine-checkable condition; a criterion is met when any holds."""

    Variable = models.TextChoices(
        "Variable", [(name, name) for name in VARIABLES], module=__name__
    )

    class Op(models.TextChoices):
        GT = Operator.GT, ">"
        GTE = Operator.GTE, ">="
        LT = Operator.LT, "<"
        LTE = Operator.LTE, "<="
        BETWEEN = Operator.BETWEEN, _("between (inclusive)")
        GT_LT = Operator.GT_LT, _("between (exclusive)")
        EQ = Operator.EQ, _("equals")
        IN = Operator.IN, _("in")
        IS_TRUE = Operator.IS_TRUE, _("is true")
        IS_FALSE = Operator.IS_FALSE, _("is false")

    criterion = models.ForeignKey(
        Criterion,
        on_delete=models.CASCADE,
        related_name="conditions",
        verbose_name=_("criterion"),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=1)
    variable = models.CharField(_("variable"), max_length=48, choices=Variable.choices)
    operator = models.CharField(_("operator"), max_length=10, choices=Op.choices)
    value_low = models.DecimalField(
        _("value (or lower bound)"),
        max_digits=12,
        decimal_places=4,
        null=True,
        blank=True,
    )
    value_high = models.DecimalField(
        _("upper bound"), max_digits=12, decimal_places=4, null=True, blank=True
    )
    values = models.CharField(
        _("categories"),
        max_length=200,
        blank=True,
        help_text=_("For 'equals' or 'in' on a category: comma-separated values."),
    )
    unit = models.CharField(
        _("unit"),
        max_length=20,
        blank=True,
        help_text=_(
            "Any unit of the variable's analyte; the threshold is stored in the "
            "canonical unit."
        ),
    )
    supporting = models.BooleanField(
        _("supporting"),
        default=False,
        help_text=_(
            "Can satisfy the criterion, but when unknown does not hold it open."
        ),
    )
    lookback_hours = models.PositiveSmallIntegerField(
        _("lookback window (hours)"),
        null=True,
        blank=True,
        help_text=_(
            "The value must be collected within this many hours before the "
            "screening; empty: the version's default."
        ),
    )
    relative_to_uln = models.BooleanField(
        _("relative to the laboratory's ULN"),
        default=False,
        help_text=_("The threshold is a multiple k of the laboratory's upper limit."),
    )
    lab_uln_replaces = models.BooleanField(
        _("laboratory's ULN replaces the threshold"),
        null=True,
        blank=True,
        help_text=_(
            "Yes: a laboratory's own upper limit entered with the value decides. "
            "No: this row's threshold decides. Empty: as before (a marker's limit "
            "decides)."
        ),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("condition")
        verbose_name_plural = _("conditions")
        ordering = ["criterion", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(variable__in=list(VARIABLES)),
                name="condition_variable_registered",
                violation_error_code="condition_variable_registered",
            ),
            models.CheckConstraint(
                condition=Q(operator__in=[op.value for op in Operator]),
                name="condition_operator_valid",
                violation_error_code="condition_operator_valid",
            ),
            models.CheckConstraint(
                condition=~Q(operator__in=_ops(*BOOLEAN_OPERATORS))
                | Q(
                    variable__in=_variables_of(Kind.BOOLEAN),
                    value_low__isnull=True,
                    value_high__isnull=True,
                    values="",
                ),
                name="condition_boolean_shape",
                violation_error_code="condition_boolean_shape",
            ),
            models.CheckConstraint(
                condition=~Q(operator=Operator.BETWEEN.value)
                | Q(
                    variable__in=_variables_of(Kind.NUMBER),
                    value_low__isnull=False,
                    value_high__isnull=False,
                    value_low__lte=models.F("value_high"),
                    values="",
                ),
                name="condition_between_bounds_ordered",
                violation_error_code="condition_between_bounds_ordered",
            ),
            models.CheckConstraint(
                condition=~Q(operator=Operator.GT_LT.value)
                | Q(
                    variable__in=_variables_of(Kind.NUMBER),
                    value_low__isnull=False,
                    value_high__isnull=False,
                    value_low__lt=models.F("value_high"),
                    values="",
                ),
                name="condition_open_range_bounds_ordered",
                violation_error_code="condition_open_range_bounds_ordered",
            ),
            models.CheckConstraint(
                condition=~Q(operator__in=_ops(*(NUMERIC_OPERATORS - RANGE_OPERATORS)))
                | Q(
                    variable__in=_variables_of(Kind.NUMBER),
                    value_low__isnull=False,
                    value_high__isnull=True,
                    values="",
                ),
                name="condition_comparison_shape",
                violation_error_code="condition_comparison_shape",
            ),
            models.CheckConstraint(
                condition=~Q(operator=Operator.IN.value)
                | (
                    Q(
                        variable__in=_variables_of(Kind.CATEGORY),
                        value_low__isnull=True,
                        value_high__isnull=True,
                    )
                    & ~Q(values="")
                ),
                name="condition_in_shape",
                violation_error_code="condition_in_shape",
            ),
            models.CheckConstraint(
                condition=~Q(operator=Operator.EQ.value)
                | Q(
                    variable__in=_variables_of(Kind.NUMBER),
                    value_low__isnull=False,
                    value_high__isnull=True,
                    values="",
                )
                | (
                    Q(
                        variable__in=_variables_of(Kind.CATEGORY),
                        value_low__isnull=True,
                        value_high__isnull=True,
                    )
                    & ~Q(values="")
                ),
                name="condition_equals_shape",
                violation_error_code="condition_equals_shape",
            ),
        ]

    def __str__(self):
        return self.describe()

    def clean(self):
        if self.variable in VARIABLES and self.unit.strip():
            try:
                canonical = threshold_units(self.variable)[0]
                for name in ("value_low", "value_high"):
                    typed = getattr(self, name)
                    if typed is not None and not self.relative_to_uln:
                        setattr(
                            self,
                            name,
                            threshold_to_canonical(self.variable, typed, self.unit),
                        )
            except ThresholdUnitError as exc:
                raise ValidationError(
                    {
                        "unit": ValidationError(
                            _(
                                "%(unit)s is not a unit of %(variable)s; use one of: "
                                "%(accepted)s."
                            ),
                            code=exc.code,
                            params={
                                "unit": self.unit,
                                "variable": self.variable,
                                "accepted": ", ".join(u for u in exc.accepted if u),
                            },
                        )
                    }
                ) from exc
            self.unit = "" if self.relative_to_uln else canonical
        try:
            self.to_spec()
        except SpecError as exc:
            raise ValidationError(
                _("The operator and values do not fit the variable: %(problem)s"),
                code="condition_shape",
                params={"problem": exc},
            ) from exc
        variable = VARIABLES[self.variable]
        if variable.kind is Kind.CATEGORY:
            unknown = set(self.category_values) - set(variable.categories)
            if unknown:
                raise ValidationError(
                    {
                        "values": ValidationError(
                            _("Unknown categories: %(values)s"),
                            code="unknown_category",
                            params={"values": ", ".join(sorted(unknown))},
                        )
                    }
                )

    @property
    def category_values(self) -> tuple[str, ...]:
        return category_values(self.values)

    def spec_data(self) -> dict:
        """The row's fields the engine's spec is built from (as a snapshot has them)."""
        return {field: getattr(self, field) for field in SPEC_FIELDS}

    def to_spec(self, default_lookback_hours: int | None = None) -> ConditionSpec:
        """The engine's plain spec for this row (raises SpecError if malformed).

        ``default_lookback_hours``: the version's window, for a row of a timed
        laboratory value that names none. Built by the one builder a record's
        snapshot is read back with (``screening.domain.specs.condition_spec``).
        """
        return condition_spec(
            self.spec_data(), default_lookback_hours=default_lookback_hours
        )

    def describe(self) -> str:
        op = Operator(self.operator) if self.operator in _OPERATOR_VALUES else None
        if op is Operator.GT_LT:
            threshold = f"({_plain(self.value_low)}, {_plain(self.value_high)})"
        elif op is Operator.BETWEEN:
            threshold = f"{_plain(self.value_low)}-{_plain(self.value_high)}"
        elif op in (Operator.IN, Operator.EQ) and self.values:
            threshold = self.values
        elif op in BOOLEAN_OPERATORS:
            threshold = ""
        else:
            threshold = _plain(self.value_low)
        unit = f" {self.unit}" if self.unit and threshold else ""
        return (
            f"{self.variable} {self.get_operator_display()} {threshold}{unit}".strip()
        )


_OPERATOR_VALUES = frozenset(op.value for op in Operator)


def _plain(value) -> str:
    return "" if value is None else f"{value.normalize():f}"


class ImpactReport(models.Model):
    """A dry run of a draft: every candidate's latest decision under it (append-only).

    ``content`` is the report as ``criteria_impact`` prints it; ``sha256`` is the
    hash of its canonical JSON, which the activation signs.
    """

    version = models.ForeignKey(
        CriteriaVersion,
        on_delete=models.PROTECT,
        related_name="impact_reports",
        verbose_name=_("criteria version"),
    )
    from_version = models.ForeignKey(
        CriteriaVersion,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("compared with"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("run by"),
    )
    created_at = models.DateTimeField(_("run at (UTC)"), default=timezone.now)
    evaluated = models.PositiveIntegerField(_("candidates evaluated"))
    flip_count = models.PositiveIntegerField(_("decisions that would change"))
    content = models.JSONField(_("report"))
    sha256 = models.CharField(_("report SHA-256"), max_length=64)

    class Meta:
        verbose_name = _("impact report")
        verbose_name_plural = _("impact reports")
        ordering = ["-created_at", "-id"]
        default_permissions = ("view",)

    def __str__(self):
        return f"{self.version} impact {self.created_at:%Y-%m-%d %H:%M}"


class VersionActivation(models.Model):
    """The signature that approves a criteria version for screening (append-only)."""

    version = models.OneToOneField(
        CriteriaVersion,
        on_delete=models.PROTECT,
        related_name="activation",
        verbose_name=_("criteria version"),
    )
    impact_report = models.ForeignKey(
        ImpactReport,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("impact report"),
    )
    impact_sha256 = models.CharField(_("signed report SHA-256"), max_length=64)
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("signer"),
    )
    signer_full_name = models.CharField(_("signer's full name"), max_length=300)
    signed_at = models.DateTimeField(_("signed at (UTC)"))
    effective_from = models.DateTimeField(_("effective from (UTC)"))
    statement = models.CharField(_("statement"), max_length=300)
    retired_version = models.ForeignKey(
        CriteriaVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("retired version"),
    )

    class Meta:
        verbose_name = _("version activation")
        verbose_name_plural = _("version activations")
        ordering = ["-signed_at"]
        default_permissions = ("view",)

    def __str__(self):
        return f"{self.version} {self.signer_full_name} {self.signed_at:%Y-%m-%d}"
