"""Recorded eligibility decisions: append-only, hash-chained, signed.

Rows here are never updated or deleted: no code path does it, admin is read-only,
and database triggers (migration 0002) refuse UPDATE and DELETE.
"""

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from screening.common.scoping import ScopedManager
from screening.domain.engine import Decision, Outcome
from trials.models import CriteriaVersion, Criterion, Site, Trial


class CriteriaSnapshot(models.Model):
    """The criteria a trial's decisions were evaluated against, stored once.

    A decision references the snapshot of the criteria it was decided on
    instead of carrying its own copy (about 9 KB each); every decision of one
    criteria version references the same row, found by the SHA-256 of its
    canonical JSON (``digest``). Append-only, also in the database (triggers,
    migration 0014), and hashed into each decision's content hash as the
    decision's own copy was: a changed snapshot breaks every chain link of the
    decisions that reference it.
    """

    trial = models.ForeignKey(
        Trial, on_delete=models.PROTECT, related_name="+", verbose_name=_("trial")
    )
    digest = models.CharField(_("SHA-256 of the content"), max_length=64)
    content = models.JSONField(_("criteria as evaluated"))
    stored_at = models.DateTimeField(_("stored at (UTC)"), editable=False)

    class Meta:
        verbose_name = _("criteria snapshot")
        verbose_name_plural = _("criteria snapshots")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["trial", "digest"], name="criteria_snapshot_unique_digest"
            )
        ]

    def __str__(self):
        return f"{self.trial_id}:{self.digest[:12]}"


class EligibilityDecision(models.Model):
    class Result(models.TextChoices):
        ELIGIBLE = Decision.ELIGIBLE.value, _("Eligible")
        INELIGIBLE = Decision.INELIGIBLE.value, _("Ineligible")
        INCOMPLETE = Decision.INCOMPLETE.value, _("Incomplete")

    class Sex(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")

    trial = models.ForeignKey(
        Trial,
        on_delete=models.PROTECT,
        related_name="decisions",
        verbose_name=_("trial"),
    )
    site = models.ForeignKey(
        Site,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("site"),
    )
    sequence = models.PositiveIntegerField(
        _("sequence"), help_text=_("Position in the trial's audit chain.")
    )
    screening_number = models.CharField(_("screening number"), max_length=12)
    initials = models.CharField(_("initials"), max_length=4, blank=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, blank=True)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    screening_date = models.DateField(_("screening date"))
    age_years = models.PositiveSmallIntegerField(
        _("age (years)"), null=True, blank=True
    )
    meld = models.PositiveSmallIntegerField(_("MELD"), null=True, blank=True)
    outcome = models.CharField(_("decision"), max_length=10, choices=Result.choices)
    blocking_codes = models.JSONField(_("blocking criteria"), default=list, blank=True)
    unknown_codes = models.JSONField(_("undecided criteria"), default=list, blank=True)
    to_collect = models.JSONField(_("data to collect"), default=list, blank=True)
    entered = models.JSONField(_("values as entered"))
    normalised = models.JSONField(_("normalised values"))
    computed = models.JSONField(_("computed values"))
    # Records made before snapshots were stored once carry their own copy here;
    # later ones reference ``snapshot`` and leave this empty: read either
    # through ``criteria_as_evaluated``.
    criteria_snapshot = models.JSONField(
        _("criteria as evaluated"), null=True, blank=True
    )
    snapshot = models.ForeignKey(
        CriteriaSnapshot,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("criteria as evaluated"),
    )
    criteria_version = models.ForeignKey(
        CriteriaVersion,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("criteria version"),
    )
    supersedes = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
        verbose_name=_("supersedes"),
    )
    supersede_reason = models.TextField(_("reason for correction"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at (UTC)"), editable=False)
    app_version = models.CharField(_("application version"), max_length=40)
    previous_hash = models.CharField(_("previous hash"), max_length=64)
    content_hash = models.CharField(_("content hash"), max_length=64, unique=True)

    # The first manager is Django's default (related managers, validation);
    # app code reads through ``objects``, which must be scoped.
    unscoped = models.Manager()
    objects = ScopedManager()

    class Meta:
        base_manager_name = "unscoped"
        default_manager_name = "unscoped"
        verbose_name = _("eligibility decision")
        verbose_name_plural = _("eligibility decisions")
        ordering = ["-recorded_at", "-id"]
        default_permissions = ("add", "view")
        permissions = [
            ("sign_eligibilitydecision", _("Can sign off eligibility decisions")),
            ("export_eligibilitydecision", _("Can export the screening log")),
            ("prescreen_eligibilitydecision", _("Can run bulk pre-screening")),
            ("view_audit_trail", _("Can view audit trails and access logs")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["trial", "sequence"], name="decision_unique_sequence"
            ),
            models.UniqueConstraint(
                fields=["trial", "screening_number"],
                condition=Q(supersedes__isnull=True),
                name="decision_unique_first_screening_number",
            ),
            models.CheckConstraint(
                condition=Q(supersedes__isnull=True) | ~Q(supersede_reason=""),
                name="decision_correction_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=[d.value for d in Decision]),
                name="decision_outcome_valid",
            ),
            # The criteria are stored one way or the other, never both, never
            # neither.
            models.CheckConstraint(
                condition=Q(snapshot__isnull=True, criteria_snapshot__isnull=False)
                | Q(snapshot__isnull=False, criteria_snapshot__isnull=True),
                name="decision_criteria_stored_once",
            ),
        ]
        indexes = [
            models.Index(fields=["trial", "-recorded_at"], name="decision_log_idx"),
            models.Index(
                fields=["trial", "screening_number"], name="decision_number_idx"
            ),
            # The log sorts and filters by these columns.
            models.Index(
                fields=["trial", "outcome", "-recorded_at"],
                name="decision_outcome_idx",
            ),
            # Sorted by these, ties go by id in the same direction (the log's
            # selector): with id in the index a page reads only its own rows.
            models.Index(
                fields=["trial", "screening_date", "id"], name="decision_date_id_idx"
            ),
            models.Index(fields=["trial", "meld", "id"], name="decision_meld_id_idx"),
            models.Index(
                fields=["trial", "age_years", "id"], name="decision_age_id_idx"
            ),
        ]

    def __str__(self):
        return f"{self.screening_number} #{self.sequence} {self.outcome}"

    def get_absolute_url(self):
        return reverse("screening:decision", kwargs={"pk": self.pk})

    @property
    def criteria_as_evaluated(self) -> list[dict]:
        """The criteria as evaluated: the referenced snapshot, or the record's own
        copy for a record made before snapshots were stored once."""
        if self.snapshot_id is None:
            return self.criteria_snapshot
        return self.snapshot.content


class CriterionOutcome(models.Model):
    class Result(models.TextChoices):
        MET = Outcome.MET.value, _("Met")
        NOT_MET = Outcome.NOT_MET.value, _("Not met")
        UNKNOWN = Outcome.UNKNOWN.value, _("Unknown")

    decision = models.ForeignKey(
        EligibilityDecision,
        on_delete=models.PROTECT,
        related_name="outcomes",
        verbose_name=_("decision"),
    )
    criterion = models.ForeignKey(
        Criterion,
        on_delete=models.PROTECT,
        related_name="outcomes",
        verbose_name=_("criterion"),
    )
    criterion_history_id = models.PositiveBigIntegerField(_("criterion version"))
    position = models.PositiveSmallIntegerField(_("position"))
    code = models.CharField(_("code"), max_length=8)
    kind = models.CharField(_("kind"), max_length=10, choices=Criterion.Kind.choices)
    outcome = models.CharField(_("outcome"), max_length=8, choices=Result.choices)
    blocking = models.BooleanField(_("blocking"))
    reason = models.TextField(_("reason"))
    details = models.JSONField(_("reason in parts"), default=list, blank=True)
    missing = models.JSONField(_("data to collect"), default=list, blank=True)

    class Meta:
        verbose_name = _("criterion outcome")
        verbose_name_plural = _("criterion outcomes")
        ordering = ["decision", "position"]
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(
                fields=["decision", "code"], name="outcome_unique_code_per_decision"
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=[o.value for o in Outcome]),
                name="outcome_value_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["code", "blocking"], name="outcome_reason_idx"),
            # Reports count and filter the few blocking rows, not all fourteen.
            models.Index(
                fields=["code", "decision"],
                condition=Q(blocking=True),
                name="outcome_blocking_idx",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.outcome}"


class Signature(models.Model):
    """An investigator's electronic signature on a decision (21 CFR 11.50/11.70)."""

    class Meaning(models.TextChoices):
        CONFIRM = "CONFIRM", _("I confirm the eligibility assessment")
        DISAGREE = "DISAGREE", _("I disagree with the eligibility assessment")

    decision = models.OneToOneField(
        EligibilityDecision,
        on_delete=models.PROTECT,
        related_name="signature",
        verbose_name=_("decision"),
    )
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("signer"),
    )
    signer_full_name = models.CharField(_("signer's full name"), max_length=300)
    signed_at = models.DateTimeField(_("signed at (UTC)"), editable=False)
    meaning = models.CharField(_("meaning"), max_length=10, choices=Meaning.choices)
    statement = models.CharField(_("statement"), max_length=200)
    reason = models.TextField(_("reason"), blank=True)
    override_outcome = models.CharField(
        _("investigator's decision"),
        max_length=10,
        choices=EligibilityDecision.Result.choices,
        blank=True,
    )
    decision_hash = models.CharField(_("signed decision hash"), max_length=64)
    content_hash = models.CharField(_("signature hash"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        default_permissions = ("view",)
        constraints = [
            models.CheckConstraint(
                condition=Q(meaning="CONFIRM", override_outcome="")
                | (Q(meaning="DISAGREE") & ~Q(reason="")),
                name="signature_disagreement_has_reason",
            ),
        ]

    def __str__(self):
        return f"{self.signer_full_name} {self.meaning}"


def not_superseded() -> Exists:
    """A filter: no later record supersedes this decision (it is current).

    Written as NOT EXISTS, which PostgreSQL plans as an anti-join with a fair
    estimate. ``superseded_by__isnull=True`` is a LEFT JOIN tested on the other
    row's id, which it keeps as a join with a filter and expects to pass almost
    nothing: it then scans the whole trial where walking an index stops early.
    """
    return ~Exists(EligibilityDecision.unscoped.filter(supersedes=OuterRef("pk")))


def not_signed() -> Exists:
    """A filter: the decision has no signature (as ``not_superseded``, NOT EXISTS)."""
    return ~Exists(Signature.objects.filter(decision=OuterRef("pk")))


class ScreeningLogExport(models.Model):
    """Each export of the screening log: who, when, with which filter."""

    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    exported_at = models.DateTimeField(_("exported at (UTC)"), editable=False)
    export_format = models.CharField(_("format"), max_length=40)
    filters = models.JSONField(_("filters"), default=dict, blank=True)

    class Meta:
        verbose_name = _("screening log export")
        verbose_name_plural = _("screening log exports")
        default_permissions = ("view",)
        ordering = ["-exported_at"]

    def __str__(self):
        return f"{self.user} {self.exported_at:%Y-%m-%d %H:%M}"


class PrescreenUpload(models.Model):
    """A bulk pre-screening upload: logged, never a decision."""

    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(
        Site,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("site"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at (UTC)"), editable=False)
    file_name = models.CharField(_("file name"), max_length=200)
    file_sha256 = models.CharField(_("file SHA-256"), max_length=64)
    file_format = models.CharField(_("format"), max_length=4)
    content = models.BinaryField(_("file as uploaded"))
    row_count = models.PositiveIntegerField(_("rows"))
    error_count = models.PositiveIntegerField(_("rows with errors"))
    summary = models.JSONField(
        _("rows per decision"), default=dict, blank=True, editable=False
    )
    criteria_snapshot = models.JSONField(
        _("criteria as evaluated"), default=list, blank=True, editable=False
    )
    criteria_version = models.ForeignKey(
        CriteriaVersion,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("criteria version"),
    )

    unscoped = models.Manager()
    objects = ScopedManager()

    class Meta:
        base_manager_name = "unscoped"
        default_manager_name = "unscoped"
        verbose_name = _("pre-screening upload")
        verbose_name_plural = _("pre-screening uploads")
        default_permissions = ("view",)
        permissions = [
            ("purge_prescreenupload", "Can purge a mistaken pre-screening upload")
        ]
        ordering = ["-uploaded_at"]

    def __str__(self):
        return f"{self.file_name} ({self.row_count})"


class PrescreenResult(models.Model):
    """One row of a pre-screening upload, evaluated once when it was uploaded.

    Pages and downloads read these rows; they never evaluate the file again.
    """

    ERROR = "ERROR"
    SCOPE_FIELDS = ("upload__trial_id", "upload__site_id")

    upload = models.ForeignKey(
        PrescreenUpload,
        on_delete=models.PROTECT,
        related_name="results",
        verbose_name=_("upload"),
    )
    row = models.PositiveIntegerField(_("row"))
    screening_number = models.CharField(_("screening number"), max_length=20)
    decision = models.CharField(_("decision"), max_length=10)
    result = models.JSONField(_("result"))
    entered = models.JSONField(_("values as given"), null=True, blank=True)

    unscoped = models.Manager()
    objects = ScopedManager()

    class Meta:
        base_manager_name = "unscoped"
        default_manager_name = "unscoped"
        verbose_name = _("pre-screening result")
        verbose_name_plural = _("pre-screening results")
        default_permissions = ()
        ordering = ["upload", "row"]
        constraints = [
            models.UniqueConstraint(
                fields=["upload", "row"], name="prescreen_result_unique_row"
            ),
        ]
        indexes = [
            models.Index(
                fields=["upload", "decision", "row"], name="prescreen_result_idx"
            ),
        ]

    def __str__(self):
        return f"{self.upload_id}:{self.row} {self.decision}"


class PrescreenPurge(models.Model):
    """The tombstone of a purged pre-screening upload: who, when, why, which file.

    Append-only and sealed in the audit ledger. Its existence is what lets the
    database triggers delete the upload's result rows and empty its file, in the
    purge's transaction (screening/prescreen/services.py); nothing else may.
    """

    upload = models.OneToOneField(
        PrescreenUpload,
        on_delete=models.PROTECT,
        related_name="purge",
        verbose_name=_("upload"),
    )
    purged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("purged by"),
    )
    purged_at = models.DateTimeField(_("purged at (UTC)"), editable=False)
    reason = models.TextField(_("reason"))
    file_sha256 = models.CharField(_("file SHA-256"), max_length=64)
    file_name = models.CharField(_("file name"), max_length=200)
    row_count = models.PositiveIntegerField(_("rows"))

    class Meta:
        verbose_name = _("pre-screening purge")
        verbose_name_plural = _("pre-screening purges")
        default_permissions = ("view",)
        ordering = ["-purged_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(reason=""), name="prescreen_purge_reason_given"
            ),
        ]

    def __str__(self):
        return f"{self.file_name} ({self.file_sha256[:12]})"


class BackgroundJob(models.Model):
    """Work run by a worker beside the server: a large pre-screening upload, say.

    Written only by the job mechanism (screening/common/jobs.py): its state and
    progress change as a worker goes, and what it makes (an upload and its
    result rows) is written once, at the end, in one transaction, by the kind's
    handler. It holds the uploaded file until then (emptied when done), so it
    is patient data: scoped querysets.
    """

    class Kind(models.TextChoices):
        PRESCREEN = "PRESCREEN", _("pre-screening upload")
        LAB_IMPORT = "LAB_IMPORT", _("lab import")

    class State(models.TextChoices):
        QUEUED = "QUEUED", _("queued")
        RUNNING = "RUNNING", _("running")
        DONE = "DONE", _("done")
        FAILED = "FAILED", _("failed")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(
        Site,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("site"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("submitted at (UTC)"), editable=False)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.QUEUED
    )
    total = models.PositiveIntegerField(_("rows"))
    done = models.PositiveIntegerField(_("rows done"), default=0)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    heartbeat_at = models.DateTimeField(_("last report of its worker (UTC)"))
    finished_at = models.DateTimeField(_("finished at (UTC)"), null=True, blank=True)
    # Which run owns the job: a run that finds another's token here stops.
    run_token = models.CharField(_("run"), max_length=32, blank=True)
    task_id = models.CharField(_("task id"), max_length=64, blank=True)
    error_code = models.CharField(_("error code"), max_length=40, blank=True)
    error = models.TextField(_("error"), blank=True)
    file_name = models.CharField(_("file name"), max_length=200)
    file_format = models.CharField(_("format"), max_length=4)
    file_sha256 = models.CharField(_("file SHA-256"), max_length=64)
    content = models.BinaryField(_("file as uploaded"), blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    # The record the job made (for PRESCREEN, the PrescreenUpload's id).
    output_id = models.PositiveBigIntegerField(_("made"), null=True, blank=True)

    unscoped = models.Manager()
    objects = ScopedManager()

    class Meta:
        base_manager_name = "unscoped"
        default_manager_name = "unscoped"
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        default_permissions = ()
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(done__lte=models.F("total")), name="job_done_le_total"
            ),
            models.CheckConstraint(
                condition=~Q(state="DONE") | Q(output_id__isnull=False),
                name="job_done_has_output",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "heartbeat_at"], name="job_state_idx"),
            models.Index(fields=["trial", "user", "created_at"], name="job_user_idx"),
        ]

    def __str__(self):
        return f"{self.kind} {self.file_name} {self.state} {self.done}/{self.total}"

    @property
    def percent(self) -> int:
        return 100 if not self.total else self.done * 100 // self.total


class PrescreenJobRow(models.Model):
    """One evaluated row of a pre-screening job, kept until the job's upload is made.

    The columns of ``PrescreenResult``; copied into it, and deleted, in the
    transaction that writes the upload (screening/prescreen/tasks.py).
    """

    SCOPE_FIELDS = ("job__trial_id", "job__site_id")

    job = models.ForeignKey(BackgroundJob, on_delete=models.CASCADE, related_name="+")
    row = models.PositiveIntegerField(_("row"))
    screening_number = models.CharField(_("screening number"), max_length=20)
    decision = models.CharField(_("decision"), max_length=10)
    result = models.JSONField(_("result"))
    entered = models.JSONField(_("values as given"), null=True, blank=True)

    unscoped = models.Manager()
    objects = ScopedManager()

    class Meta:
        base_manager_name = "unscoped"
        default_manager_name = "unscoped"
        verbose_name = _("pre-screening job row")
        verbose_name_plural = _("pre-screening job rows")
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["job", "row"], name="prescreen_job_row_unique"
            ),
        ]

    def __str__(self):
        return f"{self.job_id}:{self.row} {self.decision}"


class Enrolment(models.Model):
    """The enrolment of an eligible, signed candidate: date and randomisation number.

    Append-only (database triggers, migration 0009) and sealed in the audit
    ledger. Made by a coordinator or investigator of the trial, only from the
    current (not superseded) record whose decision that counts is ELIGIBLE and
    which an investigator signed (screening/decisions/enrolment.py).
    """

    decision = models.OneToOneField(
        EligibilityDecision,
        on_delete=models.PROTECT,
        related_name="enrolment",
        verbose_name=_("decision"),
    )
    # The decision's trial, site and screening number, so the database keeps a
    # randomisation number and a candidate's enrolment unique per trial.
    trial = models.ForeignKey(
        Trial, on_delete=models.PROTECT, related_name="+", verbose_name=_("trial")
    )
    site = models.ForeignKey(
        Site,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("site"),
    )
    screening_number = models.CharField(_("screening number"), max_length=12)
    enrolled_on = models.DateField(_("enrolment date"))
    randomisation_number = models.CharField(
        _("randomisation or subject number"), max_length=32
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at (UTC)"), editable=False)

    unscoped = models.Manager()
    objects = ScopedManager()

    class Meta:
        base_manager_name = "unscoped"
        default_manager_name = "unscoped"
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        default_permissions = ("view",)
        ordering = ["-recorded_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["trial", "randomisation_number"],
                name="enrolment_unique_randomisation_number",
            ),
            models.UniqueConstraint(
                fields=["trial", "screening_number"],
                name="enrolment_unique_candidate",
            ),
            models.CheckConstraint(
                condition=~Q(randomisation_number=""),
                name="enrolment_randomisation_number_given",
            ),
        ]

    def __str__(self):
        return f"{self.screening_number} {self.randomisation_number}"


class FunnelCount(models.Model):
    """Current candidates per trial, site, screening date and decision that counts.

    Derived data, not an audit record: kept in each decision's and signature's
    transaction (screening/reports/summary.py), updated in place and rebuilt
    from the records by ``funnel_rebuild``; so no append-only trigger and no
    ledger entry.
    """

    trial = models.ForeignKey(
        Trial, on_delete=models.CASCADE, related_name="+", verbose_name=_("trial")
    )
    site = models.ForeignKey(
        Site,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("site"),
    )
    screening_date = models.DateField(_("screening date"))
    outcome = models.CharField(
        _("decision"), max_length=10, choices=EligibilityDecision.Result.choices
    )
    candidates = models.IntegerField(_("candidates"), default=0)

    class Meta:
        verbose_name = _("funnel count")
        verbose_name_plural = _("funnel counts")
        default_permissions = ("view",)
        constraints = [
            # A record without a site has one row per key too (NULLs would be
            # distinct in a plain unique constraint).
            models.UniqueConstraint(
                "trial",
                Coalesce("site", 0, output_field=models.IntegerField()),
                "screening_date",
                "outcome",
                name="funnel_count_unique_key",
            ),
            models.CheckConstraint(
                condition=Q(candidates__gte=0), name="funnel_count_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.trial_id}/{self.site_id} {self.screening_date} {self.outcome}"


class FunnelBlocking(models.Model):
    """Current ineligible candidates a criterion excludes, per trial, site and
    screening date (derived data, as ``FunnelCount``)."""

    trial = models.ForeignKey(
        Trial, on_delete=models.CASCADE, related_name="+", verbose_name=_("trial")
    )
    site = models.ForeignKey(
        Site,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("site"),
    )
    screening_date = models.DateField(_("screening date"))
    code = models.CharField(_("code"), max_length=8)
    kind = models.CharField(_("kind"), max_length=10, choices=Criterion.Kind.choices)
    position = models.PositiveSmallIntegerField(_("position"))
    candidates = models.IntegerField(_("candidates"), default=0)

    class Meta:
        verbose_name = _("funnel blocking count")
        verbose_name_plural = _("funnel blocking counts")
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(
                "trial",
                Coalesce("site", 0, output_field=models.IntegerField()),
                "screening_date",
                "code",
                "kind",
                "position",
                name="funnel_blocking_unique_key",
            ),
            models.CheckConstraint(
                condition=Q(candidates__gte=0), name="funnel_blocking_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.trial_id}/{self.site_id} {self.screening_date} {self.code}"
