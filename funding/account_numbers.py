"""Bank account numbers: normalised when entered, masked wherever they are shown or logged.

The full number appears in one place only: the payment file of an approved batch (and the enterprise's own
entry form). Lists, audit events, notifications and the admin show `mask_account_number()`.
"""

from __future__ import annotations

import re

_BLANKS = re.compile(r"[\s-]+")
_SHAPE = re.compile(
    r"^[0-9]{8,32}$"
)  # PBOC account numbers: digits only; 8 to 32 covers public and card ones


def normalise_account_number(value: str) -> str:
    """Digits only: blanks and dashes people type to group digits are removed."""
    return _BLANKS.sub("", value or "")


def is_account_number(value: str) -> bool:
    return bool(_SHAPE.match(value))


def mask_account_number(value: str) -> str:
    """ "6222 **** **** 1234": the first and last four digits, the middle as groups of stars.

    Numbers of eight digits or fewer show only their last four ("**** 1234"): showing the first four
    too would reveal most of them.
    """
    digits = normalise_account_number(value)
    if not digits:
        return ""
    if len(digits) <= 8:
        return f"**** {digits[-4:]}"
    middle = len(digits) - 8
    groups = max(1, (middle + 3) // 4)
    return " ".join([digits[:4], *(["****"] * groups), digits[-4:]])
