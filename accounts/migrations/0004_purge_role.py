from django.contrib.auth.management import create_permissions
from django.db import migrations

# As in accounts/roles.py when this migration was written.
PURGE = ("screening", "purge_prescreenupload")
ROLES = ("Monitor", "Trial admin")


def _purge_permission(apps):
    # Permissions are normally created after migrate; the roles need it now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    return apps.get_model("auth", "Permission").objects.get(
        content_type__app_label=PURGE[0], codename=PURGE[1]
    )


def grant(apps, schema_editor):
    permission = _purge_permission(apps)
    Group = apps.get_model("auth", "Group")
    for role in ROLES:
        group, _created = Group.objects.get_or_create(name=role)
        group.permissions.add(permission)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.filter(
        content_type__app_label=PURGE[0], codename=PURGE[1]
    ).first()
    if permission is not None:
        for group in apps.get_model("auth", "Group").objects.filter(name__in=ROLES):
            group.permissions.remove(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_sites_memberships"),
        ("screening", "0008_prescreen_purge"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
