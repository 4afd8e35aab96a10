"""Supplier receptions: what is expected (a light purchase order) and what was received.

Open expected receptions explain every stock line's ``incoming`` quantity: the sum of what
their lines still expect. Only ``inventory.services.receptions`` changes them, through the
stock writer, so that both move together.
"""

import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from catalog.models import Supplier, Variant
from warehouses.models import Warehouse

from .stock_line import ZERO, quantity_field


def unit_cost_field(verbose_name, **kwargs):
    kwargs.setdefault("max_digits", 14)
    kwargs.setdefault("decimal_places", 4)
    kwargs.setdefault("null", True)
    kwargs.setdefault("blank", True)
    kwargs.setdefault("validators", [MinValueValidator(0)])
    return models.DecimalField(verbose_name, **kwargs)


class ExpectedReceptionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RECEIVED = "received", _("Received")
    CLOSED = "closed", _("Closed")


class ExpectedReceptionQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status=ExpectedReceptionStatus.OPEN)

    def visible_to(self, user):
        return self.filter(warehouse__in=Warehouse.objects.visible_to(user))


class ExpectedReception(models.Model):
    """Goods ordered from a supplier for one warehouse; its open lines are the Incoming stock."""

    supplier = models.ForeignKey(
        Supplier, verbose_name=_("supplier"), on_delete=models.PROTECT, related_name="+"
    )
    warehouse = models.ForeignKey(
        Warehouse, verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="+"
    )
    #: The purchase order number, as the supplier knows it.
    reference = models.CharField(_("reference"), max_length=64)
    expected_on = models.DateField(_("expected on"), null=True, blank=True)
    #: Open: still expected (counts as Incoming). Received: every line arrived in full.
    #: Closed: closed by hand; whatever had not arrived is no longer expected.
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ExpectedReceptionStatus.choices,
        default=ExpectedReceptionStatus.OPEN,
    )
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    objects = ExpectedReceptionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("expected reception")
        verbose_name_plural = _("expected receptions")
        constraints = [
            models.UniqueConstraint(
                fields=["supplier", "reference"],
                name="inventory_expected_supplier_reference_unique",
                violation_error_message=_(
                    "This supplier already has an order with this reference."
                ),
            ),
        ]
        indexes = [models.Index(fields=["status", "warehouse"], name="inventory_er_status_wh")]

    def __str__(self):
        return f"{self.supplier} / {self.reference}"

    def get_absolute_url(self):
        return reverse("inventory:expected_reception_detail", kwargs={"pk": self.pk})

    @property
    def is_open(self) -> bool:
        return self.status == ExpectedReceptionStatus.OPEN


class ExpectedReceptionLine(models.Model):
    expected_reception = models.ForeignKey(
        ExpectedReception,
        verbose_name=_("expected reception"),
        on_delete=models.CASCADE,
        related_name="lines",
    )
    variant = models.ForeignKey(
        Variant, verbose_name=_("variant"), on_delete=models.PROTECT, related_name="+"
    )
    #: Quantity ordered.
    quantity = quantity_field(_("quantity ordered"), validators=[MinValueValidator(0)])
    #: Quantity received so far against this line, by every reception.
    received = quantity_field(_("quantity received"), default=ZERO)
    unit_cost = unit_cost_field(_("unit cost"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("expected reception line")
        verbose_name_plural = _("expected reception lines")
        constraints = [
            models.UniqueConstraint(
                fields=["expected_reception", "variant"], name="inventory_erl_variant_unique"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="inventory_erl_quantity_gt_0"),
            models.CheckConstraint(
                condition=Q(received__gte=0), name="inventory_erl_received_gte_0"
            ),
        ]

    def __str__(self):
        return f"{self.variant_id} × {self.quantity}"

    @property
    def outstanding(self):
        """What is still expected: ordered minus received, never below zero."""
        return max(self.quantity - self.received, ZERO)


class Reception(models.Model):
    """Goods received from a supplier in one delivery: written once, with its movements."""

    supplier = models.ForeignKey(
        Supplier, verbose_name=_("supplier"), on_delete=models.PROTECT, related_name="+"
    )
    warehouse = models.ForeignKey(
        Warehouse, verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="+"
    )
    delivery_note = models.CharField(_("delivery note number"), max_length=64)
    #: The order this delivery was received against; empty for an ad hoc reception.
    expected_reception = models.ForeignKey(
        ExpectedReception,
        verbose_name=_("expected reception"),
        on_delete=models.PROTECT,
        related_name="receptions",
        null=True,
        blank=True,
    )
    #: The reference written on the movements: "<supplier> / <delivery note>".
    reference = models.CharField(_("reference"), max_length=100)
    note = models.TextField(_("note"), blank=True)
    received_at = models.DateTimeField(_("received"))
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("received by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    #: The ledger operation of the reception's movements.
    operation = models.UUIDField(_("operation"), default=uuid.uuid4, db_index=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("reception")
        verbose_name_plural = _("receptions")

    def __str__(self):
        return self.reference

    def get_absolute_url(self):
        return reverse("inventory:reception_detail", kwargs={"pk": self.pk})


class ReceptionLine(models.Model):
    reception = models.ForeignKey(
        Reception, verbose_name=_("reception"), on_delete=models.CASCADE, related_name="lines"
    )
    variant = models.ForeignKey(
        Variant, verbose_name=_("variant"), on_delete=models.PROTECT, related_name="+"
    )
    quantity = quantity_field(_("quantity received"))
    unit_cost = unit_cost_field(_("unit cost"))
    #: What the order still expected of this SKU before this delivery; empty when the SKU was
    #: not on the order (or there was no order).
    ordered = quantity_field(_("quantity expected"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("reception line")
        verbose_name_plural = _("reception lines")
        constraints = [
            models.UniqueConstraint(fields=["reception", "variant"], name="inventory_rl_unique"),
        ]

    def __str__(self):
        return f"{self.variant_id} × {self.quantity}"

    @property
    def difference(self):
        """Received minus expected; None when nothing was expected."""
        return None if self.ordered is None else self.quantity - self.ordered
