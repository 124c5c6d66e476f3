"""Shared helpers for the course's own tests: build submissions, run the grader."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from grader.chapters import IGNORED_PARTS, IGNORED_SUFFIXES
from grader.runner import grade_subprocess

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
# What copies of course folders leave out: the grader's one set of ignored folders and files.
IGNORE = shutil.ignore_patterns(*IGNORED_PARTS, *(f"*{s}" for s in IGNORED_SUFFIXES))


def copy_solutions(dest: Path) -> Path:
    """A fresh copy of solutions/ to patch into a wrong or malicious submission."""
    shutil.copytree(SOLUTIONS, dest, ignore=IGNORE)
    return dest


def patch(root: Path, rel: str, old: str, new: str, count: int = 1):
    """Replace ``old`` by ``new`` in root/rel; fail loudly if ``old`` is not there ``count`` times."""
    path = root / rel
    text = path.read_text()
    found = text.count(old)
    if found != count:
        raise AssertionError(f"{rel}: expected {count} occurrence(s) of {old!r}, found {found}")
    path.write_text(text.replace(old, new))


def grade(submission, *chapters, extra=(), timeout=600, secret=None, results_dir=None):
    """Run ``python -m grader grade`` in a subprocess, as every tool of the course does (the
    runner's cleaned environment; ``secret``: the course secret it may see); return
    (exit status, results.json, stdout). The results go to a fresh private folder (or
    ``results_dir``, which the caller owns)."""
    folder = Path(results_dir) if results_dir else Path(tempfile.mkdtemp(prefix="grade-results-"))
    results = folder / "results.json"
    proc = grade_subprocess(
        chapters,
        submission,
        results=results,
        options=["--brief", *extra],
        quiet=False,
        cwd=ROOT,
        secret=secret,
        timeout=timeout,
    )
    data = json.loads(results.read_text()) if results.exists() else None
    if not results_dir:
        shutil.rmtree(folder, ignore_errors=True)
    return proc.returncode, data, proc.stdout + proc.stderr


def grade_in_process(submission, package, only=(), isolation="process"):
    """Grade ``package`` of ``submission`` with the grader's engine in this process (the
    student code still runs in its own worker process); return the results.json the command
    line would write. For the many runs of the mutant corpus: they skip starting Python,
    pytest, hypothesis and numpy each time and reuse the suites' imported modules. The
    command line itself is under test elsewhere (tests/test_cli.py, the full-marks tests)."""
    from hypothesis import settings

    from grader.report import gradescope_results
    from grader.runner import run_suites

    profile = settings.get_current_profile_name()
    try:
        records, meta = run_suites(
            [package], Path(submission).resolve(), only=list(only), isolation_level=isolation
        )
    finally:
        settings.load_profile(profile)  # the grading run loads the grader's own profile
    return gradescope_results(records, mode=meta["mode"], isolation=meta["isolation"])


def by_test(results):
    """{test name (without the chapter prefix): [test records]} grouped by base name (before '[')."""
    out = {}
    for t in results["tests"]:
        name = t["name"].split(" ", 1)[1]
        out.setdefault(name.split("[")[0], []).append(t)
    return out


def chapter_score(results, chapter):
    tests = [t for t in results["tests"] if chapter in t["tags"]]
    return sum(t["score"] for t in tests), sum(t["max_score"] for t in tests)
