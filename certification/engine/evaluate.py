"""Evaluating compiled criteria against one enterprise's facts.

Verdicts:
- `excluded`  — an exclusion holds (whatever else holds);
- `eligible`  — every base condition holds, and the score passes (total ≥ pass score and
                every group ≥ its sub-minimum) or a direct-qualification alternative holds;
- `library`   — not eligible, but no more elements are missing than the cultivation-library
                rule allows (an "element" is a base condition, or the score-or-direct requirement);
- `ineligible` otherwise.

A fact that is absent never raises: the condition that needs it is unmet with the
reason "missing", the indicator that needs it scores 0 with "missing".
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

import cel

from certification.engine.definition import Bracket, CompiledCriteria, Condition, Indicator, compile_criteria
from enterprises.derived import derived_values
from enterprises.facts import facts_hash


@dataclass
class ConditionResult:
    key: str
    label: str
    kind: str  # base | direct | exclusion
    met: bool | None  # None: could not be decided (missing facts)
    missing: list[str]
    values: dict[str, Any]
    source: str


@dataclass
class IndicatorResult:
    key: str
    label: str
    group: str
    value: Any
    points: int
    max_points: int
    rule: str
    missing: list[str]
    source: str


@dataclass
class GroupResult:
    key: str
    label: str
    points: int
    min_points: int
    max_points: int
    met: bool


@dataclass
class ScreeningResult:
    verdict: str
    score: int | None
    pass_score: int | None
    score_passed: bool | None
    direct_met: bool
    size_class: str
    groups: list[GroupResult]
    conditions: list[ConditionResult]
    indicators: list[IndicatorResult]
    unmet: list[dict[str, Any]]
    library_max_missing: int | None
    missing_elements: int
    facts_hash: str
    definition_hash: str
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Everything, JSON-safe: what a person reads (self-evaluation, API, command)."""
        return _jsonable(asdict(self))

    def as_compact(self) -> dict[str, Any]:
        """What batch screening stores per enterprise: the verdict and its reasons, a few hundred bytes.

        The full explanation is reproducible at any time from the stored facts hash and the frozen version.
        dataclasses.asdict deep-copies every field and costs more than the evaluation itself.
        """
        return {
            "verdict": self.verdict,
            "score": self.score,
            "score_passed": self.score_passed,
            "direct_met": self.direct_met,
            "size_class": self.size_class,
            "groups": [[g.key, g.points, g.met] for g in self.groups],
            "indicators": [[i.key, i.points] for i in self.indicators],
            "unmet": self.unmet,
            "missing_elements": self.missing_elements,
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 6)
    return value


def prepare_facts(facts: dict[str, Any]) -> dict[str, Any]:
    """The facts plus the derived values (growth, ratios, size class): what expressions may read."""
    derived = derived_values(facts, explain=False)
    if derived.get("size_class") == "unknown":
        # An unknown size class is a missing fact for the conditions that read it, not a "not an SME".
        derived["size_class"] = None
    return {**facts, **derived}


def _cel_value(value: Any) -> Any:
    # CEL compares int with double, but arithmetic wants one type: numbers go in as doubles.
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, Decimal, float)):
        return float(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


_NUMERIC = {"money", "ratio", "count", "number"}


@lru_cache(maxsize=256)
def _variable_kinds(variables: frozenset[str]) -> tuple[tuple[str, bool], ...]:
    """(name, is a number) for each variable the criteria read: decided once per criteria, not per enterprise."""
    from enterprises.derived import DERIVED_TYPES
    from enterprises.facts import FACT_TYPES

    kinds = {**FACT_TYPES, **DERIVED_TYPES}
    return tuple((name, kinds.get(name) in _NUMERIC) for name in sorted(variables))


def _context_values(criteria: CompiledCriteria, values: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, numeric in _variable_kinds(criteria.variables):
        value = values.get(name)
        # CEL compares int with double, but arithmetic wants one type: numbers go in as doubles.
        out[name] = float(value) if numeric and value is not None else _cel_value(value)
    return out


@lru_cache(maxsize=256)
def _compiled(definition_json: str) -> CompiledCriteria:
    return compile_criteria(json.loads(definition_json))


def compiled_for(definition: dict[str, Any]) -> CompiledCriteria:
    """Compile once per distinct definition, however many times it is evaluated."""
    return _compiled(json.dumps(definition, sort_keys=True, ensure_ascii=False))


def _condition(c: Condition, kind: str, ctx: cel.Context, values: dict) -> ConditionResult:
    result, missing = c.expr.run(ctx, values)
    met = None if missing else bool(result)
    return ConditionResult(
        key=c.key,
        label=c.label,
        kind=kind,
        met=met,
        missing=missing,
        values={v: values.get(v) for v in sorted(c.expr.variables)},
        source=c.source,
    )


def _pick_bracket(brackets: list[Bracket], value: float, boundary: str) -> Bracket | None:
    candidates = [
        b for b in brackets if (b.low is None or value >= b.low) and (b.high is None or value <= b.high)
    ]
    if len(candidates) <= 1:
        if not candidates:
            return None
        b = candidates[0]
        # A value exactly on an open edge belongs to the neighbour, or to no bracket at a gap.
        if boundary == "lower_inclusive" and b.high is not None and value == b.high:
            return None
        if boundary == "upper_inclusive" and b.low is not None and value == b.low:
            return None
        return b
    if boundary == "favourable":
        return max(candidates, key=lambda b: b.points)
    if boundary == "lower_inclusive":
        return next(b for b in candidates if b.low is not None and value == b.low)
    return next(b for b in candidates if b.high is not None and value == b.high)


def _indicator(ind: Indicator, boundary: str, ctx: cel.Context, values: dict) -> IndicatorResult:
    def result(value, points, rule, missing=()):
        return IndicatorResult(
            ind.key,
            ind.label,
            ind.group,
            value,
            min(max(points, 0), ind.max_points),
            ind.max_points,
            rule,
            list(missing),
            ind.source,
        )

    if ind.value is not None:
        value, missing = ind.value.run(ctx, values)
        if missing or value is None:
            return result(None, 0, "", missing)
        bracket = _pick_bracket(ind.brackets, float(value), boundary)
        return result(value, bracket.points if bracket else 0, bracket.label if bracket else "")
    if ind.cases:
        all_missing: list[str] = []
        for expr, points, label in ind.cases:
            hit, missing = expr.run(ctx, values)
            all_missing += missing
            if hit is True:
                # A higher case that could not be decided is reported: the enterprise may deserve more.
                return result(label, points, label, sorted(set(all_missing)))
        # No case held. If some could not be decided, the points are unknown: say which facts were missing.
        return result(None, ind.default, "", sorted(set(all_missing)))
    if ind.items:
        total, labels, all_missing = 0, [], []
        for expr, points, label in ind.items:
            hit, missing = expr.run(ctx, values)
            all_missing += missing
            if hit is True:
                total += points
                labels.append(label)
        return result(len(labels), min(total, ind.cap or total), "; ".join(labels), sorted(set(all_missing)))
    value, missing = ind.points_expr.run(ctx, values)
    if missing or value is None:
        return result(None, 0, "", missing)
    return result(value, int(value), ind.points_expr.source)


def evaluate(definition: dict[str, Any], facts: dict[str, Any]) -> ScreeningResult:
    """Screen raw facts (design.md vocabulary) against a criteria definition."""
    criteria = compiled_for(definition)
    values = prepare_facts(facts)
    return evaluate_prepared(criteria, values, facts_hash(facts))


def evaluate_prepared(criteria: CompiledCriteria, values: dict[str, Any], hash_: str) -> ScreeningResult:
    # Only the facts the criteria read go into the CEL context: converting the rest costs time for nothing.
    ctx = cel.Context(variables=_context_values(criteria, values))

    exclusions = [_condition(c, "exclusion", ctx, values) for c in criteria.exclusions]
    base = [_condition(c, "base", ctx, values) for c in criteria.base]
    direct = [_condition(c, "direct", ctx, values) for c in criteria.direct]

    indicators: list[IndicatorResult] = []
    groups: list[GroupResult] = []
    for group in criteria.groups:
        scored = [_indicator(ind, criteria.boundary, ctx, values) for ind in group.indicators]
        indicators += scored
        points = sum(i.points for i in scored)
        groups.append(
            GroupResult(
                group.key, group.label, points, group.min_points, group.max_points, points >= group.min_points
            )
        )
    score = sum(g.points for g in groups) if criteria.groups else None
    score_passed = None
    if criteria.pass_score is not None:
        score_passed = score >= criteria.pass_score and all(g.met for g in groups)
    direct_met = any(c.met for c in direct)
    # Without scoring and alternatives, the base conditions alone decide.
    score_or_direct = (
        direct_met or bool(score_passed) or (criteria.pass_score is None and not criteria.direct)
    )

    unmet = [
        {
            "key": c.key,
            "label": c.label,
            "reason": "missing" if c.met is None else "not_met",
            "missing": c.missing,
            "source": c.source,
        }
        for c in base
        if c.met is not True
    ]
    if not score_or_direct:
        unmet.append(
            {
                "key": "score_or_direct",
                "label": "score or direct qualification",
                "reason": "not_met",
                "missing": [],
                "source": "",
            }
        )
    missing_elements = len(unmet)
    if any(c.met for c in exclusions):
        verdict = "excluded"
    elif missing_elements == 0:
        verdict = "eligible"
    elif criteria.library_max_missing is not None and missing_elements <= criteria.library_max_missing:
        verdict = "library"
    else:
        verdict = "ineligible"

    return ScreeningResult(
        verdict=verdict,
        score=score,
        pass_score=criteria.pass_score,
        score_passed=score_passed,
        direct_met=direct_met,
        size_class=str(values.get("size_class") or "unknown"),
        groups=groups,
        conditions=[*base, *direct, *exclusions],
        indicators=indicators,
        unmet=unmet,
        library_max_missing=criteria.library_max_missing,
        missing_elements=missing_elements,
        facts_hash=hash_,
        definition_hash=criteria.definition_hash,
    )
