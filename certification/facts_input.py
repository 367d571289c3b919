"""Facts typed by a person or sent by a program (API, `screen` command, calculator): checked before screening.

Names are the vocabulary of design.md; values are checked by type. An unknown name,
a wrong type, an invalid credit code, a negative amount or an unknown industry code
is refused with the field named, in the user's language.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from enterprises.facts import ENUMS, FACT_TYPES
from enterprises.models import Industry
from enterprises.validators import validate_uscc

# Amounts that may legitimately be negative (a loss).
SIGNED = {"net_profit_y1"}


def parse_facts(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationError({"facts": [_("The facts must be an object of name: value pairs.")]})
    errors: dict[str, list[str]] = {}
    facts: dict[str, Any] = {}

    def err(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    for name, raw in data.items():
        kind = FACT_TYPES.get(name)
        if kind is None:
            err(name, _("Unknown fact."))
            continue
        if raw is None or raw == "":
            facts[name] = None
            continue
        try:
            facts[name] = _convert(name, kind, raw)
        except ValidationError as exc:
            for message in exc.messages:
                err(name, message)
    if facts.get("industry_code") and not errors.get("industry_code"):
        code = str(facts["industry_code"]).strip().upper()
        if not Industry.objects.filter(pk=code).exists():
            err("industry_code", _("Unknown GB/T 4754-2017 industry code."))
        facts["industry_code"] = code
    if errors:
        raise ValidationError(errors)
    return facts


def _convert(name: str, kind: str, raw: Any) -> Any:
    if kind in ("money", "ratio"):
        if isinstance(raw, bool):
            raise ValidationError(_("A number is expected."))
        try:
            value = Decimal(str(raw).strip())
        except InvalidOperation:
            raise ValidationError(_("A number is expected.")) from None
        if not value.is_finite():
            raise ValidationError(_("A number is expected."))
        if value < 0 and name not in SIGNED:
            raise ValidationError(_("Cannot be negative."))
        if kind == "ratio" and value > 1:
            raise ValidationError(_("A ratio is a fraction between 0 and 1 (0.035 is 3.5%)."))
        return value
    if kind in ("count", "number"):
        if isinstance(raw, bool):
            raise ValidationError(_("A whole number is expected."))
        try:
            value = Decimal(str(raw).strip())
        except InvalidOperation:
            raise ValidationError(_("A whole number is expected.")) from None
        if not value.is_finite() or value != value.to_integral_value():
            raise ValidationError(_("A whole number is expected."))
        if value < 0:
            raise ValidationError(_("Cannot be negative."))
        return int(value)
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("true", "1", "yes", "是"):
            return True
        if text in ("false", "0", "no", "否"):
            return False
        raise ValidationError(_("Yes or no (true or false) is expected."))
    if kind == "enum":
        if raw not in ENUMS[name]:
            raise ValidationError(_("One of: %(values)s.") % {"values": ", ".join(ENUMS[name])})
        return raw
    if kind == "date":
        try:
            return raw if isinstance(raw, date) else date.fromisoformat(str(raw))
        except ValueError:
            raise ValidationError(_("A date such as 2020-03-15 is expected.")) from None
    if name == "uscc":
        return validate_uscc(str(raw))
    return str(raw)
