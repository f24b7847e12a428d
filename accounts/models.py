"""Access events: logins, failures, logouts and role changes (append-only)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessEvent(models.Model):
    class Action(models.TextChoices):
        LOGIN = "LOGIN", _("Logged in")
        LOGIN_FAILED = "LOGIN_FAILED", _("Login failed")
        LOGOUT = "LOGOUT", _("Logged out")
        ROLE_ADDED = "ROLE_ADDED", _("Role added")
        ROLE_REMOVED = "ROLE_REMOVED", _("Role removed")
        ACCOUNT_CHANGED = "ACCOUNT_CHANGED", _("Account changed")

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
