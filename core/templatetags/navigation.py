"""The main navigation: the pages a user may open, the current one marked."""

from dataclasses import dataclass

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

register = template.Library()


@dataclass(frozen=True)
class NavLink:
    url: str
    label: str
    #: Every permission needed to see the link.
    permissions: tuple[str, ...] = ()
    #: The pages under it (current when the path starts with it); None: the URL itself only.
    section: str | None = None

    def is_current(self, path: str) -> bool:
        return path.startswith(self.section) if self.section else path == self.url


MAIN_NAV = (
    NavLink("/inventory/", "Inventory"),
    NavLink("/orders/", "Orders", ("orders.view_order",), section="/orders/"),
    NavLink(
        "/inventory/at/",
        "Stock at date",
        ("inventory.view_stockline", "inventory.view_movement"),
        section="/inventory/at/",
    ),
    NavLink("/movements/", "Movements", ("inventory.view_movement",), section="/movements/"),
    NavLink(
        "/inventory/receptions/",
        "Receptions",
        ("inventory.receive_stock",),
        section="/inventory/receptions/",
    ),
    NavLink("/inventory/adjust/", "Adjust", ("inventory.adjust_stock",)),
    NavLink(
        "/inventory/transfers/new/",
        "Transfer",
        ("inventory.transfer_stock",),
        section="/inventory/transfers/",
    ),
    NavLink(
        "/inventory/locks/new/", "Locks", ("inventory.lock_stock",), section="/inventory/locks/"
    ),
    NavLink(
        "/inventory/counts/", "Counts", ("inventory.count_stock",), section="/inventory/counts/"
    ),
)
ADMIN = NavLink("/admin/", "Admin")


@register.simple_tag(takes_context=True)
def main_nav(context):
    """The links of the top bar, in one pass over the user's permissions (read once)."""
    request = context["request"]
    user = request.user
    # An active superuser holds every permission (Django's has_perm answers so too).
    granted = None if user.is_active and user.is_superuser else user.get_all_permissions()
    links = [
        link
        for link in MAIN_NAV
        if granted is None or all(permission in granted for permission in link.permissions)
    ]
    if user.is_staff:
        links.append(ADMIN)
    path = request.path
    current = mark_safe(' aria-current="page"')
    return format_html_join(
        "\n",
        '<a href="{}"{}>{}</a>',
        ((link.url, current if link.is_current(path) else "", link.label) for link in links),
    )
