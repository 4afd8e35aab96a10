from .counts import CountLine, CountScope, CountSession, CountStatus
from .movement import (
    ADJUSTMENT_REASONS,
    HoldChange,
    HoldKind,
    LockReason,
    Movement,
    MovementReason,
    MovementType,
)
from .reasons import AdjustmentReason
from .receptions import (
    ExpectedReception,
    ExpectedReceptionLine,
    ExpectedReceptionStatus,
    Reception,
    ReceptionLine,
)
from .stock_line import ZERO, StockLine, StockStatus, quantity_field, stock_status

__all__ = [
    "ADJUSTMENT_REASONS",
    "ZERO",
    "AdjustmentReason",
    "CountLine",
    "CountScope",
    "CountSession",
    "CountStatus",
    "ExpectedReception",
    "ExpectedReceptionLine",
    "ExpectedReceptionStatus",
    "HoldChange",
    "HoldKind",
    "LockReason",
    "Movement",
    "MovementReason",
    "MovementType",
    "Reception",
    "ReceptionLine",
    "StockLine",
    "StockStatus",
    "quantity_field",
    "stock_status",
]
