"""The lab inbox: imported laboratory messages, their values, and the decisions.

Every row here is an audit fact and append-only (database triggers, migration
0001; screening/common/db_triggers.py): an import keeps its message as received
with its SHA-256; each value waits in the candidate's inbox until one review
(approved, or rejected with a reason) is recorded for it, so a value's state is
derived from whether it has a review and which; a recorded decision keeps, for
each lab input, where its value came from (``LabSource``), hashed together with
the decision's own content hash.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from screening.common.scoping import ScopedManager
from screening.models import EligibilityDecision
from trials.models import Site, Trial


class LabImport(models.Model):
    """One laboratory message (a FHIR bundle or a LIS CSV file) as received."""

    class Format(models.TextChoices):
        FHIR = "FHIR", _("FHIR R4 bundle")
        CSV = "CSV", _("Laboratory CSV export")

    class Channel(models.TextChoices):
        PAGE = "PAGE", _("Upload page")
        API = "API", _("API")
        COMMAND = "COMMAND", _("Management command")

    trial = models.ForeignKey(
        Trial, on_delete=models.PROTECT, related_name="+", verbose_name=_("trial")
    )
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("imported by"),
    )
    imported_at = models.DateTimeField(_("imported at (UTC)"), editable=False)
    file_format = models.CharField(_("format"), max_length=4, choices=Format.choices)
    channel = models.CharField(_("received by"), max_length=8, choices=Channel.choices)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    sha256 = models.CharField(_("message SHA-256"), max_length=64)
    encoding = models.CharField(_("encoding"), max_length=10, blank=True)
    content = models.BinaryField(_("message as received"))
    value_count = models.PositiveIntegerField(_("values"))

    class Meta:
        verbose_name = _("lab import")
        verbose_name_plural = _("lab imports")
        default_permissions = ("view",)
        ordering = ["-imported_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["trial", "sha256"], name="lab_import_unique_message"
            ),
        ]

    def __str__(self):
        return f"{self.file_format} {self.sha256[:12]}"


class LabValue(models.Model):
    """One result of an import, for one candidate and one registry input."""

    lab_import = models.ForeignKey(
        LabImport,
        on_delete=models.PROTECT,
        related_name="values",
        verbose_name=_("import"),
    )
    position = models.PositiveIntegerField(
        _("position"), help_text=_("Bundle entry or file line.")
    )
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
    input_key = models.CharField(_("input"), max_length=40)
    test = models.CharField(_("test as named"), max_length=64)
    value_text = models.CharField(_("value as given"), max_length=64)
    unit_text = models.CharField(_("unit as given"), max_length=32, blank=True)
    reference_high = models.CharField(_("lab upper limit"), max_length=32, blank=True)
    collected_at = models.DateTimeField(_("collected at (UTC)"))
    entry = models.JSONField(_("value in the contract"))
    normalised = models.JSONField(_("normalised value"))

    unscoped = models.Manager()
    objects = ScopedManager()

    class Meta:
        base_manager_name = "unscoped"
        default_manager_name = "unscoped"
        verbose_name = _("lab value")
        verbose_name_plural = _("lab values")
        default_permissions = ("view",)
        ordering = ["screening_number", "input_key", "-collected_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["lab_import", "position"], name="lab_value_unique_position"
            ),
        ]
        indexes = [
            models.Index(
                fields=["trial", "screening_number"], name="lab_value_candidate_idx"
            ),
        ]

    def __str__(self):
        return f"{self.screening_number} {self.input_key} {self.value_text}"


class LabReview(models.Model):
    """A coordinator's one decision on one value: approved, or rejected with why."""

    class Verdict(models.TextChoices):
        APPROVED = "APPROVED", _("Approved")
        REJECTED = "REJECTED", _("Rejected")

    SCOPE_FIELDS = ("value__trial_id", "value__site_id")

    value = models.OneToOneField(
        LabValue,
        on_delete=models.PROTECT,
        related_name="review",
        verbose_name=_("value"),
    )
    verdict = models.CharField(_("decision"), max_length=8, choices=Verdict.choices)
    reason = models.TextField(_("reason"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at (UTC)"), editable=False)

    class Meta:
        verbose_name = _("lab value review")
        verbose_name_plural = _("lab value reviews")
        default_permissions = ("view",)
        constraints = [
            models.CheckConstraint(
                condition=Q(verdict="APPROVED")
                | (Q(verdict="REJECTED") & ~Q(reason="")),
                name="lab_review_rejection_has_reason",
            ),
        ]

    def __str__(self):
        return f"{self.value_id} {self.verdict}"


class LabSource(models.Model):
    """Where one lab input of a recorded decision came from: the lab, or typed.

    Written in the decision's transaction; ``content`` holds the provenance as it
    was then (message hash, collection time, who approved, when) and
    ``content_hash`` its SHA-256 together with the decision's content hash.
    """

    class Source(models.TextChoices):
        LAB = "LAB", _("Laboratory")
        TYPED = "TYPED", _("Typed")

    decision = models.ForeignKey(
        EligibilityDecision,
        on_delete=models.PROTECT,
        related_name="lab_sources",
        verbose_name=_("decision"),
    )
    input_key = models.CharField(_("input"), max_length=40)
    source = models.CharField(_("source"), max_length=5, choices=Source.choices)
    value = models.ForeignKey(
        LabValue,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lab value"),
    )
    content = models.JSONField(_("provenance"))
    decision_hash = models.CharField(_("decision hash"), max_length=64)
    content_hash = models.CharField(_("provenance hash"), max_length=64)

    class Meta:
        verbose_name = _("lab value source")
        verbose_name_plural = _("lab value sources")
        default_permissions = ("view",)
        ordering = ["decision", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["decision", "input_key"], name="lab_source_unique_input"
            ),
            models.CheckConstraint(
                condition=Q(source="TYPED") | Q(value__isnull=False),
                name="lab_source_lab_has_value",
            ),
        ]

    def __str__(self):
        return f"{self.decision_id} {self.input_key} {self.source}"
