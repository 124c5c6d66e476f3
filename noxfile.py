"""Every workflow of the course is a nox session: `python3 -m nox -l` lists the ones this
folder has (the student release has only the students' own: grade, grade-NN, run, lab,
notebooks, classroom; the instructor's repository adds its own: stubs, fixtures, release,
autograde, tests, ..., named in its README.md).

All sessions but ``crosscheck``, ``lint`` and the notebook ones share one environment
(``.nox/course``) so that the per-chapter sessions do not each install numpy and pytest
again. The course itself is not installed into it: student code is graded in an isolated
worker process that must not be able to import the grader or the reference.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
PYPROJECT = nox.project.load_toml(str(ROOT / "pyproject.toml"))
nox.options.sessions = ["grade"]
nox.options.reuse_venv = "yes"


def _course_chapters():
    """The course's chapter list, read from the grader (grader/chapters.py, loaded by its path:
    nox's own environment need not be able to import the grader package)."""
    spec = importlib.util.spec_from_file_location(
        "course_chapters", ROOT / "grader" / "chapters.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.all_chapters()


CHAPTERS = _course_chapters()


def _shared_python(session, name, group):
    """Create or reuse .nox/<name> with a dependency group installed; return its python.
    Reinstalls when the group's requirements change."""
    env = ROOT / ".nox" / name
    bindir = env / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    deps = nox.project.dependency_groups(PYPROJECT, group)
    stamp = env / ".deps"
    want = hashlib.sha256(json.dumps(sorted(deps)).encode()).hexdigest()
    if not python.exists() or not stamp.exists() or stamp.read_text() != want:
        session.log(f"preparing {env.relative_to(ROOT)} ({group} dependencies)")
        session.run(sys.executable, "-m", "venv", str(env), external=True)
        session.run(
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *deps,
            external=True,
        )
        stamp.write_text(want)
    return str(python)


def _course_python(session):
    """The course environment (.nox/course): what grading and the course's tests need."""
    return _shared_python(session, "course", "test")


def _grader(session, *args):
    """Run ``python -m grader ARGS`` in the course environment."""
    session.run(_course_python(session), "-m", "grader", *args, external=True)


def _grade(session, chapters):
    _grader(session, "grade", *chapters, *session.posargs)


@nox.session(venv_backend="none")
def grade(session):
    """Grade every chapter of exercises/ (extra options after --, e.g. -- --results out.json)."""
    _grade(session, [])


@nox.session(venv_backend="none", default=False)
def classroom(session):
    """GitHub Classroom: grade (public mode) into results.json and hand the points to Classroom's
    grading reporter through $GITHUB_OUTPUT (the workflow .github/workflows/classroom.yml runs it)."""
    python = _course_python(session)
    results = ROOT / "results.json"
    results.unlink(missing_ok=True)
    session.run(
        python,
        "-m",
        "grader",
        "grade",
        "--results",
        str(results),
        *session.posargs,
        external=True,
        success_codes=[0, 2],
    )  # 2: the grader could not run; Classroom then shows an error
    output = os.environ.get("GITHUB_OUTPUT")
    session.run(
        python,
        "-m",
        "grader",
        "classroom",
        str(results),
        *(["--github-output", output] if output else []),
        external=True,
        silent=not output,
    )


@nox.session(venv_backend="none", default=False)
def run(session):
    """Run a module of the course with the Python that grades: nox -s run -- exercises.ch09_mnist.make_plots."""
    if not session.posargs:
        session.error(
            "usage: nox -s run -- MODULE [ARGUMENTS...], e.g. exercises.ch01_neurons.matmul_lab"
        )
    module, *args = session.posargs
    session.run(_course_python(session), "-m", module, *args, external=True)


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
    """The course's own tests: engine, sandbox, solutions 100%, stubs 0, stubs current, mutants
    (all but those marked slow, which tests-slow runs; CI runs both)."""
    python = _course_python(session)
    default = ["tests", "-q", "-n", "auto", "-m", "not slow"]
    session.run(python, "-m", "pytest", *(session.posargs or default), external=True)


@instructor_session(name="tests-slow", venv_backend="none", default=False)
def tests_slow(session):
    """The course's tests marked slow (the README's commands on a fresh clone, the release,
    the nbgrader course, the pretrained weights' recipe ...): CI runs them after `tests`."""
    python = _course_python(session)
    default = ["tests", "-q", "-n", "auto", "-m", "slow"]
    session.run(python, "-m", "pytest", *(session.posargs or default), external=True)


@instructor_session(venv_backend="none", default=False)
def stubs(session):
    """Regenerate exercises/ from solutions/ (solution blocks become TODOs)."""
    _grader(session, "stubs", *session.posargs)


@instructor_session(default=False)
def lint(session):
    """ruff check and ruff format --check with the settings in pyproject.toml (-- --fix to fix)."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    if "--fix" in session.posargs:
        session.run("ruff", "check", "--fix", ".")
        session.run("ruff", "format", ".")
        return
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@instructor_session(default=False)
def crosscheck(session):
    """Cross-check the reference against PyTorch (CPU build) to tight tolerance."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "crosscheck"))
    session.run("python", "-m", "pytest", "tests/crosscheck", "-q", *session.posargs)


@instructor_session(venv_backend="none", default=False)
def fixtures(session):
    """Record the reference's values for public mode (grader/fixtures/)."""
    _grader(session, "fixtures", *session.posargs)


@instructor_session(venv_backend="none", default=False)
def release(session):
    """Build the student repository and check it (default folder: build/release)."""
    _grader(session, "release", *(session.posargs or ["--out", "build/release", "--force"]))


@instructor_session(venv_backend="none", default=False)
def autograde(session):
    """Grade a folder of submissions: nox -s autograde -- SUBMISSIONS --out DIR [--jobs N]."""
    if not session.posargs:
        session.error(
            "usage: nox -s autograde -- SUBMISSIONS --out DIR [--jobs N] [--chapters ...]"
        )
    _grader(session, "autograde", *session.posargs)


@instructor_session(venv_backend="none", default=False)
def merge(session):
    """One gradebook from the output folders of `autograde --shard I/N` runs: nox -s merge -- DIR ... --out DIR."""
    if not session.posargs:
        session.error("usage: nox -s merge -- SLICE_DIR [SLICE_DIR ...] --out DIR")
    _grader(session, "merge", *session.posargs)


@instructor_session(venv_backend="none", default=False)
def gradescope(session):
    """Build the Gradescope autograder bundle (default build/autograder.zip)."""
    _grader(session, "gradescope", *session.posargs)


# The layers' speed benchmarks (their own scripts, with the arguments that time one epoch or
# one step beside a minimal numpy loop and PyTorch; see docs/benchmarks.md).
LAYER_BENCHMARKS = (
    ("ch09_mlp.py",),
    ("ch10_lenet.py", "speed", "--images", "1000", "--repeats", "3"),
    ("ch11_recurrent.py", "--skip-bar", "--skip-char"),
    ("ch12_attention.py", "--skip-bars"),
)


@instructor_session(venv_backend="none", default=False)
def bench(session):
    """Grading time per chapter (CPU and wall, ratio to the floor), autograde's cost per
    submission beside nbgrader's, and the layers' epoch times beside a minimal numpy loop and
    PyTorch (docs/benchmarks.md). `-- grading`, `-- autograde` or `-- layers`: those parts only."""
    python = _course_python(session)
    parts = set(session.posargs) or {"grading", "autograde", "layers"}
    env = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    if "grading" in parts:
        session.run(python, "benchmarks/grading_time.py", "--repeat", "1", external=True, env=env)
    if "autograde" in parts:
        nbgrader = _nbgrader_python(session)  # the environment nbgrader-test uses
        session.run(
            python,
            "benchmarks/autograde_cost.py",
            "--nbgrader-python",
            nbgrader,
            external=True,
            env=env,
        )
    if "layers" in parts:
        # PyTorch lives in the cross-check environment (nox -s crosscheck creates it).
        torch_env = ROOT / ".nox" / "crosscheck" / ("Scripts" if os.name == "nt" else "bin")
        torch_python = torch_env / ("python.exe" if os.name == "nt" else "python")
        runner = str(torch_python) if torch_python.exists() else python
        if runner == python:
            session.log(
                "no .nox/crosscheck (nox -s crosscheck): the layers are timed without PyTorch"
            )
        for script, *args in LAYER_BENCHMARKS:
            if (ROOT / "benchmarks" / script).exists():
                session.run(runner, f"benchmarks/{script}", *args, external=True, env=env)


# ------------------------------------------------------------------ notebooks and nbgrader
# Chapter notebooks (notebooks/chNN_name.py, jupytext percent format) and the nbgrader
# course built from them; see docs/nbgrader.md. Students' sessions (lab, notebooks) use
# .nox/lab (dependency group `lab`: grade + JupyterLab + jupytext); the instructor's nbgrader
# sessions use .nox/nbgrader (group `nbgrader`: grade + nbgrader + jupytext).


def _nbgrader_python(session):
    """The nbgrader environment (.nox/nbgrader): grading plus nbgrader and jupytext."""
    return _shared_python(session, "nbgrader", "nbgrader")


def _nbgrader_env(python):
    # nbgrader runs the `alembic` executable by name: its environment's bin/ must come first.
    return {"PATH": str(Path(python).parent) + os.pathsep + os.environ.get("PATH", "")}


@nox.session(venv_backend="none", default=False)
def lab(session):
    """Open the chapter notebooks in JupyterLab, with a kernel that grades (-- options for jupyter lab)."""
    python = _shared_python(session, "lab", "lab")
    session.run(
        python, "-m", "grader.jupyter", "convert", "--out", "build/notebooks", external=True
    )
    session.run(python, "-m", "jupyterlab", "build/notebooks", *session.posargs, external=True)


@nox.session(venv_backend="none", default=False)
def notebooks(session):
    """Convert notebooks/*.py to .ipynb in build/notebooks (never replacing yours; -- --execute runs them)."""
    python = _shared_python(session, "lab", "lab")  # the students' notebook environment
    session.run(
        python,
        "-m",
        "grader.jupyter",
        "convert",
        *session.posargs,
        external=True,
        env=_nbgrader_env(python),
    )


@instructor_session(name="nbgrader-course", venv_backend="none", default=False)
def nbgrader_course(session):
    """Build the nbgrader course in build/nbgrader: source/, release/ (checked), nbgrader_config.py."""
    python = _nbgrader_python(session)
    session.run(
        python,
        "-m",
        "grader.workflows.nbgrader",
        "course",
        *(session.posargs or ["--force"]),
        external=True,
        env=_nbgrader_env(python),
    )


@instructor_session(name="nbgrader-test", venv_backend="none", default=False)
def nbgrader_test(session):
    """The nbgrader round trip with real nbgrader (ch01, ch02; `-- all` or `-- ch03 ch05` for others)."""
    python = _nbgrader_python(session)
    env = _nbgrader_env(python)
    if session.posargs:
        env["NBGRADER_TEST_CHAPTERS"] = " ".join(session.posargs)
    session.run(
        python,
        "-m",
        "pytest",
        "tests/test_nbgrader.py",
        "-q",
        "-p",
        "no:cacheprovider",
        external=True,
        env=env,
    )
