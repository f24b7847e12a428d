"""Marking user-facing words in the pure domain, without importing Django.

``N_`` returns its argument unchanged. It marks a message for extraction
(``makemessages -k N_``) where it is declared; pages translate it where it is
shown, with Django's ``gettext``.
"""


def N_(message: str) -> str:  # noqa: N802 - the conventional name for gettext_noop
    return message
