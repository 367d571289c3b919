#!/usr/bin/env python3
"""Build ``gbt4754_2017.csv`` (GB/T 4754-2017 国民经济行业分类, incl. 第1号修改单) from a saved source copy.

Standalone: standard library only, no Django.  Usage::

    python enterprises/data/build_gbt4754.py SOURCE [--out enterprises/data/gbt4754_2017.csv]

SOURCE is a locally saved copy of the third-party tree (see README.md; do not commit it).  Two layouts
are understood:

* the original ``IndustryData.js`` from ``qwer-of-div/1frontEnd``
  (``example/9组件-指令/components/form/IndustryData.js``): every node carries
  ``"title": "C3484-机械零部件加工"``, so the nodes are read with a regular expression, nesting ignored;
* a plain-text extract with one ``CODE|NAME`` line per node in the same notation (``C3484|机械零部件加工``).

Steps: read nodes -> normalise names (whitespace, half-width brackets) -> apply the documented name
corrections in ``NAME_CORRECTIONS`` -> derive level and parent from the code -> validate the tree and
the per-level counts -> write the CSV (``code,name,level,parent``) in standard order.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "gbt4754_2017.csv"

SECTIONS = "ABCDEFGHIJKLMNOPQRST"
LEVEL_BY_DIGITS = {0: "section", 2: "division", 3: "group", 4: "class"}

# Counts present in every source tree examined (see README.md).  NBS material says 1382 小类 after
# 第1号修改单; no examined source has a 1382nd class and none is invented here.
EXPECTED_COUNTS = {"section": 20, "division": 97, "group": 473, "class": 1381}

# Names where the primary source differs from the GB/T 4754-2017 wording.  Each correction is backed by
# the second full tree (index file 49045935314) plus at least one further independent public file; see
# README.md "Known deviations" for the evidence.
NAME_CORRECTIONS = {
    "C15": ("酒、饮料及精制茶制造业", "酒、饮料和精制茶制造业"),
    "C203": ("木制品制造", "木质制品制造"),
    "C204": ("竹、藤、棕、草制品制造", "竹、藤、棕、草等制品制造"),
    "C339": ("其他金属制品制造", "铸造及其他金属制品制造"),
    "C349": ("其他通用设备制造", "其他通用设备制造业"),
    "C395": ("视听设备制造", "非专业视听设备制造"),
    "L7289": ("其他会议、展览及相关服务", "其他会议、会展及相关服务"),
    "M746": ("环境与生态监测", "环境与生态监测检测服务"),
    "M75": ("科技推广和应用服务", "科技推广和应用服务业"),
    "R87": ("广播、电视、电影和影视录音制作业", "广播、电视、电影和录音制作业"),
    "R905": ("文化娱乐体育活动和经纪代理服务", "文化体育娱乐活动与经纪代理服务"),
}

CODE_RE = re.compile(r"^[A-T](\d{2}|\d{3}|\d{4})?$")
JS_TITLE_RE = re.compile(r'"title"\s*:\s*"([A-T]\d{0,4})-([^"]*)"')


def read_nodes(path: Path) -> list[tuple[str, str]]:
    """Return ``(code, raw_name)`` pairs in source order."""
    text = path.read_text(encoding="utf-8")
    nodes = JS_TITLE_RE.findall(text)
    if nodes:
        return nodes
    pairs = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        code, sep, name = line.partition("|")
        if not sep:
            raise ValueError(f"{path}:{lineno}: expected CODE|NAME, got {line!r}")
        pairs.append((code.strip(), name))
    return pairs


def normalise(name: str) -> str:
    """Drop all whitespace (incl. U+3000) and use full-width brackets, as the standard prints them."""
    name = re.sub(r"[\s\u3000]+", "", name)
    return name.replace("(", "（").replace(")", "）")


def level_of(code: str) -> str:
    return LEVEL_BY_DIGITS[len(code) - 1]


def parent_of(code: str) -> str:
    digits = len(code) - 1
    if digits == 0:
        return ""
    if digits == 2:
        return code[0]
    return code[:-1]


def sort_key(code: str) -> tuple[int, str]:
    # Section first, then the digit string: "01" < "011" < "0111" < "012" gives parent-before-children.
    return (SECTIONS.index(code[0]), code[1:])


def build(nodes: list[tuple[str, str]]) -> list[dict[str, str]]:
    names: dict[str, str] = {}
    for code, raw in nodes:
        if not CODE_RE.match(code):
            raise ValueError(f"malformed code {code!r}")
        name = normalise(raw)
        if not name:
            raise ValueError(f"{code}: empty name")
        if code in names and names[code] != name:
            raise ValueError(f"{code}: conflicting names {names[code]!r} / {name!r}")
        names[code] = name

    for code, (expected, corrected) in NAME_CORRECTIONS.items():
        if names.get(code) != expected:
            raise ValueError(f"correction for {code} expects {expected!r}, source has {names.get(code)!r}")
        names[code] = corrected

    rows = []
    for code in sorted(names, key=sort_key):
        parent = parent_of(code)
        if parent and parent not in names:
            raise ValueError(f"{code}: parent {parent} missing")
        rows.append({"code": code, "name": names[code], "level": level_of(code), "parent": parent})

    counts = Counter(row["level"] for row in rows)
    if dict(counts) != EXPECTED_COUNTS:
        raise ValueError(f"unexpected counts {dict(counts)}, expected {EXPECTED_COUNTS}")
    return rows


def write_csv(rows: list[dict[str, str]], out: Path) -> None:
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["code", "name", "level", "parent"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="saved copy of IndustryData.js, or a CODE|NAME extract")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    rows = build(read_nodes(args.source))
    write_csv(rows, args.out)
    counts = Counter(row["level"] for row in rows)
    print(f"wrote {len(rows)} rows to {args.out}: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
