"""System checks: the ledger's key is configured and long enough."""

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from . import keys


@checks.register(checks.Tags.security)
def ledger_keys(app_configs, **kwargs):
    try:
        key_id, key = keys.signing_key()
        keys.verification_keys()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="ledger.E001")]
    if len(key) < keys.MIN_KEY_LENGTH:
        return [
            checks.Error(
                f"AUDIT_HMAC_KEY is shorter than {keys.MIN_KEY_LENGTH} characters",
                hint="python -c 'import secrets; print(secrets.token_urlsafe(48))'",
                id="ledger.E002",
            )
        ]
    return []
