"""Template filters for the compliance pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def duration(seconds) -> str:
    """Format a response time in seconds as people read it: 45s, 12m, 3h 05m, 2d 4h; a dash for none."""
    if seconds is None or seconds == "":
        return "—"
    seconds = round(float(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    return f"{hours // 24}d {hours % 24}h"


@register.filter
def share(value) -> str:
    """Format a 0–1 share with one decimal (87.5 %); a dash when there is nothing to divide."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.1f} %"
