"""The ledger's HMAC keys: from the settings (the environment), never the database.

``AUDIT_HMAC_KEY`` signs new entries under ``AUDIT_HMAC_KEY_ID``; the keys of
earlier ids stay in ``AUDIT_HMAC_OLD_KEYS`` ("id:key,id:key") so that entries
they signed still verify after a rotation.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MIN_KEY_LENGTH = 32


def parse_keys(value: str) -> dict[str, bytes]:
    """``"id:key,id:key"`` as a mapping; a malformed item is refused by position."""
    keys: dict[str, bytes] = {}
    for position, item in enumerate(filter(None, value.split(",")), start=1):
        key_id, sep, key = item.strip().partition(":")
        if not sep or not key_id or not key:
            raise ImproperlyConfigured(
                f"AUDIT_HMAC_OLD_KEYS item {position} is not 'id:key'"
            )
        if key_id in keys:
            raise ImproperlyConfigured(f"AUDIT_HMAC_OLD_KEYS names {key_id!r} twice")
        keys[key_id] = key.encode()
    return keys


def signing_key() -> tuple[str, bytes]:
    """(key id, key) that signs new entries."""
    key = getattr(settings, "AUDIT_HMAC_KEY", "")
    key_id = getattr(settings, "AUDIT_HMAC_KEY_ID", "")
    if not key or not key_id:
        raise ImproperlyConfigured("AUDIT_HMAC_KEY and AUDIT_HMAC_KEY_ID must be set")
    if ":" in key_id or "," in key_id:
        raise ImproperlyConfigured("AUDIT_HMAC_KEY_ID may not contain ':' or ','")
    return key_id, key.encode()


def verification_keys() -> dict[str, bytes]:
    """Every key an entry may have been signed with, by id."""
    keys = parse_keys(getattr(settings, "AUDIT_HMAC_OLD_KEYS", ""))
    key_id, key = signing_key()
    if key_id in keys and keys[key_id] != key:
        raise ImproperlyConfigured(
            f"AUDIT_HMAC_OLD_KEYS gives another key for the current id {key_id!r}"
        )
    keys[key_id] = key
    return keys
