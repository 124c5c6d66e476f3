"""The student release's own checks: no answer under another name, no text a student cannot
follow (instructor commands and paths, absolute paths), no litter, only sessions that work."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap

import pytest

from grader.chapters import all_chapters
from grader.workflows import release
from tests.helpers import EXERCISES, ROOT

# A complete IDX reader written differently from chapter 09's solution (the one data/loaders.py
# used to hold): the same header arithmetic under other names.
OTHER_IDX_READER = textwrap.dedent(
    '''
    import gzip
    from pathlib import Path

    import numpy as np


    def load_bytes(where):
        """Read an IDX file (optionally gzipped) of unsigned bytes into an array."""
        where = Path(where)
        opener = gzip.open if where.suffix == ".gz" else open
        with opener(where, "rb") as fh:
            blob = fh.read()
        if len(blob) < 4 or blob[2] != 0x08:
            raise ValueError("not an IDX file")
        dims = blob[3]
        start = 4 + 4 * dims
        sizes = tuple(int.from_bytes(blob[4 + 4 * k : 8 + 4 * k], "big") for k in range(dims))
        return np.frombuffer(blob, dtype=np.uint8, offset=start).reshape(sizes)
    '''
)


def test_the_same_logic_under_other_names_is_found():
    shingles = release.solution_shingles()
    # chapter 09's parse_idx, every name changed, comments and messages reworded
    source = (ROOT / "solutions" / "ch09_mnist" / "idx.py").read_text()
    body = source.split("### BEGIN SOLUTION", 1)[1].split("### END SOLUTION", 1)[0]
    renamed = body
    for old, new in [("raw", "buf"), ("magic", "m"), ("ndim", "k"), ("shape", "dims")]:
        renamed = re.sub(rf"\b{old}\b", new, renamed)
    renamed = renamed.replace("truncated header", "too short")
    copy = "import numpy as np\n\ndef decode(data):\n" + textwrap.indent(
        textwrap.dedent(renamed), "    "
    )
    found = release.same_logic(copy, shingles)
    assert any(where.startswith("solutions/ch09_mnist/idx.py:") for _, where in found), found
    # a reader written independently, with the solution's header arithmetic
    found = release.same_logic(OTHER_IDX_READER, shingles)
    assert any(where.startswith("solutions/ch09_mnist/idx.py:") for _, where in found), found
    # the stubs the release ships hold none of it
    for path in sorted(EXERCISES.rglob("*.py")):
        rel = f"exercises/{path.relative_to(EXERCISES).as_posix()}"
        wrong = [
            (line, where)
            for line, where in release.same_logic(path.read_text(), shingles)
            if (rel, where.split(":")[0]) not in release.ACCEPTED_OVERLAPS
        ]
        assert wrong == [], (rel, wrong)


def test_check_contents_reports_copies_instructor_mentions_absolute_paths_and_litter(tmp_path):
    rel = tmp_path / "rel"
    (rel / "data").mkdir(parents=True)
    (rel / "data" / "readers.py").write_text(OTHER_IDX_READER)
    (rel / "exercises" / "ch01_neurons").mkdir(parents=True)
    (rel / "exercises" / "ch01_neurons" / "README.md").write_text(
        "Run `python -m solutions.ch01_neurons.matmul_lab`, like the table in\n"
        "reference/ch01_neurons, or `.nox/course/bin/python` from /home/alice/course.\n"
    )
    (rel / "README.md").write_text(f"clone into {ROOT}\n")
    (rel / "grader" / ".hypothesis").mkdir(parents=True)
    problems = "\n".join(release.check_contents(rel))
    assert "data/readers.py:" in problems and "logic of the solution at solutions/ch09" in problems
    assert "README.md:1 mentions 'solutions.'" in problems
    assert "README.md:2 mentions 'reference/'" in problems
    assert "contains an absolute path (/home/" in problems
    assert "README.md contains the path of the instructor's repository" in problems
    assert ".hypothesis/ is in the release" in problems
    # paths of the instructor's repository that a text names must ship with the release
    (rel / "exercises" / "ch01_neurons" / "README.md").write_text(
        "See `docs/conventions.md`, `docs/benchmarks.md` and `benchmarks/ch10_lenet.py speed`.\n"
    )
    (rel / "docs").mkdir()
    (rel / "docs" / "conventions.md").write_text("the contract\n")
    problems = "\n".join(release.check_contents(rel))
    assert "names benchmarks/ch10_lenet.py, which is not in the release" in problems
    assert "names docs/benchmarks.md, which is not in the release" in problems
    assert "docs/conventions.md, which" not in problems


def test_stubs_lose_the_instructors_header_in_the_release():
    text = (EXERCISES / "ch04_backprop" / "dense.py").read_text()
    assert text.startswith("# Generated from solutions/ch04_backprop/dense.py")
    student = release.student_stub_text(text, "ch04_backprop/dense.py")
    first, rest = student.split("\n", 1)
    assert first == (
        "# Chapter 04: fill in the TODOs below, then grade the chapter with "
        "`python3 -m nox -s grade-04`."
    )
    assert rest == text.split("\n", 1)[1]
    root = release.student_stub_text((EXERCISES / "__init__.py").read_text(), "__init__.py")
    assert "solutions" not in root and "python3 -m nox -s grade" in root
    compile(root, "__init__.py", "exec")
    plain = (EXERCISES / "ch01_neurons" / "README.md").read_text()
    assert release.student_stub_text(plain, "ch01_neurons/README.md") == plain


def test_nox_in_the_release_lists_only_the_students_sessions(tmp_path):
    folder = tmp_path / "release"
    folder.mkdir()
    for name in ("noxfile.py", "pyproject.toml"):
        shutil.copy2(ROOT / name, folder / name)
    (folder / "grader").mkdir()
    shutil.copy2(ROOT / "grader" / "chapters.py", folder / "grader" / "chapters.py")
    for package in all_chapters():  # the suites' folders tell the chapters
        (folder / "grader" / "suites" / package).mkdir(parents=True)
    proc = subprocess.run(
        [sys.executable, "-m", "nox", "-l"], cwd=folder, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    listed = set(re.findall(r"^[*-] ([\w-]+) ->", proc.stdout, re.M))
    chapters = {f"grade-{p[2:4]}" for p in all_chapters()}
    assert listed == {"grade", "classroom", "run", "lab", "notebooks"} | chapters, listed
    text = proc.stdout.split("Sessions defined in", 1)[0]
    assert "nox -s stubs" not in text and "autograde " not in text.replace("autograde, ", "")


@pytest.mark.slow
def test_the_student_texts_of_this_repository_pass_the_release_text_checks():
    problems = []
    for path in sorted(EXERCISES.rglob("*")):
        if path.is_file() and path.suffix in (".md", ".py") and "__pycache__" not in path.parts:
            rel = path.relative_to(EXERCISES).as_posix()
            text = release.student_stub_text(path.read_text(), rel)
            problems += release.text_problems(f"exercises/{rel}", text)
    for path in [ROOT / "docs" / "student-README.md", ROOT / "data" / "README.md"]:
        name = "README.md" if path.name == "student-README.md" else "data/README.md"
        problems += release.text_problems(name, path.read_text())
    # what the texts name of docs/, benchmarks/ and tests/ is what the release ships of them
    for path in sorted(EXERCISES.rglob("*")) + sorted((ROOT / "notebooks").glob("*.py")):
        if path.is_file() and path.suffix in (".md", ".py") and "__pycache__" not in path.parts:
            for m in release.COURSE_PATH.finditer(path.read_text()):
                shipped = [f"docs/{name}" for name in release.STUDENT_DOCS]
                if m.group(1) not in shipped:
                    problems.append(f"{path.relative_to(ROOT)} names {m.group(1)}")
    assert problems == []
