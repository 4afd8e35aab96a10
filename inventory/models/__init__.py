from .movement import (
    ADJUSTMENT_REASONS,
    HoldChange,
    HoldKind,
    LockReason,
    Movement,
    MovementReason,
    MovementType,
)
from .stock_line import ZERO, StockLine, StockStatus, quantity_field, stock_status

__all__ = [
    "ADJUSTMENT_REASONS",
    "ZERO",
    "HoldChange",
    "HoldKind",
    "LockReason",
    "Movement",
    "MovementReason",
    "MovementType",
    "StockLine",
    "StockStatus",
    "quantity_field",
    "stock_status",
]
