from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = _("Accounts and access")

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import signals  # noqa: F401

        post_migrate.connect(_roles_after_migrate, dispatch_uid="accounts_roles_sync")


def _roles_after_migrate(sender, **kwargs):
    """Keep each role's permissions as accounts/roles.py says, after every migrate.

    Runs after each app's permissions are created; until the last app's exist,
    a role naming them waits for the next round.
    """
    from django.contrib.auth.models import Permission

    from .services import roles_sync

    try:
        roles_sync()
    except Permission.DoesNotExist:
        pass
