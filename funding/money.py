"""Money in the funding app: `Decimal` yuan with two places, rounded 四舍五入 (ROUND_HALF_UP), never a float.

Award amounts, budgets, ledger entries and payment lines are in yuan (元) with fen (分), because the
payment file the bank reads carries fen; the policy documents quote 万元 (seed 003: "200万元"), which
`wan()` shows. Enterprise facts elsewhere in the portal are in 万元 (design.md); they never meet these.

A float is refused wherever money enters (`money()`, and `MoneyField` on save and in lookups): 0.1 + 0.2
is not 0.3 in binary floating point, and a government ledger must add up to the fen.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_DIGITS = 14  # up to 999,999,999,999.99 yuan: more than any provincial award budget


class MoneyIsNotAFloat(TypeError):
    """Raised when a float reaches money: a programming error, never a user's mistake."""


def money(value: Decimal | int | str) -> Decimal:
    """`value` as yuan with two places, rounded half up (四舍五入): money(Decimal("1.005")) == Decimal("1.01").

    Accepts a Decimal, an int or a numeric string ("2,000,000.00" and surrounding blanks allowed).
    Refuses a float (MoneyIsNotAFloat) and a bool (TypeError); raises ValidationError for text that is
    not a finite number.
    """
    if isinstance(value, float):
        raise MoneyIsNotAFloat(f"money must not be a float: {value!r} (use Decimal or a string)")
    if isinstance(value, bool):
        raise TypeError("money must not be a bool")
    if isinstance(value, int):
        value = Decimal(value)
    elif isinstance(value, str):
        try:
            value = Decimal(value.strip().replace(",", ""))
        except InvalidOperation:
            raise ValidationError(_("Enter an amount in yuan, e.g. 500000.00.")) from None
    elif not isinstance(value, Decimal):
        raise TypeError(f"money must be a Decimal, an int or a string, not {type(value).__name__}")
    if not value.is_finite():
        raise ValidationError(_("Enter an amount in yuan, e.g. 500000.00."))
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def yuan(value: Decimal) -> str:
    """ "2,000,000.00": yuan with thousands separators, as the payment file and the pages show it."""
    return f"{money(value):,.2f}"


def wan(value: Decimal) -> str:
    """ "200" or "12.5": the amount in 万元 as the policy documents write it (trailing zeros dropped)."""
    amount = (money(value) / Decimal(10000)).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
    text = f"{amount:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


class MoneyField(models.DecimalField):
    """A DecimalField of yuan (14 digits, 2 places) that refuses floats on save and in lookups."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", MAX_DIGITS)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        if isinstance(value, float):
            raise MoneyIsNotAFloat(f"{self.name}: money must not be a float: {value!r}")
        return super().to_python(value)

    def get_prep_value(self, value):
        if isinstance(value, float):
            raise MoneyIsNotAFloat(f"{self.name}: money must not be a float: {value!r}")
        return super().get_prep_value(value)
