"""Writes for accounts and roles."""

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from .roles import ROLE_PERMISSIONS


@transaction.atomic
def roles_sync() -> list[Group]:
    """Create the study roles if missing and give each exactly its permissions."""
    groups = []
    for role, names in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        permissions = [
            Permission.objects.get(
                content_type__app_label=name.split(".")[0],
                codename=name.split(".")[1],
            )
            for name in names
        ]
        group.permissions.set(permissions)
        groups.append(group)
    return groups
