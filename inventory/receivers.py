"""Inventory's reactions to changes made elsewhere, connected in InventoryConfig.ready().

The catalog must not import inventory, so a threshold saved on a product or a variant (in the
admin, its inline, the shell) or imported in bulk through the admin (django-import-export's
post_import) reaches the stock lines through these receivers.
"""

from decimal import Decimal

from django.db.models.signals import post_save
from django.dispatch import receiver
from import_export.signals import post_import

from catalog.models import Product, Variant

from .ledger import register_check
from .models import StockLine
from .services.thresholds import stale_threshold_lines, stock_lines_refresh_thresholds

#: Stale lines named one by one by verify_ledger before it only counts the rest.
STALE_LINES_LISTED = 20
QUANTUM = Decimal("0.001")


def _may_change_threshold(update_fields, fields: set[str]) -> bool:
    return update_fields is None or bool(fields & set(update_fields))


@receiver(post_save, sender=Product, dispatch_uid="inventory.product_thresholds")
def product_saved(sender, instance, raw=False, update_fields=None, **kwargs):
    if not raw and _may_change_threshold(update_fields, {"alert_threshold"}):
        stock_lines_refresh_thresholds(product_ids=[instance.pk])


@receiver(post_save, sender=Variant, dispatch_uid="inventory.variant_thresholds")
def variant_saved(sender, instance, raw=False, update_fields=None, **kwargs):
    fields = {"alert_threshold", "product", "product_id"}
    if not raw and _may_change_threshold(update_fields, fields):
        stock_lines_refresh_thresholds(variant_ids=[instance.pk])


@receiver(post_save, sender=StockLine, dispatch_uid="inventory.stock_line_threshold")
def stock_line_saved(sender, instance, raw=False, update_fields=None, **kwargs):
    fields = {"alert_threshold", "effective_threshold", "variant", "variant_id"}
    if not raw and _may_change_threshold(update_fields, fields):
        stock_lines_refresh_thresholds(line_ids=[instance.pk])


@receiver(post_import, dispatch_uid="inventory.import_thresholds")
def catalog_imported(sender, model=None, **kwargs):
    """An admin import of products or variants writes them in bulk (no post_save): refresh
    every line whose copy went stale. Only the stale lines are written."""
    if model in (Product, Variant):
        stock_lines_refresh_thresholds()


@register_check
def stale_thresholds():
    """verify_ledger: every line's status must use the threshold that applies to it."""
    stale = stale_threshold_lines().order_by("pk")
    problems = 0
    for sku, code, copy, wanted in stale.values_list(
        "variant__sku", "warehouse__code", "effective_threshold", "wanted_threshold"
    ).iterator(chunk_size=1000):
        problems += 1
        if problems <= STALE_LINES_LISTED:
            yield (
                f"{sku} @ {code}: its status uses alert threshold {_shown(copy)} "
                f"but {_shown(wanted)} applies (run manage.py refresh_thresholds)"
            )
    if problems > STALE_LINES_LISTED:
        yield (
            f"{problems - STALE_LINES_LISTED} more stock lines use a stale alert threshold "
            "(run manage.py refresh_thresholds)"
        )


def _shown(threshold) -> str:
    return "none" if threshold is None else f"{Decimal(threshold).quantize(QUANTUM):f}"
