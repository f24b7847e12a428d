"""Record logins, failed logins, logouts and role changes as access events."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import (
    user_logged_in,
    user_logged_out,
    user_login_failed,
)
from django.db.models.signals import m2m_changed
from django.dispatch import receiver
from simple_history.models import HistoricalRecords

from .client import client_address
from .models import AccessEvent


def _ip(request):
    # The client's address as django-axes sees it (through the trusted proxy).
    return client_address(request) if request is not None else None


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    AccessEvent.objects.create(
        action=AccessEvent.Action.LOGIN,
        user=user,
        username=user.get_username(),
        ip_address=_ip(request),
    )


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is None:
        return
    AccessEvent.objects.create(
        action=AccessEvent.Action.LOGOUT,
        user=user,
        username=user.get_username(),
        ip_address=_ip(request),
    )


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    # Only the user name: the password is never recorded.
    username = str(credentials.get("username", ""))[:150]
    AccessEvent.objects.create(
        action=AccessEvent.Action.LOGIN_FAILED,
        username=username,
        ip_address=_ip(request),
    )


@receiver(m2m_changed, sender=get_user_model().groups.through)
def _roles_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """Record each role given or taken, from either side of the relation."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    User = get_user_model()
    if action == "pre_clear":
        related = instance.user_set if reverse else instance.groups
        pk_set = set(related.values_list("pk", flat=True))
        event = AccessEvent.Action.ROLE_REMOVED
    elif action == "post_add":
        event = AccessEvent.Action.ROLE_ADDED
    else:
        event = AccessEvent.Action.ROLE_REMOVED
    if reverse:  # group.user_set.add(users...)
        pairs = [
            (user, instance.name) for user in User.objects.filter(pk__in=pk_set or ())
        ]
    else:  # user.groups.add(groups...)
        names = Group.objects.filter(pk__in=pk_set or ()).values_list("name", flat=True)
        pairs = [(instance, name) for name in names]
    request = getattr(HistoricalRecords.context, "request", None)
    actor = getattr(request, "user", None)
    for user, role in pairs:
        AccessEvent.objects.create(
            action=event,
            user=user,
            username=user.get_username(),
            actor=actor if getattr(actor, "is_authenticated", False) else None,
            detail=role,
            ip_address=_ip(request),
        )
