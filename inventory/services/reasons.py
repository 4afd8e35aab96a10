"""The adjustment reasons offered to staff: the built-in ones and those the merchant adds.

A merchant's reason is filed in the ledger under its built-in ``ledger_reason`` and named at
the start of the movement's note, so the list of ledger reasons stays fixed for the journal,
its filters, the reports, the API and the CSV files.
"""

from dataclasses import dataclass

from ..models import ADJUSTMENT_REASONS, AdjustmentReason
from .errors import MSG_REASON_REQUIRED, MSG_UNKNOWN_REASON, ReasonRequired

CUSTOM_PREFIX = "custom-"


@dataclass(frozen=True)
class ResolvedReason:
    #: The built-in reason written on the movement.
    ledger_reason: str
    #: The merchant's own name for it, written at the start of the note; "" for a built-in.
    name: str = ""

    def note(self, note: str) -> str:
        return f"{self.name}: {note}" if self.name else note


def adjustment_reason_choices() -> list[tuple[str, str]]:
    """(value, label) pairs for the adjustment form: built-ins first, then the merchant's."""
    choices = [(str(reason), reason.label) for reason in ADJUSTMENT_REASONS]
    for reason in AdjustmentReason.objects.active():
        choices.append(
            (reason.choice_value, f"{reason.name} ({reason.get_ledger_reason_display()})")
        )
    return choices


def adjustment_reason_resolve(value: str) -> ResolvedReason:
    """The reason behind a value of the adjustment form's list; refuses anything else."""
    if not value:
        raise ReasonRequired(MSG_REASON_REQUIRED)
    if value in {str(reason) for reason in ADJUSTMENT_REASONS}:
        return ResolvedReason(ledger_reason=value)
    if value.startswith(CUSTOM_PREFIX) and value[len(CUSTOM_PREFIX) :].isdigit():
        reason = (
            AdjustmentReason.objects.active().filter(pk=int(value[len(CUSTOM_PREFIX) :])).first()
        )
        if reason is not None:
            return ResolvedReason(ledger_reason=reason.ledger_reason, name=reason.name)
    raise ReasonRequired(MSG_UNKNOWN_REASON % {"reason": value}, code="unknown_reason")
