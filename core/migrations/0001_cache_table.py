"""The table of the database cache (settings.CACHES), created by `migrate` so that no deployment,
script or test database depends on someone remembering `manage.py createcachetable`.

createcachetable creates the table of every DatabaseCache in settings.CACHES that does not exist
yet and leaves the others alone. If CACHES later names another table, run it by hand.
"""

from django.core.cache import caches
from django.core.cache.backends.db import BaseDatabaseCache
from django.core.management import call_command
from django.db import migrations


def create_cache_tables(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


def drop_cache_tables(apps, schema_editor):
    existing = set(schema_editor.connection.introspection.table_names())
    for alias in caches:
        cache = caches[alias]
        if isinstance(cache, BaseDatabaseCache) and cache._table in existing:
            schema_editor.execute(f"DROP TABLE {schema_editor.quote_name(cache._table)}")


class Migration(migrations.Migration):
    dependencies = []

    operations = [migrations.RunPython(create_cache_tables, drop_cache_tables)]
