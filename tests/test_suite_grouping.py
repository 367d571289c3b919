"""The suite's own set-up under pytest-xdist (tests/conftest.py): every module with module-scoped fixtures is kept
on one worker, so that its fixtures are built once."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import _MODULE_GROUPS

ROOT = Path(__file__).resolve().parent.parent


def test_every_module_with_module_scoped_fixtures_is_kept_on_one_worker():
    scoped = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "tests").rglob("test_*.py")
        if re.search(r"fixture\(scope=[\"']module[\"']", path.read_text())
    }
    assert scoped, "the scan found no module-scoped fixture: the pattern is out of date"
    assert scoped <= _MODULE_GROUPS, (
        f"add to tests/conftest.py _MODULE_GROUPS: {sorted(scoped - _MODULE_GROUPS)}"
    )
