"""Record logins, failed logins, logouts, role and account changes as access events."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.signals import (
    user_logged_in,
    user_logged_out,
    user_login_failed,
)
from django.db import transaction
from django.db.models.signals import m2m_changed, post_save, pre_delete, pre_save
from django.dispatch import receiver
from simple_history.models import HistoricalRecords

from .client import client_address
from .middleware import IdleSessionMiddleware
from .models import AccessEvent, Membership


def _record_event(**fields) -> AccessEvent:
    # With its ledger entry, all or nothing (a login runs outside a transaction).
    with transaction.atomic():
        return AccessEvent.objects.create(**fields)


def _ip(request):
    # The client's address as django-axes sees it (through the trusted proxy).
    return client_address(request) if request is not None else None


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    _record_event(
        action=AccessEvent.Action.LOGIN,
        user=user,
        username=user.get_username(),
        ip_address=_ip(request),
    )
    if request is not None and hasattr(request, "session"):
        # The login writes the session: activity is counted from here.
        IdleSessionMiddleware.touch(request.session)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is None:
        return
    _record_event(
        action=AccessEvent.Action.LOGOUT,
        user=user,
        username=user.get_username(),
        ip_address=_ip(request),
    )


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    # Only the user name: the password is never recorded.
    username = str(credentials.get("username", ""))[:150]
    _record_event(
        action=AccessEvent.Action.LOGIN_FAILED,
        username=username,
        # A signer's re-authentication names what and where (accounts/reauth.py).
        detail=getattr(request, "reauthentication", "")[:200],
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
        _record_event(
            action=event,
            user=user,
            username=user.get_username(),
            actor=actor if getattr(actor, "is_authenticated", False) else None,
            detail=role,
            ip_address=_ip(request),
        )


# --- Account changes ------------------------------------------------------------

_WATCHED = ("username", "is_superuser", "is_staff", "is_active", "password")


def _actor_and_request():
    request = getattr(HistoricalRecords.context, "request", None)
    actor = getattr(request, "user", None)
    if not getattr(actor, "is_authenticated", False):
        actor = None
    return actor, request


def _account_event(user, detail: str, *, username: str | None = None) -> None:
    actor, request = _actor_and_request()
    _record_event(
        action=AccessEvent.Action.ACCOUNT_CHANGED,
        user=user,
        username=(username or user.get_username())[:150],
        actor=actor,
        detail=detail[:200],
        ip_address=_ip(request),
    )


@receiver(pre_save, sender=get_user_model())
def _remember_account(sender, instance, update_fields=None, **kwargs):
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        instance._account_before = None
        return
    before = (
        sender.objects.filter(pk=instance.pk).values(*_WATCHED).first()
        if instance.pk
        else None
    )
    instance._account_before = before


@receiver(post_save, sender=get_user_model())
def _account_saved(sender, instance, created, **kwargs):
    """Superuser and staff flags, renames, (de)activation and passwords."""
    if created:
        _account_event(instance, "created")
        return
    before = getattr(instance, "_account_before", None)
    if not before:
        return
    for field in _WATCHED:
        old, new = before[field], getattr(instance, field)
        if old == new:
            continue
        if field == "password":
            _account_event(instance, "password")
        elif field == "username":
            _account_event(instance, f"username: {old} -> {new}")
        else:
            _account_event(instance, f"{field}: {old} -> {new}")


def _permission_names(pk_set) -> list[str]:
    return [
        f"{p.content_type.app_label}.{p.codename}"
        for p in Permission.objects.filter(pk__in=pk_set or ()).select_related(
            "content_type"
        )
    ]


def _permission_changes(instance, action, reverse, pk_set, *, holders, held):
    """(holders, permission names, verb) of one m2m change, from either side.

    ``holders(permission)`` gives who holds a permission; ``held(holder)`` the
    permissions a holder has (read before a clear).
    """
    if reverse:  # permission.<holders>.add(...)
        model = holders(instance).model
        changed = (
            list(holders(instance))
            if action == "pre_clear"
            else list(model.objects.filter(pk__in=pk_set or ()))
        )
        names = _permission_names([instance.pk])
    else:
        changed = [instance]
        if action == "pre_clear":
            pk_set = set(held(instance).values_list("pk", flat=True))
        names = _permission_names(pk_set)
    verb = "permission added" if action == "post_add" else "permission removed"
    return changed, names, verb


@receiver(m2m_changed, sender=get_user_model().user_permissions.through)
def _user_permissions_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """A permission granted to or taken from a user directly."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    users, names, verb = _permission_changes(
        instance,
        action,
        reverse,
        pk_set,
        holders=lambda permission: permission.user_set.all(),
        held=lambda user: user.user_permissions.all(),
    )
    for user in users:
        for name in names:
            _account_event(user, f"{verb}: {name}")


@receiver(m2m_changed, sender=Group.permissions.through)
def _group_permissions_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """A role's permissions changed: one event per role and permission."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    groups, names, verb = _permission_changes(
        instance,
        action,
        reverse,
        pk_set,
        holders=lambda permission: permission.group_set.all(),
        held=lambda group: group.permissions.all(),
    )
    for group in groups:
        for name in names:
            _account_event(
                None, f"role {group.name}: {verb}: {name}", username=group.name
            )


# --- Trial memberships ----------------------------------------------------------


@receiver(pre_save, sender=Membership)
def _remember_membership(sender, instance, **kwargs):
    instance._membership_before = (
        sender.objects.select_related("trial", "site", "user")
        .filter(pk=instance.pk)
        .first()
        if instance.pk
        else None
    )


@receiver(post_save, sender=Membership)
def _membership_added(sender, instance, created, **kwargs):
    before = getattr(instance, "_membership_before", None)
    if not created and before is not None:
        if before.describe() == instance.describe() and before.user_id == (
            instance.user_id
        ):
            return
        _membership_event(before, AccessEvent.Action.MEMBERSHIP_REMOVED)
    _membership_event(instance, AccessEvent.Action.MEMBERSHIP_ADDED)


@receiver(pre_delete, sender=Membership)
def _membership_removed(sender, instance, **kwargs):
    _membership_event(instance, AccessEvent.Action.MEMBERSHIP_REMOVED)


def _membership_event(membership, action) -> None:
    actor, request = _actor_and_request()
    _record_event(
        action=action,
        user=membership.user,
        username=membership.user.get_username(),
        actor=actor,
        detail=membership.describe()[:200],
        ip_address=_ip(request),
    )
