"""Authentication backends."""

from functools import cache

from django.contrib.auth import backends
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connections, router


class ModelBackend(backends.ModelBackend):
    """Django's, reading a user's own and group permissions in one query rather than two.

    Every page checks a permission, so every page paid for the second query, and for the ORM
    building two: the query is written once, in SQL, from the models' own table names.
    """

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            using = router.db_for_read(Permission)
            with connections[using].cursor() as cursor:
                if user_obj.is_superuser:
                    cursor.execute(_all_permissions_sql())
                else:
                    cursor.execute(_user_permissions_sql(), [user_obj.pk, user_obj.pk])
                user_obj._perm_cache = {f"{app}.{codename}" for app, codename in cursor}
        return user_obj._perm_cache


@cache
def _tables() -> dict[str, str]:
    user_permissions = backends.UserModel.user_permissions.through._meta
    user_groups = backends.UserModel.groups.through._meta
    group_permissions = Group.permissions.through._meta
    return {
        "permission": Permission._meta.db_table,
        "permission_content_type": Permission._meta.get_field("content_type").column,
        "content_type": ContentType._meta.db_table,
        "user_permissions": user_permissions.db_table,
        "user_permissions_user": user_permissions.get_field("user").column,
        "user_permissions_permission": user_permissions.get_field("permission").column,
        "user_groups": user_groups.db_table,
        "user_groups_user": user_groups.get_field("user").column,
        "user_groups_group": user_groups.get_field("group").column,
        "group_permissions": group_permissions.db_table,
        "group_permissions_group": group_permissions.get_field("group").column,
        "group_permissions_permission": group_permissions.get_field("permission").column,
    }


@cache
def _all_permissions_sql() -> str:
    return (
        'SELECT ct."app_label", p."codename" FROM "{permission}" p '
        'JOIN "{content_type}" ct ON ct."id" = p."{permission_content_type}"'.format(**_tables())
    )


@cache
def _user_permissions_sql() -> str:
    """A user's own permissions and those of their groups (parameters: the user's id twice)."""
    return (
        _all_permissions_sql()
        + ' WHERE p."id" IN ('
        'SELECT "{user_permissions_permission}" FROM "{user_permissions}" '
        'WHERE "{user_permissions_user}" = %s '
        'UNION SELECT gp."{group_permissions_permission}" FROM "{group_permissions}" gp '
        'JOIN "{user_groups}" ug ON ug."{user_groups_group}" = gp."{group_permissions_group}" '
        'WHERE ug."{user_groups_user}" = %s)'.format(**_tables())
    )
