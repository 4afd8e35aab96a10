from django.db import migrations, models
from django.db.models import F, Max, OuterRef, Subquery
from django.db.models.functions import Coalesce, Greatest


def backfill_changed_at(apps, schema_editor):
    """The latest of the line's creation, last movement and last reservation or lock change."""
    StockLine = apps.get_model("inventory", "StockLine")
    HoldChange = apps.get_model("inventory", "HoldChange")
    last_hold = Subquery(
        HoldChange.objects.filter(stock_line=OuterRef("pk"))
        .order_by()
        .values("stock_line")
        .annotate(last=Max("created_at"))
        .values("last")[:1]
    )
    StockLine.objects.update(
        changed_at=Greatest(
            Coalesce("last_movement_at", "created_at"),
            Coalesce(last_hold, F("created_at")),
        )
    )


class Migration(migrations.Migration):

    dependencies = [
        ('inventory', '0004_stockline_incoming'),
    ]

    operations = [
        migrations.AddField(
            model_name='stockline',
            name='changed_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='last change'),
        ),
        migrations.AddIndex(
            model_name='stockline',
            index=models.Index(fields=['changed_at'], name='inventory_sl_changed'),
        ),
        migrations.RunPython(backfill_changed_at, migrations.RunPython.noop),
    ]
