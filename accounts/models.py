"""Access events: logins, failures, logouts and role changes (append-only)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts import roles


class AccessEvent(models.Model):
    class Action(models.TextChoices):
        LOGIN = "LOGIN", _("Logged in")
        LOGIN_FAILED = "LOGIN_FAILED", _("Login failed")
        LOGOUT = "LOGOUT", _("Logged out")
        ROLE_ADDED = "ROLE_ADDED", _("Role added")
        ROLE_REMOVED = "ROLE_REMOVED", _("Role removed")
        ACCOUNT_CHANGED = "ACCOUNT_CHANGED", _("Account changed")
        MEMBERSHIP_ADDED = "MEMBERSHIP_ADDED", _("Trial membership added")
        MEMBERSHIP_REMOVED = "MEMBERSHIP_REMOVED", _("Trial membership removed")

    at = models.DateTimeField(_("at (UTC)"), auto_now_add=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    username = models.CharField(_("user name"), max_length=150)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("access event")
        verbose_name_plural = _("access events")
        ordering = ["-at", "-id"]
        default_permissions = ("view",)

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action}"


class Membership(models.Model):
    """A user's role in one trial, for all its sites or for one site.

    Pages, exports and uploads of a trial are open only to its members, and only
    for what their role there allows (accounts/scope.py).
    """

    class Role(models.TextChoices):
        COORDINATOR = roles.COORDINATOR, roles.ROLE_LABELS[roles.COORDINATOR]
        INVESTIGATOR = roles.INVESTIGATOR, roles.ROLE_LABELS[roles.INVESTIGATOR]
        MONITOR = roles.MONITOR, roles.ROLE_LABELS[roles.MONITOR]
        TRIAL_ADMIN = roles.TRIAL_ADMIN, roles.ROLE_LABELS[roles.TRIAL_ADMIN]

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    trial = models.ForeignKey(
        "trials.Trial",
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("trial"),
    )
    site = models.ForeignKey(
        "trials.Site",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("site"),
        help_text=_("Empty: every site of the trial."),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)

    class Meta:
        verbose_name = _("trial membership")
        verbose_name_plural = _("trial memberships")
        ordering = ["trial", "user", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "trial", "site", "role"],
                condition=models.Q(site__isnull=False),
                name="membership_unique_per_site",
            ),
            models.UniqueConstraint(
                fields=["user", "trial", "role"],
                condition=models.Q(site__isnull=True),
                name="membership_unique_all_sites",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=list(roles.ROLE_PERMISSIONS)),
                name="membership_role_valid",
            ),
        ]

    def __str__(self):
        where = self.site.code if self.site_id else "*"
        return f"{self.user} {self.role} {self.trial.slug}/{where}"

    def clean(self):
        if self.site_id and self.trial_id and self.site.trial_id != self.trial_id:
            raise ValidationError(
                {"site": _("This site belongs to another trial.")},
                code="membership_site_trial",
            )

    def describe(self) -> str:
        """Fixed words for the access log (shown translated by the page)."""
        where = f"/{self.site.code}" if self.site_id else ""
        return f"membership {self.role}: {self.trial.slug}{where}"


class Profile(models.Model):
    """How a person is named on the pages besides their user account's full name.

    The full name (first and last name of the account) is shown on English pages
    and signed with; the Chinese name, where set, on Chinese pages
    (accounts/names.py).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="profile",
        verbose_name=_("user"),
    )
    display_name_zh = models.CharField(
        _("name in Chinese"),
        max_length=150,
        blank=True,
        help_text=_("Shown instead of the full name on Chinese pages, e.g. 王芳."),
    )

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self):
        return self.display_name_zh or str(self.user)
