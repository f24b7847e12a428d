from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "screening.ledger"
    label = "ledger"
    verbose_name = _("Audit ledger")

    def ready(self):
        from . import checks, receivers  # noqa: F401
