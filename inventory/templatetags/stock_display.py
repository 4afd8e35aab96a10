"""Template helpers of the inventory pages: relative times with the exact one on hover."""

from datetime import timedelta

from django import template
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.timesince import timesince

register = template.Library()

EXACT_FORMAT = "j M Y, H:i T"


@register.simple_tag
def relative_time(moment, never: str = "never"):
    """``<time datetime="2026-11-21T08:29:00+00:00" title="21 Nov 2026, 08:29 UTC">3 days
    ago</time>``: how long ago, at a glance, and the exact moment on hover."""
    if moment is None:
        return format_html('<span class="muted">{}</span>', never)
    now = timezone.now()
    if now - moment < timedelta(minutes=1):
        ago = "just now"
    else:
        ago = f"{timesince(moment, now, depth=1)} ago"
    local = timezone.localtime(moment)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        local.isoformat(),
        formats.date_format(local, EXACT_FORMAT),
        ago,
    )
