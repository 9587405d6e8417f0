"""Template filters that format figures the same way on every page."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.conf import settings

register = template.Library()

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}


@register.filter
def money(value, currency: str | None = None) -> str:
    """Format an amount in whole currency units with thousands separators: $12,500."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(str(value)).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return "—"
    code = (currency or settings.ACCORD_CURRENCY).upper()
    sign = "-" if amount < 0 else ""
    digits = f"{abs(amount):,.0f}"
    symbol = SYMBOLS.get(code)
    return f"{sign}{symbol}{digits}" if symbol else f"{sign}{digits} {code}"


@register.filter
def percent(value) -> str:
    """Format a 0–1 fraction as a whole percentage: 0.25 → 25%."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(str(value)) * 100:.0f}%"


@register.filter
def count(value) -> str:
    """Format a count with thousands separators."""
    return f"{int(value or 0):,}"
