from django import template

from enterprises.size_class import SizeClass

register = template.Library()


@register.filter
def size_label(value: str) -> str:
    """ "small" → 小型 (in the active language)."""
    try:
        return str(SizeClass(value).label)
    except ValueError:
        return value
