"""Build the student repository and prove it leaks nothing.

``python -m grader release --out DIR`` copies what students get (their README, the
noxfile, pyproject.toml, exercises/, data/, the public grader with fixtures recorded
from the reference, a GitHub Classroom workflow), then checks DIR and fails loudly if
it holds solution markers or solution code, reference/ or solutions/, hidden tests,
or the course secret, or if the student commands do not work there: the stubs must
grade to zero and the solutions, copied in, to full marks, in public mode.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from . import stubgen
from .chapters import ROOT

HIDDEN_FILE = re.compile(r"^test_hidden_.*\.py$")
# Instructor tools that the student release does not need (and that quote the markers).
INSTRUCTOR_ONLY = {"stubgen.py", "release.py", "autograde.py", "gradescope.py"}
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".hypothesis")


class ReleaseError(RuntimeError):
    pass


def _copy_tree(src, dst, skip_file=None):
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if any(part in ("__pycache__", ".pytest_cache", ".hypothesis") for part in rel.parts):
            continue
        if path.is_file() and not path.name.endswith(".pyc") and not (skip_file and skip_file(path)):
            target = dst / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def build(out: Path, *, force=False, log=print):
    out = Path(out).resolve()
    if out == ROOT or ROOT in out.parents and out.parent == ROOT and out.name in ("exercises", "grader"):
        raise ReleaseError(f"refusing to build the release into {out}")
    if out.exists() and any(out.iterdir()):
        if not force:
            raise ReleaseError(f"{out} is not empty (use --force to replace it)")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    problems = stubgen.check(ROOT / "solutions", ROOT / "exercises")
    if problems:
        raise ReleaseError("exercises/ is out of date with solutions/: run `nox -s stubs` first")

    shutil.copy2(ROOT / "docs" / "student-README.md", out / "README.md")
    for name in ("noxfile.py", "pyproject.toml", ".gitignore"):
        shutil.copy2(ROOT / name, out / name)
    _copy_tree(ROOT / "exercises", out / "exercises")
    from . import notebook

    notebook.write_student_notebooks(out / "notebooks")  # their solution cells stubbed out
    _copy_tree(ROOT / "data", out / "data")
    _copy_tree(ROOT / "grader", out / "grader",
               skip_file=lambda p: HIDDEN_FILE.match(p.name) or p.parent.name == "fixtures"
               or (p.parent.name == "grader" and p.name in INSTRUCTOR_ONLY))
    workflow = out / ".github" / "workflows" / "grade.yml"
    workflow.parent.mkdir(parents=True)
    shutil.copy2(ROOT / "docs" / "classroom-workflow.yml", workflow)

    log("recording public fixtures from the reference ...")
    from .cli import run_suites
    from .chapters import all_chapters

    records, _ = run_suites(all_chapters(), ROOT / "solutions", mode="record",
                            fixtures_dir=out / "grader" / "fixtures")
    failed = [r for r in records if r["status"] != "passed"]
    if failed:
        names = ", ".join(f"{r['chapter']} {r['test']}" for r in failed[:5])
        raise ReleaseError(f"{len(failed)} test(s) fail on solutions/ ({names}): fix them before releasing")
    return out


# ----------------------------------------------------------------------------- checks


def _significant(lines):
    out = []
    for line in lines:
        text = line.strip()
        if text and not text.startswith("#"):
            out.append(re.sub(r"\s+", " ", text))
    return out


def solution_blocks():
    """The code of every marked block in solutions/, as lists of significant lines."""
    blocks = []
    for path in sorted((ROOT / "solutions").rglob("*.py")):
        lines = path.read_text().splitlines()
        i = 0
        while i < len(lines):
            m = stubgen.MARKER.match(lines[i])
            if m and m.group(2) == "BEGIN":
                j = i + 1
                while j < len(lines) and not stubgen.MARKER.match(lines[j]):
                    j += 1
                body = _significant(lines[i + 1:j])
                if sum(len(x) for x in body) >= 30:
                    blocks.append((f"{path.relative_to(ROOT)}:{i + 1}", body))
                i = j
            i += 1
    return blocks


def _contains_run(haystack, needle):
    n = len(needle)
    first = needle[0]
    for i, line in enumerate(haystack):
        if line == first and haystack[i:i + n] == needle:
            return True
    return False


def check_contents(out: Path, secret=None):
    """Problems that make DIR unfit to give to students (empty list when it is fine)."""
    out = Path(out)
    problems = []
    for name in ("solutions", "reference", ".course-secret"):
        if any(p.name == name for p in out.rglob(name)):
            problems.append(f"{name} is in the release")
    texts = {}
    for path in sorted(out.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(out).as_posix()
        data = path.read_bytes()
        if secret and secret.encode() in data:
            problems.append(f"{rel} contains the course secret")
        if HIDDEN_FILE.match(path.name):
            problems.append(f"{rel} is a hidden test")
        try:
            text = data.decode()
        except UnicodeDecodeError:
            continue
        if stubgen.has_markers(text):
            problems.append(f"{rel} contains solution markers")
        if path.suffix == ".py":
            texts[rel] = _significant(text.splitlines())
            if rel.startswith("grader/suites/") and re.search(r"(@hidden\b|mark\.hidden|= *hidden\b)", text):
                problems.append(f"{rel} contains a hidden test")
    for where, body in solution_blocks():
        for rel, lines in texts.items():
            if _contains_run(lines, body):
                problems.append(f"{rel} contains the solution code of {where}")
                break
    return problems


def _grade_in(out, submission, results):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    proc = subprocess.run(
        [sys.executable, "-m", "grader", "grade", "--submission", str(submission), "--results", str(results),
         "--quiet"], cwd=out, env=env, capture_output=True, text=True, timeout=1800,
    )
    if proc.returncode != 0 or not Path(results).is_file():
        raise ReleaseError(f"grading inside the release failed:\n{proc.stdout}\n{proc.stderr}")
    return json.loads(Path(results).read_text())


def check_works(out: Path, log=print):
    """The student commands work in DIR: stubs grade to zero, solutions to full marks, public mode."""
    out = Path(out)
    problems = []
    with tempfile.TemporaryDirectory(prefix="release-check-") as tmp:
        tmp = Path(tmp)
        log("grading the stubs inside the release ...")
        stubs = _grade_in(out, out / "exercises", tmp / "stubs.json")
        mode = stubs["extra_data"]["mode"]
        if mode != "public":
            problems.append(f"the release grades in {mode} mode, expected public")
        if stubs["score"] != 0 or stubs["max_score"] <= 0:
            problems.append(f"the stubs score {stubs['score']}/{stubs['max_score']} in the release, expected 0")
        log("grading the solutions, copied into the release, ...")
        shutil.copytree(ROOT / "solutions", tmp / "solutions", ignore=IGNORE)
        full = _grade_in(out, tmp / "solutions", tmp / "full.json")
        if full["score"] != full["max_score"] or full["max_score"] <= 0:
            bad = [t["name"] for t in full["tests"] if t["status"] != "passed"][:5]
            problems.append(f"the solutions score {full['score']}/{full['max_score']} in the release: {bad}")
        if full["max_score"] != stubs["max_score"]:
            problems.append("stubs and solutions were graded on different tests")
    return problems
