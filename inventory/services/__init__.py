"""Every operation that changes stock. Views, forms, admin actions, imports and the API call
these; nothing else writes a stock quantity or a ledger row."""

from .adjustments import adjustment_apply
from .counts import (
    CountedQuantity,
    count_record,
    count_record_many,
    count_session_apply,
    count_session_cancel,
    count_session_set_big_gap,
    count_session_start,
)
from .errors import (
    InsufficientStock,
    InvalidOperation,
    InvalidQuantity,
    ReasonRequired,
    Shortfall,
    StockError,
)
from .receptions import (
    OverReception,
    expected_reception_close,
    expected_reception_create,
    reception_receive,
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
    "CountedQuantity",
    "InsufficientStock",
    "InvalidOperation",
    "InvalidQuantity",
    "OverReception",
    "ReasonRequired",
    "Shortfall",
    "StockError",
    "StockQuantity",
    "adjustment_apply",
    "count_record",
    "count_record_many",
    "count_session_apply",
    "count_session_cancel",
    "count_session_set_big_gap",
    "count_session_start",
    "expected_reception_close",
    "expected_reception_create",
    "reception_receive",
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
