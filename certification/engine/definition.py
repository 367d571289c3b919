"""A criteria version's definition: its JSON shape, its validation, and its compiled form.

A definition is plain JSON, stored on the criteria version and frozen once a round
uses it. Shape (every list may be empty; "source" cites the policy text):

    {
      "boundary": "favourable" | "lower_inclusive" | "upper_inclusive",
      "pass_score": 60,                       # optional: no scoring when absent
      "base_conditions": [{"key", "label", "expr", "source"}],     # all must hold
      "groups": [{"key", "label", "min_points", "indicators": [indicator, …]}],
      "direct": [{"key", "label", "expr", "source"}],   # any one: qualified whatever the score
      "exclusions": [{"key", "label", "expr", "source"}],  # any one: excluded
      "library": {"max_missing": 3, "source": "…"},   # optional: the cultivation-library rule
      "notes": "…"
    }

An indicator scores in exactly one of four ways:

    {"key", "label", "source", "max_points",
     "value": "<numeric expr>", "brackets": [{"min": 0.05, "max": null, "points": 20}, …]}
     "cases": [{"when": "<bool expr>", "points": 5, "label": "…"}, …], "default": 0
     "items": [{"when": "<bool expr>", "points": 3, "label": "…"}, …], "cap": 5
     "points_expr": "<numeric expr>"            # capped to [0, max_points]

The boundary convention says, once per version, where a value that sits exactly on
the edge between two brackets falls: "favourable" — into the bracket that scores
more (the policy's "以上/以下均含本数"); "lower_inclusive" — [min, max);
"upper_inclusive" — (min, max].
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from certification.engine.expressions import Expression, ExpressionError
from enterprises.derived import DERIVED_TYPES
from enterprises.facts import FACT_TYPES

KNOWN_FACTS = frozenset(FACT_TYPES) | frozenset(DERIVED_TYPES)
BOUNDARIES = ("favourable", "lower_inclusive", "upper_inclusive")


class CriteriaError(ValueError):
    """A definition that cannot be used; `errors` lists (position, message) pairs."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{where}: {message}" for where, message in errors))


@dataclass
class Condition:
    key: str
    label: str
    source: str
    expr: Expression


@dataclass
class Bracket:
    low: float | None
    high: float | None
    points: int
    label: str


@dataclass
class Indicator:
    key: str
    label: str
    group: str
    source: str
    max_points: int
    value: Expression | None = None
    brackets: list[Bracket] = field(default_factory=list)
    cases: list[tuple[Expression, int, str]] = field(default_factory=list)
    default: int = 0
    items: list[tuple[Expression, int, str]] = field(default_factory=list)
    cap: int | None = None
    points_expr: Expression | None = None


@dataclass
class Group:
    key: str
    label: str
    min_points: int
    max_points: int
    indicators: list[Indicator]


@dataclass
class CompiledCriteria:
    definition_hash: str
    boundary: str
    pass_score: int | None
    base: list[Condition]
    groups: list[Group]
    direct: list[Condition]
    exclusions: list[Condition]
    library_max_missing: int | None
    library_source: str
    variables: frozenset[str]  # every fact any expression reads


def definition_hash(definition: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(definition, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise TypeError("not a number")
    return float(Decimal(str(value)))


def _bracket_label(low: float | None, high: float | None, points: int) -> str:
    """A neutral description; the boundary convention of the version says where edges fall."""
    if low is not None and high is not None:
        return f"{low:g} – {high:g} → {points}"
    if low is not None:
        return f"{low:g} + → {points}"
    if high is not None:
        return f"– {high:g} → {points}"
    return f"any → {points}"


class _Compiler:
    def __init__(self, definition: dict[str, Any]):
        self.definition = definition
        self.errors: list[tuple[str, str]] = []
        self.variables: set[str] = set()

    def error(self, where: str, message: str) -> None:
        self.errors.append((where, message))

    def expr(self, where: str, source: Any) -> Expression | None:
        try:
            compiled = Expression.compile(source, known=KNOWN_FACTS)
        except ExpressionError as exc:
            self.error(where, str(exc))
            return None
        self.variables |= compiled.variables
        return compiled

    def text(self, where: str, obj: dict, name: str, *, required: bool = True) -> str:
        value = obj.get(name, "")
        if required and (not isinstance(value, str) or not value.strip()):
            self.error(f"{where}.{name}", "required")
            return ""
        return value if isinstance(value, str) else ""

    def integer(self, where: str, value: Any, *, minimum: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.error(where, f"must be a whole number ≥ {minimum}")
            return 0
        return value

    def conditions(self, name: str) -> list[Condition]:
        out, keys = [], set()
        items = self.definition.get(name, [])
        if not isinstance(items, list):
            self.error(name, "must be a list")
            return out
        for i, item in enumerate(items):
            where = f"{name}[{i}]"
            if not isinstance(item, dict):
                self.error(where, "must be an object")
                continue
            key = self.text(where, item, "key")
            if key in keys:
                self.error(f"{where}.key", f"duplicate key {key!r}")
            keys.add(key)
            expr = self.expr(f"{where}.expr", item.get("expr"))
            if expr is not None:
                out.append(
                    Condition(key, self.text(where, item, "label"), self.text(where, item, "source"), expr)
                )
        return out

    def brackets(self, where: str, raw: Any, max_points: int) -> list[Bracket]:
        if not isinstance(raw, list) or not raw:
            self.error(where, "must be a non-empty list")
            return []
        out = []
        for i, b in enumerate(raw):
            at = f"{where}[{i}]"
            if not isinstance(b, dict):
                self.error(at, "must be an object")
                continue
            try:
                low, high = _number(b.get("min")), _number(b.get("max"))
            except TypeError:
                self.error(at, "min and max must be numbers or null")
                continue
            if low is not None and high is not None and low >= high:
                self.error(at, f"min {low:g} is not below max {high:g}")
                continue
            points = self.integer(f"{at}.points", b.get("points"))
            if points > max_points:
                self.error(f"{at}.points", f"{points} is more than the indicator's max_points {max_points}")
            out.append(Bracket(low, high, points, b.get("label") or _bracket_label(low, high, points)))
        # Overlap check: sorted by lower edge, each bracket must end where (or before) the next begins.
        ordered = sorted(out, key=lambda b: float("-inf") if b.low is None else b.low)
        for first, second in zip(ordered, ordered[1:], strict=False):
            first_high = float("inf") if first.high is None else first.high
            second_low = float("-inf") if second.low is None else second.low
            if first_high > second_low:
                self.error(where, f"brackets overlap: “{first.label}” and “{second.label}”")
        return out

    def scored_list(self, where: str, raw: Any, max_points: int) -> list[tuple[Expression, int, str]]:
        if not isinstance(raw, list) or not raw:
            self.error(where, "must be a non-empty list")
            return []
        out = []
        for i, c in enumerate(raw):
            at = f"{where}[{i}]"
            if not isinstance(c, dict):
                self.error(at, "must be an object")
                continue
            expr = self.expr(f"{at}.when", c.get("when"))
            points = self.integer(f"{at}.points", c.get("points"))
            if points > max_points:
                self.error(f"{at}.points", f"{points} is more than the indicator's max_points {max_points}")
            if expr is not None:
                out.append((expr, points, c.get("label") or f"{c.get('when')} → {points}"))
        return out

    def indicator(self, where: str, raw: dict, group: str) -> Indicator | None:
        if not isinstance(raw, dict):
            self.error(where, "must be an object")
            return None
        max_points = self.integer(f"{where}.max_points", raw.get("max_points"), minimum=1)
        ind = Indicator(
            key=self.text(where, raw, "key"),
            label=self.text(where, raw, "label"),
            group=group,
            source=self.text(where, raw, "source"),
            max_points=max_points,
        )
        kinds = [k for k in ("brackets", "cases", "items", "points_expr") if k in raw]
        if len(kinds) != 1:
            self.error(where, "needs exactly one of brackets, cases, items, points_expr")
            return ind
        kind = kinds[0]
        if kind == "brackets":
            ind.value = self.expr(f"{where}.value", raw.get("value"))
            ind.brackets = self.brackets(f"{where}.brackets", raw["brackets"], max_points)
        elif kind == "cases":
            ind.cases = self.scored_list(f"{where}.cases", raw["cases"], max_points)
            ind.default = self.integer(f"{where}.default", raw.get("default", 0))
        elif kind == "items":
            ind.items = self.scored_list(f"{where}.items", raw["items"], max_points * 10)
            ind.cap = self.integer(f"{where}.cap", raw.get("cap", max_points), minimum=1)
        else:
            ind.points_expr = self.expr(f"{where}.points_expr", raw["points_expr"])
        return ind

    def groups(self) -> list[Group]:
        raw = self.definition.get("groups", [])
        if not isinstance(raw, list):
            self.error("groups", "must be a list")
            return []
        out, keys = [], set()
        for gi, g in enumerate(raw):
            where = f"groups[{gi}]"
            if not isinstance(g, dict):
                self.error(where, "must be an object")
                continue
            key = self.text(where, g, "key")
            indicators = []
            for ii, ind in enumerate(g.get("indicators", [])):
                compiled = self.indicator(f"{where}.indicators[{ii}]", ind, key)
                if compiled is None:
                    continue
                if compiled.key in keys:
                    self.error(f"{where}.indicators[{ii}].key", f"duplicate key {compiled.key!r}")
                keys.add(compiled.key)
                indicators.append(compiled)
            min_points = self.integer(f"{where}.min_points", g.get("min_points", 0))
            max_points = sum(i.max_points for i in indicators)
            if min_points > max_points:
                self.error(
                    f"{where}.min_points", f"{min_points} is more than the group's {max_points} points"
                )
            out.append(Group(key, self.text(where, g, "label"), min_points, max_points, indicators))
        return out

    def compile(self) -> CompiledCriteria:
        d = self.definition
        if not isinstance(d, dict):
            raise CriteriaError([("definition", "must be a JSON object")])
        unknown = sorted(
            set(d)
            - {
                "boundary",
                "pass_score",
                "base_conditions",
                "groups",
                "direct",
                "exclusions",
                "library",
                "notes",
            }
        )
        for name in unknown:
            self.error(name, "unknown section")
        boundary = d.get("boundary")
        if boundary not in BOUNDARIES:
            self.error("boundary", f"must be one of {', '.join(BOUNDARIES)}")
        base = self.conditions("base_conditions")
        groups = self.groups()
        direct = self.conditions("direct")
        exclusions = self.conditions("exclusions")
        pass_score = d.get("pass_score")
        if pass_score is not None:
            pass_score = self.integer("pass_score", pass_score)
            total = sum(g.max_points for g in groups)
            if pass_score > total:
                self.error("pass_score", f"{pass_score} is more than the {total} points available")
        elif groups:
            self.error("pass_score", "required when there are scored indicators")
        library = d.get("library")
        max_missing, library_source = None, ""
        if library is not None:
            if not isinstance(library, dict):
                self.error("library", "must be an object")
            else:
                max_missing = self.integer("library.max_missing", library.get("max_missing"), minimum=1)
                library_source = self.text("library", library, "source")
        if self.errors:
            raise CriteriaError(self.errors)
        return CompiledCriteria(
            definition_hash=definition_hash(d),
            boundary=boundary,
            pass_score=pass_score,
            base=base,
            groups=groups,
            direct=direct,
            exclusions=exclusions,
            library_max_missing=max_missing,
            library_source=library_source,
            variables=frozenset(self.variables),
        )


def compile_criteria(definition: dict[str, Any]) -> CompiledCriteria:
    """Validate and compile; raises CriteriaError naming every problem with its position."""
    return _Compiler(definition).compile()
