"""Public-mode fixtures: the reference's values recorded for the student release.

``python -m grader fixtures [CHAPTER ...] [--check]`` grades solutions/ with the reference
and writes, per chapter, the inputs and expected values that public mode reads instead of
calling the reference (grader/fixtures/chNN_name.json); ``--check`` only compares.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from ..oracle import FIXTURES, same_fixtures
from ..runner import UsageError, record_fixtures, reference_available


def stale(packages):
    """The chapters whose recorded fixtures differ from what the reference records now."""
    _require_reference()
    with tempfile.TemporaryDirectory(prefix="fixtures-") as tmp:
        record_fixtures(packages, tmp)
        return [
            p
            for p in packages
            if not same_fixtures(FIXTURES / f"{p}.json", Path(tmp) / f"{p}.json")
        ]


def record(packages):
    """Record the fixtures of ``packages`` and write into grader/fixtures/ only those that
    ``same_fixtures`` calls different from the file there (the test ``stale`` uses), so that
    differences in the last bits never rewrite a file; return the chapters rewritten."""
    _require_reference()
    changed = []
    with tempfile.TemporaryDirectory(prefix="fixtures-") as tmp:
        record_fixtures(packages, tmp)
        FIXTURES.mkdir(exist_ok=True)
        for p in packages:
            fresh = Path(tmp) / f"{p}.json"
            if fresh.is_file() and not same_fixtures(FIXTURES / fresh.name, fresh):
                (FIXTURES / fresh.name).write_bytes(fresh.read_bytes())
                changed.append(p)
    return changed


def _require_reference():
    if not reference_available():
        raise UsageError("fixtures are recorded from the reference/, which is not here")
