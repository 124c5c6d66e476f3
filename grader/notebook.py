"""The chapter notebooks' runtime: the first cell (``setup``) and the grade cell.

Inside a chapter notebook (``notebooks/chNN_name.py``, jupytext percent format)::

    from grader.notebook import setup, grade_cell
    setup("ch02")          # first cell: finds your code, reports which chapters are still stubs
    ...
    grade_cell("ch02")     # last cell: runs the chapter's suite on your modules, returns the points

``grade_cell`` runs ``python -m grader grade`` in a separate process on the folder the
notebook imports ``exercises`` from, prints the visible tests (held-back tests only as a
total), writes nothing to stderr and returns the score as a plain float: the cell's
result, which nbgrader records as partial credit.

This module runs in the student's kernel and ships with the release: it needs neither
jupytext nor nbgrader. Converting notebooks is ``grader.jupyter``; the nbgrader course and
its checks are instructor tools (``grader.workflows.nbgrader``, docs/nbgrader.md).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

from .chapters import IGNORED_PARTS, ChapterError, chapter_id, is_chapter_dir, resolve
from .runner import SECRET_ENV, SECRET_FILE, grade_subprocess

STUB_MARK = re.compile(r"""raise NotImplementedError\(\s*["']ch\d\d: implement""")

# Environment read by grade_cell (nbgrader_config.py sets the first three for autograde).
ENV_ROOT = "COURSE_GRADER_ROOT"  # a repository with reference/: grade there (hidden mode)
ENV_MODE = "COURSE_GRADER_MODE"  # hidden (default with ENV_ROOT) or public
ENV_INDEPENDENT = (
    "COURSE_GRADER_INDEPENDENT"  # "1": earlier chapters graded with the course's solutions
)
ENV_TIMEOUT = "COURSE_GRADER_TIMEOUT"  # seconds for one grading run (default 270)
ENV_SUBMISSION = (
    "COURSE_NOTEBOOK_SUBMISSION"  # import "exercises" from this folder instead (instructors)
)

DEFAULT_TIMEOUT = 270.0

_START_DIR = Path.cwd().resolve()  # the notebook's folder: the kernel starts there


class GradingUnavailable(RuntimeError):
    """The grader could not run: the cell shows this error and the nbgrader ``check`` flags the submission."""


def course_root():
    """The folder holding ``grader/`` (this file's package) and, normally, ``exercises/``."""
    return Path(__file__).resolve().parent.parent


def _import_exercises_from(folder: Path):
    """Make ``import exercises...`` load from ``folder`` (a submission root of chNN_* packages)."""
    import importlib.machinery
    import importlib.util

    for name in [m for m in sys.modules if m == "exercises" or m.startswith("exercises.")]:
        del sys.modules[name]
    init = folder / "__init__.py"
    if init.is_file():
        spec = importlib.util.spec_from_file_location(
            "exercises", init, submodule_search_locations=[str(folder)]
        )
    else:
        spec = importlib.machinery.ModuleSpec("exercises", None, is_package=True)
        spec.submodule_search_locations = [str(folder)]
    module = importlib.util.module_from_spec(spec)
    sys.modules["exercises"] = module
    if spec.loader is not None:
        spec.loader.exec_module(module)
    return module


def submission_root():
    """The folder this notebook's ``exercises`` package comes from (what grade_cell grades)."""
    module = sys.modules.get("exercises")
    paths = list(getattr(module, "__path__", []) or []) if module is not None else []
    if paths:
        return Path(paths[0]).resolve()
    override = os.environ.get(ENV_SUBMISSION)
    if override:
        path = Path(override)
        return (path if path.is_absolute() else course_root() / path).resolve()
    return (course_root() / "exercises").resolve()


def _todo_count(package_dir: Path):
    count = 0
    for path in sorted(package_dir.rglob("*.py")):
        if IGNORED_PARTS.isdisjoint(path.parts):
            try:
                count += len(STUB_MARK.findall(path.read_text(errors="replace")))
            except OSError:
                pass
    return count


def setup(chapter):
    """First cell of a chapter notebook: import ``exercises`` from the right folder, turn on
    autoreload (edit a module, re-run a cell), and say which chapters still hold stubs."""
    package = resolve([chapter])[0]
    override = os.environ.get(ENV_SUBMISSION)
    if override:
        path = Path(override)
        _import_exercises_from((path if path.is_absolute() else course_root() / path).resolve())
    root = submission_root()
    if str(root.parent) not in sys.path:
        sys.path.insert(0, str(root.parent))
    try:  # IPython only; harmless elsewhere
        ip = get_ipython()  # type: ignore[name-defined]  # noqa: F821
        ip.run_line_magic("load_ext", "autoreload")
        ip.run_line_magic("autoreload", "2")
    except Exception:
        pass
    try:
        import numpy as np

        np.set_printoptions(precision=4, suppress=True, linewidth=100)
    except ImportError:
        pass
    lines = [f"{chapter_id(package)}: your code is in {root}"]
    number = int(package[2:4])
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and is_chapter_dir(p.name)):
        if int(folder.name[2:4]) > number:
            continue
        todo = _todo_count(folder)
        if folder.name == package:
            state = f"{todo} function(s) to write" if todo else "no stub left"
        elif todo:
            state = (
                f"{todo} stub(s) left: this chapter builds on it; finish it, or copy your finished "
                f"{folder.name}/ in"
            )
        else:
            state = "done"
        lines.append(f"  {folder.name}: {state}")
    if not (root / package).is_dir():
        lines.append(f"  {package}: MISSING (expected the folder {root / package})")
    print("\n".join(lines))


def _secret_available(root: Path, env):
    if env.get(SECRET_ENV):
        return True
    path = root / SECRET_FILE
    try:
        return path.is_file() and bool(path.read_text().strip())
    except OSError:
        return False


def grading_plan(package, submission, *, start_dir=None, environ=None):
    """How a grade cell grades ``package`` of ``submission``: (grader root, extra CLI options).

    With $COURSE_GRADER_ROOT (set by the course's nbgrader_config.py) the instructor's
    repository grades, in $COURSE_GRADER_MODE (default hidden) mode, with --independent when
    $COURSE_GRADER_INDEPENDENT is 1, and, during ``nbgrader autograde``, with inputs seeded
    for the student (``--student``: the student id is the name of the folder above the
    assignment's) when the course secret is available. Otherwise the grader next to this
    notebook grades (public mode in a release, hidden in the instructor's repository).
    """
    env = os.environ if environ is None else environ
    start_dir = Path(start_dir or _START_DIR)
    options = []
    if env.get(ENV_ROOT):
        root = Path(env[ENV_ROOT]).resolve()
        mode = env.get(ENV_MODE) or "hidden"
        options += ["--mode", mode]
        if env.get(ENV_INDEPENDENT) == "1":
            options.append("--independent")
        if (
            env.get("NBGRADER_EXECUTION") == "autograde"
            and mode == "hidden"
            and _secret_available(root, env)
        ):
            options += ["--student", start_dir.parent.name]
    else:
        root = course_root()
    return root, options


GRADING_MODULES = ("numpy", "pytest", "hypothesis", "rich")  # what `python -m grader grade` imports
HOW_TO_FIX = (
    "Open the notebooks with `python3 -m nox -s lab`, run from the course folder: its Jupyter "
    "kernel has everything grading needs. Or grade in a terminal: `python3 -m nox -s grade-{nn}`."
)


def _can_grade(python):
    """True when ``python`` imports every module the grader needs."""
    code = "import " + ", ".join(GRADING_MODULES)
    try:
        proc = subprocess.run(
            [str(python), "-c", code], capture_output=True, timeout=60, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def grading_python(root=None, current=None):
    """The Python that runs the grader for a grade cell: this kernel's own when it has the
    grader's modules, else the course environment that `nox -s grade` prepared
    (``.nox/course`` in the course folder ``root``), else None."""
    current = Path(current or sys.executable)
    if _can_grade(current):
        return current
    env = Path(root or course_root()) / ".nox" / "course"
    for candidate in (env / "bin" / "python", env / "Scripts" / "python.exe"):
        if candidate.exists() and _can_grade(candidate):
            return candidate
    return None


def run_grader(package, submission, *, root, options, timeout=None, environ=None):
    """Run the grader of ``root`` in its own process; return results.json (a dict) or raise
    GradingUnavailable. The course secret (from ``environ``) is passed on only when the
    options ask for a student's seed (``--student``)."""
    env = os.environ if environ is None else environ
    timeout = float(timeout or env.get(ENV_TIMEOUT) or DEFAULT_TIMEOUT)
    secret = env.get(SECRET_ENV) if "--student" in options else None
    fix = HOW_TO_FIX.format(nn=chapter_id(package)[2:])
    python = grading_python(root)
    if python is None:
        missing = ", ".join(GRADING_MODULES)
        raise GradingUnavailable(
            f"the grader did not run: this notebook's Python ({sys.executable}) lacks some of "
            f"{missing}, and the course folder has no .nox/course environment. {fix}"
        )
    with tempfile.TemporaryDirectory(prefix="grade-cell-") as tmp:
        results = Path(tmp) / "results.json"
        try:
            proc = grade_subprocess(
                [chapter_id(package)],
                submission,
                results=results,
                options=options,
                cwd=root,
                secret=secret,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
                python=str(python),
            )
        except subprocess.TimeoutExpired:
            raise GradingUnavailable(
                f"grading {chapter_id(package)} took longer than {timeout:g} s"
            ) from None
        except OSError as exc:
            raise GradingUnavailable(f"could not start the grader: {exc}. {fix}") from None
        if proc.returncode != 0 or not results.is_file():
            message = (proc.stderr or proc.stdout or "").strip().splitlines()
            tail = message[-1] if message else f"exit status {proc.returncode}"
            raise GradingUnavailable(f"the grader did not run ({tail}). {fix}")
        try:
            return json.loads(results.read_text())
        except ValueError as exc:
            raise GradingUnavailable(f"the grader's results are unreadable ({exc})") from None


def _base(name):
    return name.split("[", 1)[0]


def format_results(data, *, package, submission, max_detail_lines=12):
    """The text a grade cell prints: visible tests grouped by name, held-back tests as a total."""
    tests = data.get("tests", [])
    visible = [t for t in tests if t.get("visibility", "visible") == "visible"]
    hidden = [t for t in tests if t.get("visibility", "visible") != "visible"]
    mode = data.get("extra_data", {}).get("mode", "?")
    out = [
        f"{chapter_id(package)} ({package}): {data['score']:g} / {data['max_score']:g} points, "
        f"graded in {mode} mode on {submission}",
        "",
    ]
    from .report import NOT_STARTED, root_cause

    outputs = [(t.get("output") or "") for t in visible]
    if visible and all(
        t["status"] != "passed" and o.startswith(NOT_STARTED) for t, o in zip(visible, outputs)
    ):
        # A chapter not started (its tests failed without running): one line, as in the CLI.
        out.append(f"  {outputs[0].splitlines()[0]}")
        visible = []
    groups = {}
    for t in visible:
        name = t["name"].split(" ", 1)[-1]
        groups.setdefault(_base(name), []).append(t)
    width = max((len(k) for k in groups), default=10)
    for base, items in groups.items():
        score = sum(t["score"] for t in items)
        top = sum(t["max_score"] for t in items)
        passed = sum(t["status"] == "passed" for t in items)
        mark = "ok  " if passed == len(items) else "FAIL"
        pts = f"{score:g}/{top:g}"
        cases = f"({passed} of {len(items)} cases)" if len(items) > 1 else ""
        out.append(f"  {mark} {base:<{width}}  {pts:>7} pts {cases}".rstrip())
    if hidden:
        h_score = sum(t["score"] for t in hidden)
        h_max = sum(t["max_score"] for t in hidden)
        h_pass = sum(t["status"] == "passed" for t in hidden)
        out.append(
            f"  held-back tests: {h_pass} of {len(hidden)} passed, {h_score:g}/{h_max:g} points "
            "(not shown)"
        )
    failures, groups = [], {}
    for t in visible:
        if t["status"] == "passed":
            continue
        text = (t.get("output") or "failed").strip()
        summary, _, details = text.partition("\n")
        # One mistake over several cases (the same function and diagnosis, numbers aside).
        key = root_cause({"chapter": "", "summary": summary, "details": details})
        groups.setdefault(key, []).append((t, text))
    for cases in groups.values():
        t, text = cases[0]
        lines = text.splitlines()
        if len(lines) > max_detail_lines:
            lines = lines[:max_detail_lines] + [f"... ({len(lines) - max_detail_lines} more lines)"]
        failures.append(f"{t['name'].split(' ', 1)[-1]}: " + lines[0])
        failures.extend("    " + ln for ln in lines[1:])
        if len(cases) > 1:
            others = ", ".join(c["name"].split(" ", 1)[-1] for c, _ in cases[1:])
            failures.append(f"    the same mistake in {len(cases) - 1} more case(s): {others}")
    if failures:
        out += ["", "What failed (each mistake once):", *failures]
    notes = [ln for ln in (data.get("output") or "").splitlines()[1:] if ln.strip()]
    if notes:
        out += ["", *notes]
    if mode == "public":
        out += [
            "",
            "Public mode: expected values come from recorded fixtures. Your instructor grades "
            "with fresh inputs and a few held-back tests.",
        ]
    return "\n".join(out)


def grade_cell(chapter, points=None):
    """Grade ``chapter`` of the modules this notebook uses; print the feedback; return the score.

    The return value is a plain float (a numpy float would print as ``np.float64(...)``, which
    nbgrader cannot read and would count as full marks). Nothing is written to stderr (nbgrader
    gives 0 to a test cell with stderr output). When grading cannot run, GradingUnavailable is
    raised: the cell scores 0 and ``python -m grader.workflows.nbgrader check`` lists the submission.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            package = resolve([chapter])[0]
        except ChapterError as exc:
            raise GradingUnavailable(str(exc)) from None
        submission = submission_root()
        root, options = grading_plan(package, submission)
        data = run_grader(package, submission, root=root, options=options)
        score, max_score = float(data["score"]), float(data["max_score"])
        mode = data.get("extra_data", {}).get("mode")
        if points is not None:
            if mode == "hidden" and abs(max_score - float(points)) > 1e-9:
                raise GradingUnavailable(
                    f"this cell is worth {points:g} points but the grader's {chapter_id(package)} suite has "
                    f"{max_score:g}: the course was built from another version of the grader "
                    "(rebuild it: nox -s nbgrader-course)"
                )
            if score > float(points) + 1e-9:
                raise GradingUnavailable(f"score {score:g} above the cell's {points:g} points")
        try:  # inside the notebook's folder: a short name (feedback need not show the grader's paths)
            shown = submission.relative_to(_START_DIR)
        except ValueError:
            shown = submission
        print(format_results(data, package=package, submission=shown))
        return float(round(score, 6))
