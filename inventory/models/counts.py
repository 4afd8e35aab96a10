"""Physical count sessions: the expected quantities snapshotted, the counted ones entered,
and the gaps applied once as "Physical count" adjustments."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from catalog.models import Category, Variant
from warehouses.models import Warehouse

from .stock_line import quantity_field

#: Default for a new session's "big gap" threshold (settings.STOCKROOM_COUNT_BIG_GAP overrides).
DEFAULT_BIG_GAP = Decimal(5)


def default_big_gap() -> Decimal:
    return Decimal(getattr(settings, "STOCKROOM_COUNT_BIG_GAP", DEFAULT_BIG_GAP))


class CountScope(models.TextChoices):
    ALL = "all", _("Every stock line of the warehouse")
    CATEGORY = "category", _("One category")
    SKUS = "skus", _("A list of SKUs")


class CountStatus(models.TextChoices):
    OPEN = "open", _("Counting")
    APPLIED = "applied", _("Applied")
    CANCELLED = "cancelled", _("Cancelled")


class CountSessionQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(warehouse__in=Warehouse.objects.visible_to(user))


class CountSession(models.Model):
    """One physical count of (part of) a warehouse."""

    warehouse = models.ForeignKey(
        Warehouse, verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="+"
    )
    scope = models.CharField(_("what to count"), max_length=12, choices=CountScope.choices)
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    #: The SKUs asked for, as entered (scope "A list of SKUs").
    skus = models.TextField(_("SKUs"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=CountStatus.choices, default=CountStatus.OPEN
    )
    #: A gap of at least this much (either way) is flagged for investigation before applying.
    big_gap = quantity_field(
        _("big gap from"),
        default=default_big_gap,
        validators=[MinValueValidator(0)],
        help_text=_("Gaps of this size or more are flagged so they can be checked first."),
    )
    note = models.TextField(_("note"), blank=True)
    #: When the expected quantities were read: the start of the session.
    created_at = models.DateTimeField(_("started"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    applied_at = models.DateTimeField(_("applied"), null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applied by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    #: The ledger operation of the corrections written when the session was applied.
    operation = models.UUIDField(_("operation"), null=True, blank=True, editable=False)

    objects = CountSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("count session")
        verbose_name_plural = _("count sessions")
        constraints = [
            models.CheckConstraint(
                condition=~Q(scope="category") | Q(category__isnull=False),
                name="inventory_count_category_scope_has_category",
            ),
        ]

    def __str__(self):
        return f"{self.reference} ({self.warehouse.code})"

    def get_absolute_url(self):
        return reverse("inventory:count_detail", kwargs={"pk": self.pk})

    @property
    def reference(self) -> str:
        """The reference of the session's corrections in the ledger."""
        return f"COUNT-{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status == CountStatus.OPEN


class CountLine(models.Model):
    session = models.ForeignKey(
        CountSession,
        verbose_name=_("count session"),
        on_delete=models.CASCADE,
        related_name="lines",
    )
    variant = models.ForeignKey(
        Variant, verbose_name=_("variant"), on_delete=models.PROTECT, related_name="+"
    )
    #: On hand when the line was snapshotted.
    expected = quantity_field(_("expected"))
    #: Empty until counted.
    counted = quantity_field(_("counted quantity"), null=True, blank=True)
    counted_at = models.DateTimeField(_("counted at"), null=True, blank=True)
    #: Found during the count (not on the count sheet at the start).
    added = models.BooleanField(_("added during the count"), default=False)
    #: On hand at application minus expected: what moved since the snapshot (set when applied).
    moved = quantity_field(_("moved since the snapshot"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("count line")
        verbose_name_plural = _("count lines")
        constraints = [
            models.UniqueConstraint(fields=["session", "variant"], name="inventory_cl_unique"),
            models.CheckConstraint(
                condition=Q(counted__isnull=True) | Q(counted__gte=0),
                name="inventory_cl_counted_gte_0",
            ),
        ]
        # Lines are snapshotted in SKU order, so the count sheet pages through this index.
        indexes = [models.Index(fields=["session", "id"], name="inventory_cl_session_id")]

    def __str__(self):
        return f"{self.variant_id}: {self.counted} / {self.expected}"

    @property
    def gap(self):
        """Counted minus expected (None while not counted): the correction the count makes."""
        return None if self.counted is None else self.counted - self.expected
