"""Every operation that changes stock. Views, forms, admin actions, imports and the API call
these; nothing else writes a stock quantity or a ledger row."""

from .errors import (
    InsufficientStock,
    InvalidOperation,
    InvalidQuantity,
    ReasonRequired,
    Shortfall,
    StockError,
)
from .stock import (
    StockQuantity,
    stock_adjust,
    stock_apply_counts,
    stock_lock,
    stock_receive,
    stock_release,
    stock_reserve,
    stock_restock_return,
    stock_set_counted,
    stock_ship,
    stock_transfer,
    stock_unlock,
)

__all__ = [
    "InsufficientStock",
    "InvalidOperation",
    "InvalidQuantity",
    "ReasonRequired",
    "Shortfall",
    "StockError",
    "StockQuantity",
    "stock_adjust",
    "stock_apply_counts",
    "stock_lock",
    "stock_receive",
    "stock_release",
    "stock_reserve",
    "stock_restock_return",
    "stock_set_counted",
    "stock_ship",
    "stock_transfer",
    "stock_unlock",
]
