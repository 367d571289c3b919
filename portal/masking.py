"""Masking personal data where it is shown to more people than need it (reliability.md P3, L3).

PIPL Art. 28 counts financial accounts and identity numbers as sensitive personal information, and
Art. 51 asks for de-identification where the full value is not needed. The rule in the portal:

- lists an official pages through, every Excel export, log lines and audit events carry the masked
  form: 138****1234 (mobile), 110***********1234 (ID number), ****1234 (bank account);
- the full value is shown only to the person it belongs to or who entered it (the enterprise's own
  profile and forms), and on the detail page of one enterprise to an official authorised to see that
  enterprise (the official who has to call the contact person opens that page, not a list or a file).

`mask_text` finds the three kinds inside free text (a log line, an audit summary) by shape; the
`mask_*` functions mask one value whose kind is known. `PersonalDataFilter` is the logging filter the
LOGGING setting installs on every handler.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from stdnum.cn import uscc as stdnum_uscc

# Boundaries: a digit run inside a longer token (a SHA-256, a UUID, a credit code) is not a match.
_EDGE_L = r"(?<![0-9A-Za-z])"
_EDGE_R = r"(?![0-9A-Za-z])"
# Mainland mobile numbers (11 digits starting 13–19), optionally +86 / 86 in front.
_MOBILE = re.compile(_EDGE_L + r"((?:\+?86[- ]?)?)(1[3-9]\d)(\d{4})(\d{4})" + _EDGE_R)
# Resident identity numbers (GB 11643-1999): 6-digit region, birth date 19xx/20xx, sequence, check digit.
_ID_NUMBER = re.compile(
    _EDGE_L + r"(\d{3})(\d{3}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx])" + _EDGE_R
)
# Bank card and account numbers as people write them: 12–32 digits, maybe grouped by blanks or dashes.
_ACCOUNT = re.compile(_EDGE_L + r"\d{4}(?:[ -]?\d{2,4}){2,7}" + _EDGE_R)


def mask_phone(value: str | None) -> str:
    """13812341234 → 138****1234. Other numbers keep at most their last four digits."""
    text = (value or "").strip()
    digits = re.sub(r"\D", "", text)
    if not digits:
        return ""
    if len(digits) >= 11 and digits[-11] == "1":
        local = digits[-11:]
        return f"{local[:3]}****{local[-4:]}"
    if len(digits) <= 4:
        return "*" * len(digits)
    return "*" * (len(digits) - 4) + digits[-4:]


def mask_id_number(value: str | None) -> str:
    """110101199001011234 → 110***********1234: the region's first three and the last four."""
    text = (value or "").strip()
    if len(text) <= 7:
        return "*" * len(text)
    return text[:3] + "*" * (len(text) - 7) + text[-4:]


def mask_account_number(value: str | None) -> str:
    """6222021234567890123 → ****0123: only the last four digits."""
    digits = re.sub(r"\D", "", value or "")
    if not digits:
        return ""
    return "****" + digits[-4:]


def mask_text(text: str) -> str:
    """Free text with every mobile, ID and account number in it masked (they are found by shape)."""
    if not text:
        return text
    text = _ID_NUMBER.sub(lambda m: mask_id_number(m.group(1) + m.group(2)), text)
    text = _MOBILE.sub(lambda m: f"{m.group(1)}{m.group(2)}****{m.group(4)}", text)

    def account(match: re.Match) -> str:
        digits = re.sub(r"\D", "", match.group())
        # A unified social credit code may be all digits: it names an enterprise and stays readable.
        if len(digits) < 12 or (len(digits) == 18 and stdnum_uscc.is_valid(digits)):
            return match.group()
        return mask_account_number(digits)

    return _ACCOUNT.sub(account, text)


# Model fields holding personal data (the registry of reliability.md P5 starts here) and their masks.
PERSONAL_FIELDS: dict[str, Callable[[str | None], str]] = {
    "phone": mask_phone,
    "contact_phone": mask_phone,
    "filer_phone": mask_phone,
    "mobile": mask_phone,
    "id_number": mask_id_number,
    "account_number": mask_account_number,
}


def _mask_value(name: str, value: Any) -> Any:
    masker = PERSONAL_FIELDS.get(name)
    if isinstance(value, list | tuple):
        return [_mask_value(name, v) for v in value]
    if value is None:
        return None
    if masker is not None:
        return masker(str(value))
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return mask_changes(value)
    return value


def mask_changes(changes: dict[str, Any] | None) -> dict[str, Any]:
    """An audit event's {field: [old, new]} with personal fields masked (reliability.md L3)."""
    return {key: _mask_value(key, value) for key, value in (changes or {}).items()}


class PersonalDataFilter(logging.Filter):
    """Masks mobile, ID and account numbers in every log record that passes (reliability.md L3).

    The message is formatted here once (msg % args) and the masked text replaces it, so no handler or
    formatter sees the raw arguments. Exception tracebacks are masked too: a failing query's parameters
    would otherwise print the values.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is logging's to report, not ours
            return True
        masked = mask_text(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        return True
