from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

warehouse_code_validator = RegexValidator(
    r"^[A-Za-z0-9_-]{1,20}\Z",
    _("A warehouse code is 1 to 20 letters, digits, hyphens or underscores."),
    code="invalid_warehouse_code",
)


def warehouse_scope(user) -> frozenset[int] | None:
    """The ids of the warehouses ``user`` is limited to, or None when not limited.

    Staff assigned to some warehouses are limited to those; everyone else sees all. Read once
    per user object (``request.user`` lives for one request), however many querysets a page
    scopes with it.
    """
    if user.is_superuser:
        return None
    if not hasattr(user, "_stockroom_warehouse_scope"):
        assigned = frozenset(user.assigned_warehouses.values_list("pk", flat=True))
        user._stockroom_warehouse_scope = assigned or None
    return user._stockroom_warehouse_scope


class WarehouseQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def visible_to(self, user):
        """Warehouses a user may see and change stock in (see ``warehouse_scope``)."""
        scope = warehouse_scope(user)
        return self if scope is None else self.filter(pk__in=scope)


class Warehouse(models.Model):
    #: Short code used in URLs, filters and every CSV ("PAR", "LYON-2").
    code = models.CharField(
        _("code"), max_length=20, unique=True, validators=[warehouse_code_validator]
    )
    name = models.CharField(_("name"), max_length=120)
    address = models.TextField(_("address"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    #: When off (the default) an operation that would make available stock negative fails.
    allow_negative_stock = models.BooleanField(
        _("allow negative stock"),
        default=False,
        help_text=_("Let available stock go below zero (backorders)."),
    )
    #: Staff limited to some warehouses; a user assigned to none is not limited.
    assigned_staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned staff"),
        related_name="assigned_warehouses",
        blank=True,
        help_text=_("Warehouse staff assigned here only see and change these warehouses."),
    )

    objects = WarehouseQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")

    def __str__(self):
        return f"{self.code} – {self.name}"
