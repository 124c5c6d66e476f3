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
import re
import shutil
import tempfile
from pathlib import Path

from ..chapters import ROOT, SUITES, all_chapters, is_chapter_dir, is_hidden_test, tree_files
from ..runner import UsageError, grade_subprocess, record_fixtures
from . import notebooks, stubgen

GRADER = ROOT / "grader"
WORKFLOWS = Path(__file__).resolve().parent  # this folder: never shipped to students


class ReleaseError(UsageError):
    pass


def copy_tree(src, dst, skip=None):
    """Copy the files under ``src`` to ``dst`` (tool litter left out, and files for which
    ``skip(path)`` is true)."""
    for path in tree_files(src):
        if skip and skip(path):
            continue
        target = dst / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def copy_public_grader(dst, chapters=None):
    """Copy the grader that students get into ``dst``: the engine, the runner, the notebook
    runtime, what the suites share and the suites of ``chapters`` (default: all), without the
    instructor workflows (this folder), the hidden tests and the fixtures (recorded apart)."""
    keep = set(all_chapters() if chapters is None else chapters)

    def skip(path):
        if WORKFLOWS in path.parents or is_hidden_test(path) or path.parent == GRADER / "fixtures":
            return True
        if SUITES not in path.parents:
            return False
        top = path.relative_to(SUITES).parts[0]  # a chapter's folder, or what the suites share
        return is_chapter_dir(top) and top not in keep

    copy_tree(GRADER, Path(dst), skip=skip)


def build(out: Path, *, force=False, log=print):
    out = Path(out).resolve()
    if (
        out == ROOT
        or ROOT in out.parents
        and out.parent == ROOT
        and out.name in ("exercises", "grader")
    ):
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
    copy_tree(ROOT / "exercises", out / "exercises")
    notebooks.write_student_notebooks(out / "notebooks")  # their solution cells stubbed out
    copy_tree(ROOT / "data", out / "data")
    copy_public_grader(out / "grader")
    workflow = out / ".github" / "workflows" / "classroom.yml"
    workflow.parent.mkdir(parents=True)
    shutil.copy2(ROOT / "docs" / "classroom-workflow.yml", workflow)

    log("recording public fixtures from the reference ...")
    record_fixtures(all_chapters(), out / "grader" / "fixtures")
    return out


# ----------------------------------------------------------------------------- checks


def significant_lines(lines):
    """The lines that carry code: stripped, comments and blank lines dropped, runs of spaces
    made one (how a copy of solution code is recognised whatever its indentation)."""
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
        for lineno, lines in stubgen.marked_blocks(path.read_text().splitlines()):
            body = significant_lines(lines)
            if sum(len(x) for x in body) >= 30:
                blocks.append((f"{path.relative_to(ROOT)}:{lineno}", body))
    return blocks


def contains_run(haystack, needle):
    """True when the lines ``needle`` occur, consecutively, in ``haystack``."""
    n = len(needle)
    first = needle[0]
    for i, line in enumerate(haystack):
        if line == first and haystack[i : i + n] == needle:
            return True
    return False


def check_contents(out: Path, secret=None):
    """Problems that make DIR unfit to give to students (empty list when it is fine)."""
    out = Path(out)
    problems = []
    for name in ("solutions", "reference", ".course-secret"):
        if any(p.name == name for p in out.rglob(name)):
            problems.append(f"{name} is in the release")
    if (out / "grader" / WORKFLOWS.name).exists():
        problems.append(f"the instructor workflows (grader/{WORKFLOWS.name}/) are in the release")
    texts = {}
    for path in sorted(out.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(out).as_posix()
        data = path.read_bytes()
        if secret and secret.encode() in data:
            problems.append(f"{rel} contains the course secret")
        if is_hidden_test(path):
            problems.append(f"{rel} is a hidden test")
        try:
            text = data.decode()
        except UnicodeDecodeError:
            continue
        if stubgen.has_markers(text):
            problems.append(f"{rel} contains solution markers")
        if path.suffix == ".py":
            texts[rel] = significant_lines(text.splitlines())
            if rel.startswith("grader/suites/") and re.search(
                r"(@hidden\b|mark\.hidden|= *hidden\b)", text
            ):
                problems.append(f"{rel} contains a hidden test")
    for where, body in solution_blocks():
        for rel, lines in texts.items():
            if contains_run(lines, body):
                problems.append(f"{rel} contains the solution code of {where}")
                break
    return problems


def _grade_in(out, submission, results):
    proc = grade_subprocess([], submission, results=results, cwd=out, timeout=1800)
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
            problems.append(
                f"the stubs score {stubs['score']}/{stubs['max_score']} in the release, expected 0"
            )
        log("grading the solutions, copied into the release, ...")
        copy_tree(ROOT / "solutions", tmp / "solutions")
        full = _grade_in(out, tmp / "solutions", tmp / "full.json")
        if full["score"] != full["max_score"] or full["max_score"] <= 0:
            bad = [t["name"] for t in full["tests"] if t["status"] != "passed"][:5]
            problems.append(
                f"the solutions score {full['score']}/{full['max_score']} in the release: {bad}"
            )
        if full["max_score"] != stubs["max_score"]:
            problems.append("stubs and solutions were graded on different tests")
    return problems
