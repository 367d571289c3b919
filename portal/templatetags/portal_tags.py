from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def percent(value, digits: int = 1):
    """0.0345 → "3.5%"; None → "—"."""
    if value is None or value == "":
        return "—"
    # number_format cuts extra digits off; round half up first, as people expect of a percentage.
    pct = (Decimal(value) * 100).quantize(Decimal(1).scaleb(-int(digits)), rounding=ROUND_HALF_UP)
    return f"{number_format(pct, decimal_pos=int(digits))}%"


@register.filter
def filesize_kb(value):
    if value is None:
        return "—"
    return f"{number_format(Decimal(value) / 1024, decimal_pos=0, use_l10n=True, force_grouping=True)} KB"
