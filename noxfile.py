"""Every workflow of the course is a nox session.

Students:
    nox -s grade              grade all chapters of exercises/
    nox -s grade-03           grade one chapter (grade-01 ... one session per chapter)
Course developers and CI:
    nox -s tests              the course's own test suite (what CI runs)
    nox -s stubs              regenerate exercises/ from solutions/
    nox -s crosscheck         the reference against PyTorch (installs the CPU build)
    nox -s bench              time grading, per chapter and all chapters

All sessions but ``crosscheck`` share one environment (``.nox/course``) so that the
per-chapter sessions do not each install numpy and pytest again. The course itself is
not installed into it: student code is graded in an isolated worker process that must
not be able to import the grader or the reference.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
PYPROJECT = nox.project.load_toml(str(ROOT / "pyproject.toml"))
nox.options.sessions = ["grade"]
nox.options.reuse_venv = "yes"

CHAPTERS = sorted(
    p.name for p in (ROOT / "grader" / "suites").iterdir() if p.is_dir() and re.match(r"ch\d\d_", p.name)
) if (ROOT / "grader" / "suites").is_dir() else []


def _course_python(session, group="test"):
    """Create or reuse .nox/course with the dependency group installed; return its python."""
    env = ROOT / ".nox" / "course"
    bindir = env / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    deps = nox.project.dependency_groups(PYPROJECT, group)
    stamp = env / ".deps"
    want = hashlib.sha256(json.dumps(sorted(deps)).encode()).hexdigest()
    if not python.exists() or not stamp.exists() or stamp.read_text() != want:
        session.log(f"preparing {env.relative_to(ROOT)} ({group} dependencies)")
        session.run(sys.executable, "-m", "venv", str(env), external=True)
        session.run(str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *deps,
                    external=True)
        stamp.write_text(want)
    return str(python)


def _grade(session, chapters):
    python = _course_python(session)
    session.run(python, "-m", "grader", "grade", *chapters, *session.posargs, external=True)


@nox.session(venv_backend="none")
def grade(session):
    """Grade every chapter of exercises/ (extra options after --, e.g. -- --results out.json)."""
    _grade(session, [])


def _make_chapter_session(package):
    number = package[2:4]

    def session_fn(session):
        _grade(session, [f"ch{number}"])

    session_fn.__doc__ = f"Grade chapter {number} ({package}) of exercises/."
    nox.session(name=f"grade-{number}", venv_backend="none", default=False)(session_fn)


for _package in CHAPTERS:
    _make_chapter_session(_package)


INSTRUCTOR = (ROOT / "solutions").is_dir()  # False in the student release


def instructor_session(func=None, **kwargs):
    """A session that only exists in the instructor's repository."""
    def wrap(f):
        return nox.session(**kwargs)(f) if INSTRUCTOR else f
    return wrap(func) if func else wrap


@instructor_session(venv_backend="none", default=False)
def tests(session):
    """The course's own tests: engine, sandbox, solutions 100%, stubs 0, stubs current, mutants."""
    python = _course_python(session)
    session.run(python, "-m", "pytest", *(session.posargs or ["tests", "-q", "-n", "auto"]), external=True)


@instructor_session(venv_backend="none", default=False)
def stubs(session):
    """Regenerate exercises/ from solutions/ (solution blocks become TODOs)."""
    python = _course_python(session)
    session.run(python, "-m", "grader", "stubs", *session.posargs, external=True)


@instructor_session(default=False)
def crosscheck(session):
    """Cross-check the reference against PyTorch (CPU build) to tight tolerance."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "crosscheck"))
    session.run("python", "-m", "pytest", "tests/crosscheck", "-q", *session.posargs)


@instructor_session(venv_backend="none", default=False)
def fixtures(session):
    """Record the reference's values for public mode (grader/fixtures/)."""
    python = _course_python(session)
    session.run(python, "-m", "grader", "fixtures", *session.posargs, external=True)


@instructor_session(venv_backend="none", default=False)
def release(session):
    """Build the student repository and check it (default folder: build/release)."""
    python = _course_python(session)
    session.run(python, "-m", "grader", "release", *(session.posargs or ["--out", "build/release", "--force"]),
                external=True)


@instructor_session(venv_backend="none", default=False)
def autograde(session):
    """Grade a folder of submissions: nox -s autograde -- SUBMISSIONS --out DIR [--jobs N]."""
    python = _course_python(session)
    if not session.posargs:
        session.error("usage: nox -s autograde -- SUBMISSIONS --out DIR [--jobs N] [--chapters ...]")
    session.run(python, "-m", "grader", "autograde", *session.posargs, external=True)


@instructor_session(venv_backend="none", default=False)
def gradescope(session):
    """Build the Gradescope autograder bundle (default build/autograder.zip)."""
    python = _course_python(session)
    session.run(python, "-m", "grader", "gradescope", *session.posargs, external=True)


@instructor_session(venv_backend="none", default=False)
def bench(session):
    """Time grading of solutions/ per chapter and for all chapters (see docs/benchmarks.md)."""
    python = _course_python(session)
    session.run(python, "benchmarks/grading_time.py", *session.posargs, external=True)
