import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..querysets import MovementQuerySet
from .stock_line import ZERO, StockLine, quantity_field


class MovementType(models.TextChoices):
    ENTRY = "entry", _("Entry")
    EXIT = "exit", _("Exit")
    ADJUSTMENT = "adjustment", _("Adjustment")


class MovementReason(models.TextChoices):
    SUPPLIER_RECEPTION = "supplier_reception", _("Supplier reception")
    RETURN_RESTOCKED = "return_restocked", _("Return restocked")
    TRANSFER_IN = "transfer_in", _("Transfer in")
    TRANSFER_OUT = "transfer_out", _("Transfer out")
    SALE = "sale", _("Sale")
    BREAKAGE = "breakage", _("Breakage")
    LOSS = "loss", _("Loss")
    FOUND = "found", _("Found")
    COUNT_CORRECTION = "count_correction", _("Count correction")
    PHYSICAL_COUNT = "physical_count", _("Physical count")
    MANUAL = "manual", _("Manual")


#: Reasons a person may give for an adjustment; the others are written by their own operation.
ADJUSTMENT_REASONS = (
    MovementReason.BREAKAGE,
    MovementReason.LOSS,
    MovementReason.FOUND,
    MovementReason.COUNT_CORRECTION,
    MovementReason.MANUAL,
)


class Movement(models.Model):
    """One change of a stock line's on-hand quantity. Append-only: the database refuses
    UPDATE and DELETE on this table; a mistake is corrected by a new movement."""

    stock_line = models.ForeignKey(
        StockLine, verbose_name=_("stock line"), on_delete=models.PROTECT, related_name="movements"
    )
    #: The moment the movement was written; never back-dated.
    created_at = models.DateTimeField(_("date"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    type = models.CharField(_("type"), max_length=12, choices=MovementType.choices)
    reason = models.CharField(_("reason"), max_length=32, choices=MovementReason.choices)
    #: Signed change of on_hand.
    quantity = quantity_field(_("quantity"))
    #: on_hand of the line right after this movement.
    balance_after = quantity_field(_("balance after"))
    #: Cost per unit used for valuation (receptions).
    unit_cost = models.DecimalField(
        _("unit cost"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    #: Delivery note number, order reference, count session...
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    note = models.TextField(_("note"), blank=True)
    #: Groups the movements written by one operation (both legs of a transfer, a reception).
    operation = models.UUIDField(_("operation"), default=uuid.uuid4, db_index=True)
    previous_hash = models.CharField(_("previous hash"), max_length=64, blank=True)
    hash = models.CharField(_("hash"), max_length=64)

    objects = MovementQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("movement")
        verbose_name_plural = _("movements")
        constraints = [
            models.CheckConstraint(
                condition=~Q(quantity=0), name="inventory_movement_quantity_not_zero"
            ),
        ]
        indexes = [
            models.Index(
                fields=["stock_line", "created_at"],
                include=["balance_after"],
                name="inventory_mv_line_created",
            ),
            # The journal's order, ties included: a count writes 100,000 movements at one
            # moment, and a page among them seeks here rather than sorting them all.
            models.Index(fields=["created_at", "id"], name="inventory_mv_created_id"),
        ]

    def __str__(self):
        return f"{self.get_type_display()} {self.quantity:+} ({self.get_reason_display()})"


class HoldKind(models.TextChoices):
    RESERVE = "reserve", _("Reserve")
    RELEASE = "release", _("Release")
    DEDUCT = "deduct", _("Deduct (shipped)")
    LOCK = "lock", _("Lock")
    UNLOCK = "unlock", _("Unlock")


class LockReason(models.TextChoices):
    QUALITY_CHECK = "quality_check", _("Quality check")
    DAMAGED = "damaged", _("Damaged")
    INVESTIGATION = "investigation", _("Investigation")
    COUNT_IN_PROGRESS = "count_in_progress", _("Count in progress")
    OTHER = "other", _("Other")


class HoldChange(models.Model):
    """One change of a stock line's reserved or locked quantity. Append-only like Movement,
    so that every quantity of a line can be explained."""

    stock_line = models.ForeignKey(
        StockLine,
        verbose_name=_("stock line"),
        on_delete=models.PROTECT,
        related_name="hold_changes",
    )
    created_at = models.DateTimeField(_("date"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    kind = models.CharField(_("kind"), max_length=12, choices=HoldKind.choices)
    reason = models.CharField(_("reason"), max_length=32, choices=LockReason.choices, blank=True)
    reserved_delta = quantity_field(_("reserved change"), default=ZERO)
    locked_delta = quantity_field(_("locked change"), default=ZERO)
    reserved_after = quantity_field(_("reserved after"))
    locked_after = quantity_field(_("locked after"))
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    note = models.TextField(_("note"), blank=True)
    operation = models.UUIDField(_("operation"), default=uuid.uuid4, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("reservation or lock change")
        verbose_name_plural = _("reservation and lock changes")
        indexes = [
            models.Index(fields=["stock_line", "created_at"], name="inventory_hold_line_created"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.reserved_delta or self.locked_delta:+}"
