"""Adjustment reasons the merchant adds (theft, expired, samples...), each filed in the ledger
under one of the built-in adjustment reasons."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .movement import ADJUSTMENT_REASONS, MovementReason

LEDGER_REASON_CHOICES = [(str(reason), reason.label) for reason in ADJUSTMENT_REASONS]


class AdjustmentReasonQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class AdjustmentReason(models.Model):
    """A reason offered on the adjustment form besides the built-in ones.

    The movement keeps a built-in reason (``ledger_reason``), so that the journal's filter, the
    losses report, the API and the CSV files keep a fixed list of reasons; the merchant's own
    name is written at the start of the movement's note ("Theft: ...").
    """

    name = models.CharField(_("name"), max_length=60, unique=True)
    #: The built-in reason the movements are filed under (breakage, loss, found...).
    ledger_reason = models.CharField(
        _("filed as"),
        max_length=32,
        choices=LEDGER_REASON_CHOICES,
        default=MovementReason.MANUAL,
        help_text=_("The reason recorded in the ledger, its reports and exports."),
    )
    is_active = models.BooleanField(
        _("offered"), default=True, help_text=_("Untick to stop offering it on the form.")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    objects = AdjustmentReasonQuerySet.as_manager()

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("adjustment reason")
        verbose_name_plural = _("adjustment reasons")

    def __str__(self):
        return self.name

    @property
    def choice_value(self) -> str:
        """The value of this reason in the adjustment form's list."""
        return f"custom-{self.pk}"
