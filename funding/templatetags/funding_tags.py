"""Money on the funding pages: yuan with thousands separators ("2,000,000.00") and 万元 as the policy
documents write it ("200")."""

from __future__ import annotations

from decimal import Decimal

from django import template

from funding import money

register = template.Library()


@register.filter
def yuan(value) -> str:
    """Decimal("2000000") → "2,000,000.00"; None or "" → "—"."""
    if value is None or value == "":
        return "—"
    if not isinstance(value, (Decimal, int, str)):
        return str(value)
    return money.yuan(value)


@register.filter
def wan(value) -> str:
    """Decimal("2000000") → "200" (万元); None or "" → "—"."""
    if value is None or value == "":
        return "—"
    if not isinstance(value, (Decimal, int, str)):
        return str(value)
    return money.wan(value)
