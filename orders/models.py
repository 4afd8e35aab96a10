"""Orders pushed by the merchant's shop, and the pipeline settings that say what each stage
does to stock.

An order's lines say how much of each SKU the order holds back (``reserved``), how much left the
warehouse (``shipped``) and how much came back into stock (``restocked``). Only
``orders.services`` changes them, together with the stock services' writes.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from catalog.models import Variant
from inventory.models import ZERO, quantity_field
from warehouses.models import Warehouse, warehouse_scope

#: Letters, digits and . _ - : # (Shopify's "#1001" included); no spaces or slashes, since the
#: reference appears in URLs.
REFERENCE_PATTERN = r"^[A-Za-z0-9._:#-]{1,64}\Z"
reference_validator = RegexValidator(
    REFERENCE_PATTERN,
    _("An order reference is 1 to 64 letters, digits or . _ - : # characters."),
    code="invalid_reference",
)


class Stage(models.TextChoices):
    NEW = "new", _("New")
    CONFIRMED = "confirmed", _("Confirmed")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")
    RETURNED = "returned", _("Returned")
    RETURN_RESTOCKED = "return_restocked", _("Return restocked")


#: The forward flow of an order; the reserve and deduct stages are two of these.
FLOW = (Stage.NEW, Stage.CONFIRMED, Stage.SHIPPED, Stage.DELIVERED)
#: Stages that may release a reservation not yet deducted; cancelled always does.
RELEASE_STAGE_CHOICES = (Stage.CANCELLED, Stage.RETURNED)
FLOW_CHOICES = [(stage.value, stage.label) for stage in FLOW]


def default_release_stages() -> list[str]:
    return [Stage.CANCELLED.value]


class PipelineSettings(models.Model):
    """Which stage reserves stock and which deducts it: one row for the whole installation."""

    SINGLETON_PK = 1

    reserve_stage = models.CharField(
        _("reserve at"),
        max_length=20,
        choices=FLOW_CHOICES,
        default=Stage.CONFIRMED,
        help_text=_("Reaching this stage holds the order's quantities back from available stock."),
    )
    deduct_stage = models.CharField(
        _("deduct at"),
        max_length=20,
        choices=FLOW_CHOICES,
        default=Stage.SHIPPED,
        help_text=_(
            "Reaching this stage takes the quantities out of stock (an Exit, reason Sale). "
            "It may be the reserve stage itself, not an earlier one."
        ),
    )
    #: Stage values (a subset of RELEASE_STAGE_CHOICES) that give a reservation not yet
    #: deducted back to available stock.
    release_stages = models.JSONField(
        _("release at"),
        default=default_release_stages,
        help_text=_(
            "Stages that give a reservation not yet deducted back to available stock. "
            "Cancelled always does."
        ),
    )

    class Meta:
        verbose_name = _("pipeline settings")
        verbose_name_plural = _("pipeline settings")
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="orders_pipelinesettings_singleton"),
        ]

    def __str__(self):
        return str(_("Order pipeline settings"))

    def save(self, *args, **kwargs):
        self.pk = self.SINGLETON_PK
        super().save(*args, **kwargs)

    def clean(self):
        if FLOW.index(self.deduct_stage) < FLOW.index(self.reserve_stage):
            raise ValidationError(
                {"deduct_stage": _("Stock cannot be deducted before it is reserved.")}
            )
        stages = set(self.release_stages or [])
        if not stages <= {str(s) for s in RELEASE_STAGE_CHOICES}:
            raise ValidationError({"release_stages": _("Only cancelled and returned can release.")})
        if Stage.CANCELLED not in stages:
            raise ValidationError({"release_stages": _("Cancelled always releases.")})

    @classmethod
    def load(cls) -> "PipelineSettings":
        instance, _ = cls.objects.get_or_create(pk=cls.SINGLETON_PK)
        return instance

    def reserves_at(self, stage: str) -> bool:
        """Whether reaching ``stage`` (in the forward flow) means the stock is reserved."""
        return stage in FLOW and FLOW.index(stage) >= FLOW.index(self.reserve_stage)

    def deducts_at(self, stage: str) -> bool:
        return stage in FLOW and FLOW.index(stage) >= FLOW.index(self.deduct_stage)

    def releases_at(self, stage: str) -> bool:
        return stage == Stage.CANCELLED or stage in (self.release_stages or [])


class OrderQuerySet(models.QuerySet):
    def visible_to(self, user):
        scope = warehouse_scope(user)
        return self if scope is None else self.filter(warehouse_id__in=scope)

    def with_totals(self):
        """Annotate ``line_count``, ``total_quantity``, ``total_reserved`` and ``total_shipped``."""
        return self.annotate(
            line_count=models.Count("lines"),
            total_quantity=models.Sum("lines__quantity"),
            total_reserved=models.Sum("lines__reserved"),
            total_shipped=models.Sum("lines__shipped"),
        )

    def in_stage(self, stage: str):
        return self.filter(stage=stage)


class Order(models.Model):
    """An order from the shop: what it holds back, ships and gets back from one warehouse."""

    reference = models.CharField(
        _("reference"),
        max_length=64,
        unique=True,
        validators=[reference_validator],
        help_text=_("The shop's order number; it is also the reference of the order's movements."),
    )
    warehouse = models.ForeignKey(
        Warehouse, verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="orders"
    )
    stage = models.CharField(
        _("stage"), max_length=20, choices=Stage.choices, default=Stage.NEW, db_index=True
    )
    #: SHA-256 of the creating request (warehouse, lines, stage): posting the same reference
    #: again with the same content changes nothing; with other content it is refused.
    fingerprint = models.CharField(_("fingerprint"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("created"))
    stage_changed_at = models.DateTimeField(_("stage changed"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="orders_order_created"),
            models.Index(fields=["warehouse", "-created_at"], name="orders_order_wh_created"),
        ]

    def __str__(self):
        return self.reference

    def get_absolute_url(self):
        return reverse("orders:detail", kwargs={"reference": self.reference})


class OrderLine(models.Model):
    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="lines"
    )
    variant = models.ForeignKey(
        Variant, verbose_name=_("SKU"), on_delete=models.PROTECT, related_name="order_lines"
    )
    quantity = quantity_field(_("quantity"))
    #: Held back from available stock for this order, not yet shipped.
    reserved = quantity_field(_("reserved"), default=ZERO)
    #: Taken out of stock when the order reached the deduct stage (an Exit, reason Sale).
    shipped = quantity_field(_("shipped"), default=ZERO)
    #: Entered back into stock when the return was restocked (an Entry, reason Return restocked).
    restocked = quantity_field(_("restocked"), default=ZERO)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.UniqueConstraint(fields=["order", "variant"], name="orders_line_order_variant"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orders_line_quantity_gt_0"),
            models.CheckConstraint(
                condition=Q(reserved__gte=0, reserved__lte=F("quantity")),
                name="orders_line_reserved_in_range",
            ),
            models.CheckConstraint(
                condition=Q(shipped__gte=0, shipped__lte=F("quantity")),
                name="orders_line_shipped_in_range",
            ),
            models.CheckConstraint(
                condition=Q(restocked__gte=0, restocked__lte=F("shipped")),
                name="orders_line_restocked_in_range",
            ),
        ]

    def __str__(self):
        return f"{self.order.reference}: {self.quantity:f} × {self.variant.sku}"


class OrderStageChange(models.Model):
    """One step of an order's history: when, who (a user, through the app or an API token),
    from which stage to which."""

    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="stage_changes"
    )
    created_at = models.DateTimeField(_("date"))
    #: Blank for the order's creation.
    from_stage = models.CharField(_("from"), max_length=20, choices=Stage.choices, blank=True)
    to_stage = models.CharField(_("to"), max_length=20, choices=Stage.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    #: Display prefix of the API token that made the change; blank for changes made in the app.
    api_token = models.CharField(_("API token"), max_length=40, blank=True)

    class Meta:
        ordering = ["order", "created_at", "id"]
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")

    def __str__(self):
        return f"{self.order_id}: {self.from_stage or '-'} → {self.to_stage}"


class StockEffectKind(models.TextChoices):
    RESERVE = "reserve", _("Reserved")
    DEDUCT = "deduct", _("Deducted")
    RELEASE = "release", _("Released")
    RESTOCK = "restock", _("Restocked")


class StockEffect(models.Model):
    """A stock operation a stage change made, linked to the ledger rows it wrote through
    their ``operation``: what lets verify_ledger prove each order holds what the ledger says."""

    stage_change = models.ForeignKey(
        OrderStageChange,
        verbose_name=_("stage change"),
        on_delete=models.CASCADE,
        related_name="stock_effects",
    )
    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="stock_effects"
    )
    kind = models.CharField(_("effect"), max_length=12, choices=StockEffectKind.choices)
    #: The ``operation`` of the movements and hold changes the stock service wrote.
    operation = models.UUIDField(_("operation"), unique=True)

    class Meta:
        ordering = ["stage_change", "id"]
        verbose_name = _("stock effect")
        verbose_name_plural = _("stock effects")

    def __str__(self):
        return f"{self.get_kind_display()} ({self.operation})"
