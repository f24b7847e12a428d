"""The audit ledger's entries (append-only) and the head of each chain.

Each entry seals one audited row with an HMAC whose key lives in the environment,
never in the database: someone with database access can delete or edit rows and
entries, but cannot make a new entry verify. Truncation of a chain's end is
caught by anchors kept outside the database (``audit_anchor``).
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class LedgerEntry(models.Model):
    class Kind(models.TextChoices):
        DECISION = "DECISION", _("Eligibility decision")
        SIGNATURE = "SIGNATURE", _("Signature")
        EXPORT = "EXPORT", _("Screening log export")
        UPLOAD = "UPLOAD", _("Pre-screening upload")
        ACCESS = "ACCESS", _("Access event")
        IDENTITY = "IDENTITY", _("User identity")
        HISTORY = "HISTORY", _("Trial or criteria history")
        PURGE = "PURGE", _("Pre-screening upload purged")
        REVIEW = "REVIEW", _("Audit-trail review")

    chain = models.CharField(
        _("chain"), max_length=64, help_text=_("trial:<id> or site.")
    )
    sequence = models.PositiveBigIntegerField(_("sequence"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    object_table = models.CharField(_("table"), max_length=100)
    object_pk = models.PositiveBigIntegerField(_("row id"))
    content = models.JSONField(_("audited content"))
    key_id = models.CharField(_("key id"), max_length=40)
    previous_mac = models.CharField(_("previous HMAC"), max_length=64)
    mac = models.CharField(_("HMAC"), max_length=64)
    recorded_at = models.DateTimeField(_("recorded at (UTC)"), editable=False)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["chain", "sequence"]
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(
                fields=["chain", "sequence"], name="ledger_unique_sequence"
            ),
            # A row is sealed once; a user's identity once per change.
            models.UniqueConstraint(
                fields=["object_table", "object_pk"],
                condition=~Q(kind="IDENTITY"),
                name="ledger_unique_object",
            ),
            models.CheckConstraint(
                condition=Q(sequence__gte=1), name="ledger_sequence_positive"
            ),
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "DECISION",
                        "SIGNATURE",
                        "EXPORT",
                        "UPLOAD",
                        "ACCESS",
                        "IDENTITY",
                        "HISTORY",
                        "PURGE",
                        "REVIEW",
                    ]
                ),
                name="ledger_kind_valid",
            ),
        ]
        indexes = [
            models.Index(
                fields=["object_table", "object_pk"], name="ledger_object_idx"
            ),
        ]

    def __str__(self):
        return f"{self.chain} #{self.sequence} {self.kind}"


class LedgerHead(models.Model):
    """The last entry of a chain; its row is locked to append, one writer at a time."""

    chain = models.CharField(_("chain"), max_length=64, unique=True)
    sequence = models.PositiveBigIntegerField(_("sequence"))
    mac = models.CharField(_("HMAC"), max_length=64)

    class Meta:
        verbose_name = _("ledger head")
        verbose_name_plural = _("ledger heads")
        default_permissions = ("view",)

    def __str__(self):
        return f"{self.chain} #{self.sequence}"


class AuditReview(models.Model):
    """A monitor's signed review of a trial's audit trail over a period (append-only).

    The signature covers the report as the monitor read it: its content hash
    (screening/reports/audit_review.py). Sealed in the trial's ledger chain.
    """

    trial = models.ForeignKey(
        "trials.Trial",
        on_delete=models.PROTECT,
        related_name="audit_reviews",
        verbose_name=_("trial"),
    )
    period_start = models.DateField(_("period from (site's date)"))
    period_end = models.DateField(_("period to (site's date, inclusive)"))
    content_hash = models.CharField(_("report SHA-256"), max_length=64)
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("signer"),
    )
    signer_full_name = models.CharField(_("signer's full name"), max_length=300)
    meaning = models.CharField(_("meaning of the signature"), max_length=200)
    signed_at = models.DateTimeField(_("signed at (UTC)"), editable=False)

    class Meta:
        verbose_name = _("audit-trail review")
        verbose_name_plural = _("audit-trail reviews")
        ordering = ["-signed_at", "-id"]
        default_permissions = ("view",)
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")),
                name="audit_review_period_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.trial_id} {self.period_start}..{self.period_end}"


class SignatureRefusal(models.Model):
    """An attempt to sign one's own screening record, refused (append-only).

    Sealed in the trial's chain under the signature kind (the entry's table
    tells them apart).
    """

    trial = models.ForeignKey(
        "trials.Trial",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("trial"),
    )
    decision = models.ForeignKey(
        "screening.EligibilityDecision",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decision"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("user"),
    )
    refused_at = models.DateTimeField(_("refused at (UTC)"), editable=False)

    class Meta:
        verbose_name = _("refused self-signing")
        verbose_name_plural = _("refused self-signings")
        ordering = ["-refused_at", "-id"]
        default_permissions = ("view",)

    def __str__(self):
        return f"{self.decision_id} {self.user_id}"
