"""Validation of what enterprises type: the USCC (统一社会信用代码) and mobile numbers.

Both normalise first (full-width characters, case, spaces, hyphens) so that a
code pasted from a Word document or typed with a Chinese input method is
accepted, then say precisely what is wrong when it is not.
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum import exceptions as stdnum_errors
from stdnum.cn import uscc as stdnum_uscc

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015: no I, O, S, V, Z


def _halfwidth(value: str) -> str:
    # NFKC maps full-width letters and digits (ＡＢＣ１２３) to ASCII, and the ideographic space to a space.
    return unicodedata.normalize("NFKC", value or "")


def normalize_uscc(value: str) -> str:
    return re.sub(r"[\s\-]", "", _halfwidth(value)).upper()


def validate_uscc(value: str) -> str:
    """Return the normalised code, or raise ValidationError saying what is wrong with it."""
    code = normalize_uscc(value)
    if not code:
        raise ValidationError(_("Enter the unified social credit code."), code="required")
    if len(code) != 18:
        raise ValidationError(
            _("A unified social credit code has 18 characters; this one has %(n)d.") % {"n": len(code)},
            code="length",
        )
    for position, char in enumerate(code, start=1):
        if char not in USCC_ALPHABET:
            raise ValidationError(
                _(
                    "Character %(position)d (“%(char)s”) cannot appear in a unified social credit code: "
                    "codes use digits and capital letters except I, O, S, V and Z."
                )
                % {"position": position, "char": char},
                code="alphabet",
            )
    if not code[2:8].isdigit():
        raise ValidationError(
            _(
                "Characters 3 to 8 of a unified social credit code are the administrative division code "
                "and must be digits."
            ),
            code="region",
        )
    try:
        return stdnum_uscc.validate(code)
    except stdnum_errors.InvalidChecksum:
        raise ValidationError(
            _(
                "The check character (the 18th) does not match the first 17 characters: please check the code "
                "for a typing error."
            ),
            code="checksum",
        ) from None
    except stdnum_errors.ValidationError:
        # python-stdnum also requires the first two characters to be digits.
        raise ValidationError(
            _("This is not a valid unified social credit code for an enterprise."), code="invalid"
        ) from None


def normalize_mobile(value: str) -> str:
    phone = re.sub(r"[\s\-()]", "", _halfwidth(value))
    if phone.startswith("+86"):
        phone = phone[3:]
    elif phone.startswith("0086"):
        phone = phone[4:]
    return phone


def validate_mobile(value: str) -> str:
    phone = normalize_mobile(value)
    if not re.fullmatch(r"1[3-9]\d{9}", phone):
        raise ValidationError(
            _("Enter a mainland mobile number of 11 digits starting with 1, for example 13800000000."),
            code="mobile",
        )
    return phone
