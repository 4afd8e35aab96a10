from datetime import UTC, datetime
from decimal import Decimal

from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.db.models.lookups import LessThan, LessThanOrEqual
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from catalog.models import QUANTITY_DIGITS, QUANTITY_PLACES, Product, Variant
from warehouses.models import Warehouse

from ..querysets import StockLineQuerySet

ZERO = Decimal("0.000")
#: Where a line that never moved sorts and filters as if it had last moved: before anything
#: real, so that "last movement" is never NULL and one index serves the stagnant filter and
#: the sort in both directions (never-moved lines first when the oldest come first).
NEVER_MOVED = datetime(1970, 1, 1, tzinfo=UTC)


def last_movement_or_never():
    return Coalesce("last_movement_at", Value(NEVER_MOVED))


def quantity_field(verbose_name, **kwargs):
    kwargs.setdefault("max_digits", QUANTITY_DIGITS)
    kwargs.setdefault("decimal_places", QUANTITY_PLACES)
    return models.DecimalField(verbose_name, **kwargs)


class StockStatus(models.TextChoices):
    OK = "ok", _("OK")
    LOW = "low", _("Low stock")
    OUT = "out", _("Stockout")


class StockLine(models.Model):
    """One variant in one warehouse: the quantities the whole app is about."""

    variant = models.ForeignKey(
        Variant,
        verbose_name=_("variant"),
        on_delete=models.PROTECT,
        related_name="stock_lines",
        # Indexed with the status (Meta.indexes), which serves the variant's lookups too.
        db_index=False,
    )
    warehouse = models.ForeignKey(
        Warehouse, verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="stock_lines"
    )
    #: The variant's product, copied here and kept by the database (triggers of migration
    #: 0015, on insert and when a variant moves to another product): a broad search's counts
    #: then check a line's product in the status index, without listing the products'
    #: variants first. Null only on SQLite, between its insert and its trigger.
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        # A product with stock lines has variants, which protect it already.
        on_delete=models.DO_NOTHING,
        related_name="+",
        null=True,
        editable=False,
        db_index=False,
    )
    #: Physically in the warehouse (the "Total"). Equals the sum of the line's movements.
    on_hand = quantity_field(_("on hand"), default=ZERO)
    #: Promised to open orders, not yet shipped.
    reserved = quantity_field(_("reserved"), default=ZERO)
    #: Physically there but not sellable (quality hold, damage, count in progress).
    locked = quantity_field(_("locked"), default=ZERO)
    #: Ordered from suppliers, not yet received: the sum of open expected receptions.
    incoming = quantity_field(_("incoming"), default=ZERO)
    #: What can be sold now; computed by the database so it can be indexed and sorted on.
    available = models.GeneratedField(
        expression=F("on_hand") - F("reserved") - F("locked"),
        output_field=models.DecimalField(max_digits=QUANTITY_DIGITS + 1, decimal_places=3),
        db_persist=True,
        verbose_name=_("available"),
    )
    #: OK, Low stock or Stockout; computed by the database from the quantities and
    #: ``effective_threshold`` so that the status filter and its counts are served by an index.
    status = models.GeneratedField(
        expression=Case(
            When(
                LessThanOrEqual(F("on_hand") - F("reserved") - F("locked"), 0),
                then=Value(StockStatus.OUT.value),
            ),
            # A NULL threshold makes the comparison NULL: no threshold, never Low.
            When(
                LessThan(F("on_hand") - F("reserved") - F("locked"), F("effective_threshold")),
                then=Value(StockStatus.LOW.value),
            ),
            default=Value(StockStatus.OK.value),
        ),
        output_field=models.CharField(max_length=3, choices=StockStatus.choices),
        db_persist=True,
        verbose_name=_("status"),
    )
    #: Overrides the variant's alert threshold in this warehouse when set.
    alert_threshold = quantity_field(
        _("alert threshold in this warehouse"),
        null=True,
        blank=True,
        help_text=_("Blank: the variant's threshold applies."),
    )
    #: The threshold that applies: the line's own, else the variant's, else the product's.
    #: A copy kept by inventory.services.thresholds, so that ``status`` needs no join.
    effective_threshold = quantity_field(
        _("alert threshold"), null=True, blank=True, editable=False
    )
    last_movement_at = models.DateTimeField(_("last movement"), null=True, blank=True)
    #: Last change of any quantity (movement, reservation, lock, incoming): what an API client
    #: syncing "what changed since" filters on.
    changed_at = models.DateTimeField(_("last change"), null=True, blank=True, editable=False)
    #: Hash of the line's latest movement: the anchor of its tamper-evident chain.
    ledger_head = models.CharField(_("ledger head"), max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = StockLineQuerySet.as_manager()

    class Meta:
        ordering = ["variant__sku", "warehouse__code"]
        verbose_name = _("stock line")
        verbose_name_plural = _("stock lines")
        constraints = [
            models.UniqueConstraint(
                fields=["variant", "warehouse"], name="inventory_stockline_variant_warehouse_unique"
            ),
            models.CheckConstraint(
                condition=Q(reserved__gte=0), name="inventory_stockline_reserved_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(locked__gte=0), name="inventory_stockline_locked_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(incoming__gte=0), name="inventory_stockline_incoming_gte_0"
            ),
        ]
        indexes = [
            models.Index(fields=["warehouse", "variant"], name="inventory_sl_wh_variant"),
            # A narrow search's Low stock and Stockout counts: the lines of its few variants in
            # one status, from the index alone (70 variants: 1.4 ms -> 0.26 ms at a million
            # lines; by the variant alone, PostgreSQL also read every Stockout line's entry).
            models.Index(fields=["variant", "status"], name="inventory_sl_variant_status"),
            # The inventory list: the status filter and its counts, and keyset paging on each
            # sortable column of the line (the id breaks ties).
            # With the variant and the product, so that a broad search's Low stock and Stockout
            # counts read the index alone (the lines of 10,000 matching variants: 0.5 s ->
            # 0.2 s; by their 1,380 products rather than their variants, 13 -> 7 ms).
            models.Index(
                fields=["status", "warehouse"],
                name="inventory_sl_status_wh",
                include=["variant", "product"],
            ),
            models.Index(fields=["available", "id"], name="inventory_sl_available_id"),
            # "Low stock or Stockout" sorted by available: a tenth of the lines, in order.
            models.Index(
                fields=["available", "id"],
                name="inventory_sl_alert_available",
                condition=Q(status__in=["low", "out"]),
            ),
            models.Index(fields=["reserved", "id"], name="inventory_sl_reserved_id"),
            models.Index(fields=["on_hand", "id"], name="inventory_sl_on_hand_id"),
            models.Index(last_movement_or_never(), F("id"), name="inventory_sl_last_movement_id"),
            models.Index(fields=["changed_at"], name="inventory_sl_changed"),
        ]
        permissions = [
            ("receive_stock", _("Can receive stock")),
            ("adjust_stock", _("Can adjust stock")),
            ("transfer_stock", _("Can transfer stock")),
            ("lock_stock", _("Can lock and unlock stock")),
            ("count_stock", _("Can run physical counts")),
            ("reserve_stock", _("Can reserve, release and ship stock for orders")),
            ("export_stock", _("Can export inventory and movement CSV")),
        ]

    def __str__(self):
        return f"{self.variant.sku} @ {self.warehouse.code}"

    def get_absolute_url(self):
        return reverse("inventory:sku_detail", kwargs={"sku": self.variant.sku})

    @property
    def effective_alert_threshold(self):
        if self.alert_threshold is not None:
            return self.alert_threshold
        return self.variant.effective_alert_threshold


def stock_status(available, threshold) -> str:
    if available <= 0:
        return StockStatus.OUT
    if threshold is not None and available < threshold:
        return StockStatus.LOW
    return StockStatus.OK
