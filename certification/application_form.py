"""The parts of an application the enterprise writes for it (the rest comes from its profile).

One description serves the page, the API and the submission check, so the three
never disagree on what a field is called, what it takes and whether it is required.
Basic information, figures and IP are read from the enterprise's profile (prefilled
and frozen into the snapshot on submission); these sections are the application's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Field:
    name: str
    label: Any
    kind: str = "text"  # text | textarea | decimal | choice | bool
    required: bool = True
    max_length: int = 500
    choices: tuple[tuple[str, Any], ...] = ()
    help: Any = ""
    minimum: Decimal | None = None
    maximum: Decimal | None = None


@dataclass(frozen=True)
class Section:
    code: str
    title: Any
    fields: tuple[Field, ...] = field(default_factory=tuple)


RD_INSTITUTION_LEVELS = (
    ("none", _("none")),
    ("enterprise", _("the enterprise's own R&D department")),
    ("county", _("county or city level")),
    ("prefecture", _("prefecture level")),
    ("provincial", _("provincial level")),
    ("national", _("national level")),
)

# The declaration every applicant signs (诚信承诺 / 真实性声明).
DECLARATION = _(
    "We declare that everything in this application and its attachments is true, accurate and complete. "
    "We accept that false information leads to rejection, revocation of any certification obtained with it, "
    "recovery of any award paid, and entry into the credit record."
)

SECTIONS: tuple[Section, ...] = (
    Section(
        "products",
        _("Main products and market"),
        (
            Field("main_product", _("main product (主导产品)"), max_length=200),
            Field("niche_market", _("niche market"), max_length=200, help=_("The market segment you serve.")),
            Field(
                "market_share",
                _("market share in the niche (%)"),
                kind="decimal",
                minimum=Decimal("0"),
                maximum=Decimal("100"),
            ),
            Field("market_rank", _("rank in the niche market"), required=False, max_length=60),
            Field(
                "main_customers",
                _("main customers"),
                kind="textarea",
                max_length=1000,
                help=_("Name the most important customers and what you supply to them."),
            ),
        ),
    ),
    Section(
        "innovation",
        _("Innovation"),
        (
            Field("rd_institution", _("R&D institution"), kind="choice", choices=RD_INSTITUTION_LEVELS),
            Field("rd_institution_name", _("name of the R&D institution"), required=False, max_length=200),
            Field(
                "standards",
                _("standards led or drafted"),
                kind="textarea",
                required=False,
                max_length=1000,
                help=_("National, industry, local or group standards, with their numbers."),
            ),
            Field(
                "achievements",
                _("technology achievements"),
                kind="textarea",
                required=False,
                max_length=2000,
            ),
        ),
    ),
    Section(
        "commitment",
        _("Integrity commitment"),
        (
            Field("signer_name", _("name of the signer"), max_length=60),
            Field("signer_position", _("position of the signer"), max_length=60),
            Field("agreed", _("we make this declaration"), kind="bool", help=DECLARATION),
        ),
    ),
)

SECTION_BY_CODE = {s.code: s for s in SECTIONS}


def field_id(section: str, name: str) -> str:
    """The HTML id of a field: a problem links to `#<id>`."""
    return f"f-{section}-{name}"


def clean_value(f: Field, raw: Any) -> tuple[Any, str | None]:
    """(value to store, error message or None). Drafts keep what was typed even when it is wrong."""
    if f.kind == "bool":
        return (raw in (True, "true", "on", "1", 1)), None
    text = "" if raw is None else str(raw).strip()
    if f.kind == "decimal":
        if text == "":
            return "", None
        if len(text) > 40:
            return text[:40], str(_("Enter a number."))
        try:
            number = Decimal(text.replace("％", "").replace("%", ""))
        except InvalidOperation:
            return text, str(_("Enter a number."))
        if not number.is_finite():
            return text, str(_("Enter a number."))
        if f.minimum is not None and number < f.minimum:
            return text, str(_("Enter a number of at least %(min)s.") % {"min": f.minimum})
        if f.maximum is not None and number > f.maximum:
            return text, str(_("Enter a number of at most %(max)s.") % {"max": f.maximum})
        return str(number), None
    if len(text) > f.max_length:
        # Kept as typed (bounded), so nothing is lost; submission refuses it until it is shortened.
        return text[: f.max_length * 4], str(
            _("At most %(n)d characters; you entered %(m)d.") % {"n": f.max_length, "m": len(text)}
        )
    if f.kind == "choice" and text and text not in {c for c, _label in f.choices}:
        return "", str(_("Choose one of the listed options."))
    return text, None


def clean_sections(data: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Keep the known sections and fields of `data`; return (cleaned, {"section.field": error})."""
    cleaned: dict[str, dict[str, Any]] = {}
    errors: dict[str, str] = {}
    for code, values in (data or {}).items():
        section = SECTION_BY_CODE.get(code)
        if section is None or not isinstance(values, dict):
            continue
        out = {}
        for f in section.fields:
            if f.name in values:
                value, error = clean_value(f, values[f.name])
                out[f.name] = value
                if error:
                    errors[f"{code}.{f.name}"] = error
        cleaned[code] = out
    return cleaned, errors


def missing_required(data: dict[str, Any]) -> list[tuple[Section, Field]]:
    missing = []
    for section in SECTIONS:
        values = data.get(section.code) or {}
        for f in section.fields:
            if not f.required:
                continue
            value = values.get(f.name)
            if (
                f.kind == "bool"
                and value is not True
                or f.kind != "bool"
                and (value is None or str(value).strip() == "")
            ):
                missing.append((section, f))
    return missing


def default_attachment_slots(tier: str) -> list[dict[str, Any]]:
    """What an application attaches when a programme does not say otherwise (domain.md §1: 申报材料)."""
    slots = [
        {
            "code": "licence",
            "label": "营业执照",
            "doc_types": ["business_licence"],
            "required": True,
        },
        {
            "code": "financials",
            "label": "近三年财务报表或审计报告",
            "doc_types": ["audit_report", "financial_statement"],
            "required": True,
        },
        {
            "code": "ip",
            "label": "知识产权证明",
            "doc_types": ["ip_certificate"],
            "required": tier != "innovative",
        },
        {
            "code": "tax",
            "label": "纳税证明",
            "doc_types": ["tax_proof"],
            "required": False,
        },
        {
            "code": "other",
            "label": "其他证明材料（资质、荣誉、标准等）",
            "doc_types": ["qualification", "social_insurance", "other"],
            "required": False,
        },
    ]
    return slots


def default_expert_indicators(tier: str) -> list[dict[str, Any]]:
    """What experts judge: the parts of the criteria that need judgement rather than arithmetic."""
    if tier == "innovative":
        return []
    return [
        {"code": "specialisation", "label": "专业化：主导产品与细分市场", "max": 25},
        {"code": "refinement", "label": "精细化：管理、质量与数字化", "max": 25},
        {"code": "distinctiveness", "label": "特色化：特色产品与品牌", "max": 20},
        {"code": "innovation", "label": "创新能力：研发投入、知识产权与标准", "max": 30},
    ]
