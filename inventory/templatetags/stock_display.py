"""Template helpers of the inventory pages: relative times with the exact one on hover, and
the rows of the inventory list."""

from datetime import timedelta
from html import escape
from urllib.parse import quote

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from ..display import exact_local_time, quantity_text, time_since

register = template.Library()

#: The status badges: colour and text, so that they read without colour too.
STATUS_BADGES = {
    "out": '<span class="badge badge-out"><span aria-hidden="true">✕</span> Stockout</span>',
    "low": '<span class="badge badge-low"><span aria-hidden="true">▲</span> Low stock</span>',
    "ok": '<span class="badge badge-ok">OK</span>',
}
OK = STATUS_BADGES["ok"]
NEVER = '<span class="muted">never</span>'
NO_THRESHOLD = '<span class="muted" title="No alert threshold: never Low stock">–</span>'
NO_SALES = '<span class="muted" title="No sales in the last 8 weeks">–</span>'


@register.simple_tag
def relative_time(moment, never: str = "never"):
    """``<time datetime="2026-11-21T08:29:00+00:00" title="21 Nov 2026, 08:29 UTC">3 days
    ago</time>``: how long ago, at a glance, and the exact moment on hover."""
    if moment is None:
        return format_html('<span class="muted">{}</span>', never)
    return mark_safe(_time_html(moment, timezone.now(), timezone.get_current_timezone()))


def _time_html(moment, now, zone) -> str:
    # No escaping needed: ISO times, dates and "3 days ago" hold no markup characters.
    ago = "just now" if now - moment < timedelta(minutes=1) else f"{time_since(moment, now)} ago"
    local = moment.astimezone(zone)
    return f'<time datetime="{local.isoformat()}" title="{exact_local_time(local)}">{ago}</time>'


@register.simple_tag
def status_badge(status: str):
    """The badge of a stock status: Stockout and Low stock in colour and words, OK quiet."""
    return mark_safe(STATUS_BADGES.get(status, OK))


@register.simple_tag
def stock_list_rows(lines, show_cover: bool = False):
    """The ``<tr>`` of each line of the inventory list.

    Built here rather than in a template loop, as the admin builds its changelist rows: the
    table is most of the page, and a template resolving about thirty variables a row made up
    half of its time at 50 rows.
    """
    now, zone = timezone.now(), timezone.get_current_timezone()
    # SKUs are letters, digits and "-_.": the SKU page's address is this prefix and the SKU.
    sku_page = reverse("inventory:sku_detail", kwargs={"sku": "SKU"}).removesuffix("SKU/")
    rows = []
    # The values are plain strings from the database: the standard library's escape is
    # Django's, without its check for safe strings (300 calls a page).
    for line in lines:
        threshold = line.effective_threshold
        cells = [
            f'<tr class="status-{escape(line.status)}">',
            f'<td class="product" data-label="Product">{escape(line.product_name)}',
            f'<span class="variant-name">{escape(line.variant_name)}</span>'
            if line.variant_name
            else "",
            "</td>",
            f'<td class="nowrap" data-label="SKU"><a href="{sku_page}{quote(line.sku)}/">'
            f"<code>{escape(line.sku)}</code></a></td>",
            f'<td data-label="Warehouse"><span title="{escape(line.warehouse_name)}">'
            f"{escape(line.warehouse_code)}</span></td>",
            '<td class="num available" data-label="Available">',
            quantity_text(line.available),
            "</td>",
            f'<td class="num" data-label="Reserved">{quantity_text(line.reserved)}</td>',
            f'<td class="num" data-label="Locked">{quantity_text(line.locked)}</td>',
            f'<td class="num" data-label="Total">{quantity_text(line.on_hand)}</td>',
            f'<td class="num" data-label="Incoming">{quantity_text(line.incoming)}</td>',
            '<td class="num" data-label="Alert threshold">',
            NO_THRESHOLD if threshold is None else quantity_text(threshold),
            "</td>",
            f'<td class="status" data-label="Status">{STATUS_BADGES.get(line.status, OK)}</td>',
        ]
        if show_cover:
            cover = line.days_of_cover
            cells.append(
                '<td class="num" data-label="Days of cover">'
                f"{NO_SALES if cover is None else f'{cover:d} d'}</td>"
            )
        moment = line.last_movement_at
        cells.append(
            '<td class="nowrap" data-label="Last movement">'
            f"{NEVER if moment is None else _time_html(moment, now, zone)}</td></tr>"
        )
        rows.append("".join(cells))
    return mark_safe("\n".join(rows))  # every value above is escaped
