"""The criteria versions we ship, as files, and which tenant gets which.

Each file in `certification/criteria/` is one version of one program. It is either
self-contained:

    {"program": {"code", "name", "tier", "owner"},
     "version": {"label", "effective_from", "effective_to", "pending_confirmation", "source"},
     "definition": {…the engine's definition shape (certification.engine.definition)…}}

or an overlay on another file (a province's additions to the national rules):

    {"program": {…}, "version": {…},
     "extends": "<file stem of the base>",
     "add": {"base_conditions": [...], "exclusions": [...], "direct": [...]},
     "replace_indicators": {"<indicator key>": {…indicator…}},   # optional
     "library": {"max_missing": 3, "source": "…"},               # optional
     "notes": "…"}                                                # optional, appended to the base's notes

Resolving an overlay deep-copies the base's (resolved) definition, so the result is
self-contained and changing it never changes the base. An added item whose key is
already in that section replaces the base's item in place: a province restating a
national condition in its own words and with its own citation (Guizhou's three
"不得被推荐" cases restate the national exclusions), rather than a second copy that would
list the same reason twice. Every other added item is appended.

`owner` is "province" for the national programs (the tenant's own province runs them)
or a GB/T 2260 region code for programs a particular region owns.

Pure Python: no models, no database. Seeding a tenant's programs from `catalog()` is
the caller's business.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, TypedDict

CRITERIA_DIR = Path(__file__).resolve().parent / "criteria"

# tenant code → the file stems it gets. Where a province has its own version of a tier
# (Guizhou's and Tibet's 专精特新), it replaces the national one instead of sitting beside it.
TENANT_PROGRAMS: dict[str, list[str]] = {
    "gz": [
        "national_2022_innovative",
        "gz_2022_srdi",
        "gz_2026_srdi",
        "national_2022_little_giant",
        "national_2026_little_giant",
    ],
    "xz": [
        "national_2022_innovative",
        "xz_2022_srdi",
        "xz_2026_srdi",
        "national_2022_little_giant",
        "national_2026_little_giant",
        "lhasa_2022_srdi",
        "lhasa_2026_srdi",
    ],
    "xj": [
        "national_2022_innovative",
        "national_2022_srdi",
        "national_2026_srdi",
        "national_2022_little_giant",
        "national_2026_little_giant",
        "bortala_2023_library",
        "bortala_2026_library",
    ],
}

PROGRAM_FIELDS = ("code", "name", "tier", "owner")
TIERS = ("innovative", "srdi", "little_giant", "other")
OVERLAY_SECTIONS = ("base_conditions", "exclusions", "direct")


class CatalogError(ValueError):
    """A criteria file that cannot be used as it is."""


class VersionSpec(TypedDict):
    label: str
    effective_from: date
    effective_to: date | None
    pending_confirmation: bool
    source: str
    definition: dict[str, Any]


class ProgramSpec(TypedDict):
    code: str
    name: str
    tier: str
    owner: str
    versions: list[VersionSpec]


def shipped_stems() -> list[str]:
    """Every criteria file we ship, by stem."""
    return sorted(path.stem for path in CRITERIA_DIR.glob("*.json"))


@cache
def _read(stem: str) -> dict[str, Any]:
    path = CRITERIA_DIR / f"{stem}.json"
    if not path.is_file():
        raise CatalogError(f"no criteria file {stem!r} in {CRITERIA_DIR}")
    return json.loads(path.read_text(encoding="utf-8"))


def load_spec(stem: str) -> dict[str, Any]:
    """One file as {"program", "version", "definition"}, overlays resolved; a fresh copy every call."""
    return _resolve(stem, ())


def _resolve(stem: str, seen: tuple[str, ...]) -> dict[str, Any]:
    if stem in seen:
        raise CatalogError(f"overlay cycle: {' → '.join((*seen, stem))}")
    raw = copy.deepcopy(_read(stem))
    for part in ("program", "version"):
        if not isinstance(raw.get(part), dict):
            raise CatalogError(f"{stem}: {part!r} is required")
    base_stem = raw.get("extends")
    if base_stem is None:
        if not isinstance(raw.get("definition"), dict):
            raise CatalogError(f"{stem}: needs a 'definition' or an 'extends'")
        definition = raw["definition"]
    else:
        if "definition" in raw:
            raise CatalogError(f"{stem}: an overlay has no 'definition' of its own")
        definition = _apply_overlay(stem, raw, _resolve(base_stem, (*seen, stem))["definition"])
    return {"program": raw["program"], "version": raw["version"], "definition": definition}


def _apply_overlay(stem: str, raw: dict[str, Any], definition: dict[str, Any]) -> dict[str, Any]:
    unknown = set(raw) - {"program", "version", "extends", "add", "replace_indicators", "library", "notes"}
    if unknown:
        raise CatalogError(f"{stem}: unknown overlay section(s) {sorted(unknown)}")
    add = raw.get("add", {})
    if set(add) - set(OVERLAY_SECTIONS):
        raise CatalogError(f"{stem}: 'add' takes only {', '.join(OVERLAY_SECTIONS)}")
    for section in OVERLAY_SECTIONS:
        if not add.get(section):
            continue
        items = definition.setdefault(section, [])
        for item in add[section]:
            at = next((i for i, existing in enumerate(items) if existing.get("key") == item.get("key")), None)
            if at is None:
                items.append(item)
            else:
                items[at] = item  # the overlay restates the base's condition (see the module docstring)

    replacements = dict(raw.get("replace_indicators", {}))
    for group in definition.get("groups", []):
        group["indicators"] = [replacements.pop(ind["key"], ind) for ind in group.get("indicators", [])]
    if replacements:
        raise CatalogError(f"{stem}: no indicator {sorted(replacements)} in {raw['extends']!r} to replace")

    if "library" in raw:
        definition["library"] = raw["library"]
    if raw.get("notes"):
        definition["notes"] = " ".join(n for n in (definition.get("notes"), raw["notes"]) if n)
    return definition


def _date(stem: str, value: Any) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise CatalogError(f"{stem}: {value!r} is not a YYYY-MM-DD date") from None


def catalog(tenant_code: str) -> list[ProgramSpec]:
    """The programs a tenant gets, each with its versions ordered by effective date.

    Programs come in the order of their first file in TENANT_PROGRAMS; the files of one
    program must agree on its name, tier and owner.
    """
    try:
        stems = TENANT_PROGRAMS[tenant_code]
    except KeyError:
        raise CatalogError(f"no shipped criteria for tenant {tenant_code!r}") from None
    programs: dict[str, ProgramSpec] = {}
    for stem in stems:
        spec = load_spec(stem)
        program, version = spec["program"], spec["version"]
        if program.get("tier") not in TIERS:
            raise CatalogError(f"{stem}: tier must be one of {', '.join(TIERS)}")
        entry = programs.get(program["code"])
        if entry is None:
            entry = programs[program["code"]] = ProgramSpec(
                code=program["code"],
                name=program["name"],
                tier=program["tier"],
                owner=program["owner"],
                versions=[],
            )
        for name in PROGRAM_FIELDS:
            if entry[name] != program[name]:
                raise CatalogError(
                    f"{stem}: program {program['code']!r} has {name} {program[name]!r}, not {entry[name]!r}"
                )
        entry["versions"].append(
            VersionSpec(
                label=version["label"],
                effective_from=_date(stem, version.get("effective_from")),
                effective_to=None
                if version.get("effective_to") is None
                else _date(stem, version["effective_to"]),
                pending_confirmation=bool(version.get("pending_confirmation", False)),
                source=version["source"],
                definition=spec["definition"],
            )
        )
    for entry in programs.values():
        entry["versions"].sort(key=lambda v: v["effective_from"])
    return list(programs.values())
