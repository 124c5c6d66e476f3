"""Chapter notebooks: the grade cell, and the nbgrader course built from the repository.

Inside a chapter notebook (``notebooks/chNN_name.py``, jupytext percent format)::

    from grader.notebook import setup, grade_cell
    setup("ch02")          # first cell: finds your code, reports which chapters are still stubs
    ...
    grade_cell("ch02")     # last cell: runs the chapter's suite on your modules, returns the points

``grade_cell`` runs ``python -m grader grade`` in a separate process on the folder the
notebook imports ``exercises`` from, prints the visible tests (held-back tests only as a
total), writes nothing to stderr and returns the score as a plain float: the cell's
result, which nbgrader records as partial credit.

Instructor commands (need ``jupytext``; the nbgrader ones need ``nbgrader``; see
docs/nbgrader.md)::

    python -m grader.notebook convert [NOTEBOOK ...] [--out build/notebooks] [--execute] [--submission DIR]
    python -m grader.notebook course --out build/nbgrader [--chapters ch01 ch02] [--mode hidden|public]
    python -m grader.notebook check-release COURSE
    python -m grader.notebook check COURSE [--assignment NAME ...] [--verify]

Nothing here imports jupytext or nbgrader at module level: the student's kernel needs
neither. ``FlaggedCsvExport`` (an nbgrader export plugin) is created on first access.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

from .chapters import ROOT, SUITES, ChapterError, all_chapters, chapter_id, resolve

NOTEBOOKS = ROOT / "notebooks"
NOTEBOOK_FILE = re.compile(r"^(ch\d\d_[a-z0-9_]+)\.py$")
GRADE_CALL = re.compile(r"""^grade_cell\(\s*["'](ch\d\d)["']\s*(?:,\s*points\s*=\s*[\d.]+\s*)?\)\s*$""")
SETUP_CALL = re.compile(r"""^setup\(\s*["'](ch\d\d)["']\s*\)\s*$""", re.M)
MARKER = re.compile(r"^(\s*)### (BEGIN|END) SOLUTION\s*$")
STUB_MARK = re.compile(r"""raise NotImplementedError\(\s*["']ch\d\d: implement""")

# Environment read by grade_cell (nbgrader_config.py sets the first three for autograde).
ENV_ROOT = "COURSE_GRADER_ROOT"            # a repository with reference/: grade there (hidden mode)
ENV_MODE = "COURSE_GRADER_MODE"            # hidden (default with ENV_ROOT) or public
ENV_INDEPENDENT = "COURSE_GRADER_INDEPENDENT"  # "1": earlier chapters graded with the course's solutions
ENV_TIMEOUT = "COURSE_GRADER_TIMEOUT"      # seconds for one grading run (default 270)
ENV_SUBMISSION = "COURSE_NOTEBOOK_SUBMISSION"  # import "exercises" from this folder instead (instructors)

GRADE_ID = "{chapter}-grade"
DEFAULT_TIMEOUT = 270.0
CELL_TIMEOUT = 300  # nbgrader's per-cell limit (Execute.timeout), above the grading run's
# Instructor tools left out of an assignment's grader (a student grades with cli, plugin, worker, ...).
INSTRUCTOR_MODULES = {"stubgen.py", "release.py", "autograde.py", "gradescope.py"}
IGNORE_PARTS = {"__pycache__", ".pytest_cache", ".hypothesis", ".ipynb_checkpoints"}

_START_DIR = Path.cwd().resolve()  # the notebook's folder: the kernel starts there


class GradingUnavailable(RuntimeError):
    """The grader could not run: the cell shows this error and ``check`` flags the submission."""


# =============================================================================== notebook side


def _course_root():
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
        spec = importlib.util.spec_from_file_location("exercises", init, submodule_search_locations=[str(folder)])
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
        return (path if path.is_absolute() else _course_root() / path).resolve()
    return (_course_root() / "exercises").resolve()


def _todo_count(package_dir: Path):
    count = 0
    for path in sorted(package_dir.rglob("*.py")):
        if IGNORE_PARTS.isdisjoint(path.parts):
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
        _import_exercises_from((path if path.is_absolute() else _course_root() / path).resolve())
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
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and re.match(r"^ch\d\d_", p.name)):
        if int(folder.name[2:4]) > number:
            continue
        todo = _todo_count(folder)
        if folder.name == package:
            state = f"{todo} function(s) to write" if todo else "no stub left"
        elif todo:
            state = (f"{todo} stub(s) left: this chapter builds on it; finish it, or copy your finished "
                     f"{folder.name}/ in")
        else:
            state = "done"
        lines.append(f"  {folder.name}: {state}")
    if not (root / package).is_dir():
        lines.append(f"  {package}: MISSING (expected the folder {root / package})")
    print("\n".join(lines))


def _secret_available(root: Path, env):
    if env.get("COURSE_SECRET"):
        return True
    path = root / ".course-secret"
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
        if env.get("NBGRADER_EXECUTION") == "autograde" and mode == "hidden" and _secret_available(root, env):
            options += ["--student", start_dir.parent.name]
    else:
        root = _course_root()
    return root, options


def grader_command(package, submission, results, *, root, options, python=None):
    """The ``python -m grader grade`` command line a grade cell runs (also used by ``check --verify``)."""
    return [python or sys.executable, "-m", "grader", "grade", chapter_id(package), "--submission",
            str(submission), "--results", str(results), "--quiet", *options]


def _child_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_grader(package, submission, *, root, options, timeout=None):
    """Run the grader in its own process; return results.json (a dict) or raise GradingUnavailable."""
    timeout = float(timeout or os.environ.get(ENV_TIMEOUT) or DEFAULT_TIMEOUT)
    with tempfile.TemporaryDirectory(prefix="grade-cell-") as tmp:
        results = Path(tmp) / "results.json"
        cmd = grader_command(package, submission, results, root=root, options=options)
        try:
            proc = subprocess.run(cmd, cwd=root, env=_child_env(), capture_output=True, text=True,
                                  timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise GradingUnavailable(f"grading {chapter_id(package)} took longer than {timeout:g} s") from None
        except OSError as exc:
            raise GradingUnavailable(f"could not start the grader: {exc}") from None
        if proc.returncode != 0 or not results.is_file():
            message = (proc.stderr or proc.stdout or "").strip().splitlines()
            tail = message[-1] if message else f"exit status {proc.returncode}"
            raise GradingUnavailable(f"the grader did not run ({tail})")
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
    out = [f"{chapter_id(package)} ({package}): {data['score']:g} / {data['max_score']:g} points, "
           f"graded in {mode} mode on {submission}", ""]
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
        out.append(f"  held-back tests: {h_pass} of {len(hidden)} passed, {h_score:g}/{h_max:g} points "
                   "(not shown)")
    failures, seen = [], set()
    for t in visible:
        if t["status"] == "passed":
            continue
        text = (t.get("output") or "failed").strip()
        key = text
        if key in seen:
            continue
        seen.add(key)
        lines = text.splitlines()
        if len(lines) > max_detail_lines:
            lines = lines[:max_detail_lines] + [f"... ({len(lines) - max_detail_lines} more lines)"]
        failures.append(f"{t['name'].split(' ', 1)[-1]}: " + lines[0])
        failures.extend("    " + ln for ln in lines[1:])
    if failures:
        out += ["", "What failed (each distinct message once):", *failures]
    notes = [ln for ln in (data.get("output") or "").splitlines()[1:] if ln.strip()]
    if notes:
        out += ["", *notes]
    if mode == "public":
        out += ["", "Public mode: expected values come from recorded fixtures. Your instructor grades "
                "with fresh inputs and a few held-back tests."]
    return "\n".join(out)


def grade_cell(chapter, points=None):
    """Grade ``chapter`` of the modules this notebook uses; print the feedback; return the score.

    The return value is a plain float (a numpy float would print as ``np.float64(...)``, which
    nbgrader cannot read and would count as full marks). Nothing is written to stderr (nbgrader
    gives 0 to a test cell with stderr output). When grading cannot run, GradingUnavailable is
    raised: the cell scores 0 and ``python -m grader.notebook check`` lists the submission.
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
                    "(rebuild it: nox -s nbgrader-course)")
            if score > float(points) + 1e-9:
                raise GradingUnavailable(f"score {score:g} above the cell's {points:g} points")
        try:  # inside the notebook's folder: a short name (feedback need not show the grader's paths)
            shown = submission.relative_to(_START_DIR)
        except ValueError:
            shown = submission
        print(format_results(data, package=package, submission=shown))
        return float(round(score, 6))


# ================================================================== notebook files (no jupytext)


def chapter_notebooks(directory=None):
    """{package: path} of the chapter notebooks in notebooks/ (one .py file per chapter)."""
    directory = Path(directory or NOTEBOOKS)
    found = {}
    for path in sorted(directory.glob("ch*.py")) if directory.is_dir() else []:
        m = NOTEBOOK_FILE.match(path.name)
        if m:
            found[m.group(1)] = path
    return found


def split_cells(text):
    """Cells of a percent-format file: [(kind, header, source)], kind 'markdown' or 'code'.
    Enough for the checks here; conversion to .ipynb is jupytext's job."""
    cells, kind, header, buf = [], None, "", []
    for line in text.splitlines():
        if line.startswith("# %%"):
            if kind is not None:
                cells.append((kind, header, "\n".join(buf).strip("\n")))
            header = line
            kind = "markdown" if "[markdown]" in line else "code"
            buf = []
        elif kind is not None:
            buf.append(line)
    if kind is not None:
        cells.append((kind, header, "\n".join(buf).strip("\n")))
    return cells


def notebook_problems(path, package):
    """What is wrong with a chapter notebook's structure (empty list when it is fine)."""
    text = Path(path).read_text()
    cells = split_cells(text)
    code = [(h, s) for k, h, s in cells if k == "code" and s.strip()]
    problems = []
    cid = chapter_id(package)
    if not code:
        return [f"{path.name}: no code cell"]
    if not any(m == cid for m in SETUP_CALL.findall(code[0][1])):
        problems.append(f"{path.name}: the first code cell must call setup({cid!r})")
    grade_cells = [s for _, s in code if "grade_cell(" in s]
    last = code[-1][1].strip().splitlines()
    call = GRADE_CALL.match(last[-1]) if last else None
    if len(grade_cells) != 1 or not call or call.group(1) != cid:
        problems.append(f"{path.name}: the last code cell must end with grade_cell({cid!r}), and no other cell "
                        "may call grade_cell")
    for _, source in code:
        depth = 0
        for line in source.splitlines():
            m = MARKER.match(line)
            if m:
                depth += 1 if m.group(2) == "BEGIN" else -1
                if depth not in (0, 1):
                    problems.append(f"{path.name}: unbalanced solution markers")
                    break
        if depth:
            problems.append(f"{path.name}: a BEGIN SOLUTION without its END")
    if "grade_cell(" in code[0][1] or any(MARKER.match(ln) for ln in code[-1][1].splitlines()):
        problems.append(f"{path.name}: the setup and grade cells cannot hold solutions")
    return problems


def student_text(text, chapter):
    """A notebook's text with every solution block replaced by a stub (for a student copy)."""
    out, inside = [], False
    for line in text.splitlines(keepends=True):
        m = MARKER.match(line)
        if m and m.group(2) == "BEGIN":
            inside = True
            indent = m.group(1)
            out.append(f"{indent}# YOUR CODE HERE\n")
            out.append(f'{indent}raise NotImplementedError("{chapter}: the exercise of this notebook cell")\n')
        elif m:
            inside = False
        elif not inside:
            out.append(line)
    return "".join(out)


def write_student_notebooks(out_dir, chapters=None):
    """Copy the chapter notebooks with their solution blocks stubbed out (for the student release)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for package, path in chapter_notebooks().items():
        if chapters and package not in chapters:
            continue
        target = out_dir / path.name
        target.write_text(student_text(path.read_text(), chapter_id(package)))
        written.append(target)
    return written


# ====================================================================== conversion (jupytext)


def _read_percent(path):
    import jupytext

    nb = jupytext.read(str(path), fmt="py:percent")
    nb.metadata.pop("jupytext", None)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata.setdefault("language_info", {"name": "python"})
    return nb


def to_notebook(path):
    """The plain .ipynb (nbformat NotebookNode, no outputs) of a percent-format notebook."""
    nb = _read_percent(path)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def _nbgrader_meta(grade_id, *, solution=False, grade=False, locked=False, points=None, cell_type="code"):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    if grade or solution:
        meta["cell_type"] = cell_type
    return meta


def to_nbgrader_notebook(path, package, points):
    """The nbgrader source notebook: markdown and the setup cell read-only, cells with
    solution markers autograded answers, the grade cell an autograded test worth ``points``
    (its call rewritten to ``grade_cell("chNN", points=P)``); other code cells left free."""
    nb = to_notebook(path)
    cid = chapter_id(package)
    code_seen = 0
    code_cells = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            cell.metadata["nbgrader"] = _nbgrader_meta(f"{cid}-text-{i:02d}", locked=True, cell_type="markdown")
            cell.metadata["deletable"] = False
            cell.metadata["editable"] = False
            continue
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        code_seen += 1
        if cell is code_cells[-1]:
            lines = cell.source.rstrip().splitlines()
            lines[-1] = f'grade_cell("{cid}", points={points:g})'
            cell.source = "\n".join(lines)
            cell.metadata["nbgrader"] = _nbgrader_meta(GRADE_ID.format(chapter=cid), grade=True, locked=True,
                                                       points=float(points))
            cell.metadata["deletable"] = False
            cell.metadata["editable"] = False
        elif code_seen == 1:
            cell.metadata["nbgrader"] = _nbgrader_meta(f"{cid}-setup", locked=True)
            cell.metadata["deletable"] = False
            cell.metadata["editable"] = False
        elif any(MARKER.match(ln) for ln in cell.source.splitlines()):
            cell.metadata["nbgrader"] = _nbgrader_meta(f"{cid}-answer-{i:02d}", solution=True)
    return nb


def _write_ipynb(nb, target):
    import nbformat

    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.validate(nb)
    text = nbformat.writes(nb)
    target.write_text(text if text.endswith("\n") else text + "\n")


def convert(paths, out_dir, *, force=False, log=print):
    """Convert percent-format notebooks to .ipynb in ``out_dir``; never overwrite one that
    exists (it may hold a student's work) unless ``force``."""
    written = []
    for path in paths:
        path = Path(path)
        target = Path(out_dir) / (path.stem + ".ipynb")
        if target.exists() and not force:
            log(f"kept {target} (exists; --force replaces it)")
            written.append(target)
            continue
        _write_ipynb(to_notebook(path), target)
        log(f"wrote {target}")
        written.append(target)
    return written


def execute(ipynb, *, submission=None, timeout=CELL_TIMEOUT, allow_errors=True):
    """Run a converted notebook in place (its folder as working directory) with nbclient;
    ``submission``: the folder to import ``exercises`` from. Returns the executed notebook."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(str(ipynb), as_version=4)
    old = os.environ.get(ENV_SUBMISSION)
    if submission:
        os.environ[ENV_SUBMISSION] = str(Path(submission).resolve())
    try:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
                                resources={"metadata": {"path": str(Path(ipynb).resolve().parent)}})
        client.execute()
    finally:
        if old is None:
            os.environ.pop(ENV_SUBMISSION, None)
        else:
            os.environ[ENV_SUBMISSION] = old
    nbformat.write(nb, str(ipynb))
    return nb


def grade_output(nb):
    """(score or None, errors, stderr texts) of a notebook's grade cell, from its outputs."""
    cells = [c for c in nb["cells"] if c["cell_type"] == "code" and "grade_cell(" in "".join(c["source"])]
    if not cells:
        return None, ["no grade cell"], []
    cell = cells[-1]
    score, errors, stderr = None, [], []
    for out in cell.get("outputs", []):
        if out["output_type"] == "error":
            errors.append(f"{out.get('ename')}: {out.get('evalue')}")
        elif out["output_type"] == "stream" and out.get("name") == "stderr":
            stderr.append("".join(out.get("text", "")))
        elif out["output_type"] == "execute_result":
            text = out.get("data", {}).get("text/plain", "")
            text = "".join(text) if isinstance(text, list) else text
            try:
                score = float(text)
            except ValueError:
                errors.append(f"the grade cell's result {text!r} is not a number")
    return score, errors, stderr


# ============================================================================ the nbgrader course


def _copy_tree(src: Path, dst: Path, skip=None):
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if not IGNORE_PARTS.isdisjoint(rel.parts) or not path.is_file() or path.suffix == ".pyc":
            continue
        if skip and skip(path):
            continue
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def _needs_data(packages, notebook_text):
    texts = [notebook_text]
    for package in packages:
        for path in (SUITES / package).glob("*.py"):
            texts.append(path.read_text(errors="replace"))
    return any("data.loaders" in t or "from data " in t or "import data" in t for t in texts)


def record_points(packages, log=print):
    """Record public fixtures for ``packages`` from the reference on solutions/ (which must pass
    everything) and count points: ({package: {"hidden": max, "public": max}}, fixtures dir).
    The caller removes the fixtures dir."""
    from .cli import run_suites

    tmp = Path(tempfile.mkdtemp(prefix="nb-fixtures-"))
    log(f"recording fixtures and counting points on solutions/ for {', '.join(chapter_id(p) for p in packages)} ...")
    records, _ = run_suites(packages, ROOT / "solutions", mode="record", fixtures_dir=tmp)
    failed = [r for r in records if r["status"] != "passed"]
    if failed:
        shutil.rmtree(tmp, ignore_errors=True)
        names = ", ".join(f"{r['chapter']} {r['test']}" for r in failed[:5])
        raise CourseError(f"{len(failed)} test(s) fail on solutions/ ({names}): fix them first")
    points = {p: {"hidden": 0.0, "public": 0.0} for p in packages}
    for rec in records:
        points[rec["package"]]["hidden"] += rec["max_score"]
        if not rec["hidden"]:
            points[rec["package"]]["public"] += rec["max_score"]
    return points, tmp


class CourseError(RuntimeError):
    pass


CONFIG_TEMPLATE = '''\
# nbgrader configuration of the course, generated by `nox -s nbgrader-course`
# (python -m grader.notebook course) from {repo}. Rebuild rather than edit.
import os
import sys

c = get_config()  # noqa: F821
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "nn-from-scratch"
c.CourseDirectory.ignore = {ignore!r}

# A grade cell runs the grader in its own process: allow it time (the grader stops first).
c.Execute.timeout = {cell_timeout}

# The student's modules are what is graded: autograde must keep the submitted .py files
# instead of copying the stubs of source/ over them (every other file is restored).
c.Autograde.exclude_overwriting = {exclude}

# Grade cells: {mode_comment}
{grader_env}
# `nbgrader export` writes grades.csv with a status column: submissions that could not be
# graded are flagged and their score cells left empty instead of showing 0.
if {repo!r} not in sys.path:
    sys.path.insert(0, {repo!r})
c.ExportApp.plugin_class = "grader.notebook.FlaggedCsvExport"
'''


def _config_text(exclude, mode, independent):
    if mode == "hidden":
        env = (f'os.environ.setdefault("{ENV_ROOT}", {str(ROOT)!r})\n'
               f'os.environ.setdefault("{ENV_MODE}", "hidden")\n'
               f'os.environ.setdefault("{ENV_INDEPENDENT}", "{1 if independent else 0}")\n')
        comment = ("the instructor's repository grades (hidden mode: live reference, held-back tests,\n"
                   "# inputs seeded per student when the course secret exists). "
                   + ("Earlier chapters are graded with the\n# course's solutions (--independent), so an "
                      "earlier bug is not charged again." if independent else
                      "Earlier chapters are the\n# student's own (no --independent)."))
    else:
        env = f'os.environ.pop("{ENV_ROOT}", None)\n'
        comment = ("the grader shipped in each assignment grades (public mode, recorded fixtures),\n"
                   "# restored from source/ at autograde so that a student cannot change it.")
    ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".pytest_cache", ".hypothesis"]
    exclude_text = json.dumps(exclude, indent=4).replace("\n", "\n")
    return CONFIG_TEMPLATE.format(repo=str(ROOT), ignore=ignore, cell_timeout=CELL_TIMEOUT,
                                  exclude=exclude_text, mode_comment=comment, grader_env=env)


def build_course(out, chapters=None, *, mode="hidden", independent=True, force=False, log=print):
    """Write an nbgrader course directory: nbgrader_config.py and source/<chapter package>/
    with the notebook (.ipynb with nbgrader metadata), the stubs of every chapter up to it
    (exercises/, generated from solutions/, never the solutions), the public grader with
    its fixtures for those chapters, and data/ when the chapter uses it."""
    from . import release, stubgen

    if mode not in ("hidden", "public"):
        raise CourseError(f"unknown mode {mode!r}")
    out = Path(out).resolve()
    if out == ROOT or ROOT in out.parents and out.relative_to(ROOT).parts[0] not in ("build",):
        raise CourseError(f"refusing to build the course inside the repository at {out} (use build/...)")
    notebooks = chapter_notebooks()
    packages = resolve(chapters or [])
    missing = [p for p in packages if p not in notebooks]
    if missing:
        raise CourseError(f"no notebook for {', '.join(missing)} (expected notebooks/<package>.py)")
    problems = [msg for p in packages for msg in notebook_problems(notebooks[p], p)]
    if problems:
        raise CourseError("; ".join(problems))
    every = all_chapters()
    upto = lambda p: [q for q in every if q[:4] <= p[:4]]  # noqa: E731
    needed = sorted({q for p in packages for q in upto(p)})
    drift = [d for d in stubgen.check(ROOT / "solutions", ROOT / "exercises")
             if any(f"exercises/{q}/" in d for q in needed) or "exercises/__init__" in d]
    if drift:
        raise CourseError(f"exercises/ is out of date with solutions/ ({drift[0]}): run `nox -s stubs` first")
    existing = [p for p in packages if (out / "source" / p).exists()]
    if existing and not force:
        raise CourseError(f"{out}/source already has {', '.join(existing)} (--force replaces them; "
                          "released assignments should not change)")
    points, fixtures = record_points(needed, log=log)
    try:
        exclude = {}
        config_path = out / "nbgrader_config.py"
        if config_path.exists():  # keep other assignments' entries
            m = re.search(r"exclude_overwriting = (\{.*?\n\})", config_path.read_text(), re.S)
            if m:
                try:
                    exclude.update(json.loads(m.group(1)))
                except ValueError:
                    pass
        for package in packages:
            src = out / "source" / package
            if src.exists():
                shutil.rmtree(src)
            src.mkdir(parents=True)
            earlier = upto(package)
            (src / "exercises").mkdir()
            shutil.copy2(ROOT / "exercises" / "__init__.py", src / "exercises" / "__init__.py")
            for q in earlier:
                _copy_tree(ROOT / "exercises" / q, src / "exercises" / q)
            _copy_tree(ROOT / "grader", src / "grader", skip=lambda p, keep=set(earlier): (
                release.HIDDEN_FILE.match(p.name) or p.parent.name == "fixtures"
                or (p.parent == ROOT / "grader" and p.name in INSTRUCTOR_MODULES)
                or (p.relative_to(ROOT / "grader").parts[0] == "suites"
                    and p.relative_to(SUITES).parts[0] not in keep)))
            (src / "grader" / "fixtures").mkdir(exist_ok=True)
            for q in earlier:
                if (fixtures / f"{q}.json").is_file():
                    shutil.copy2(fixtures / f"{q}.json", src / "grader" / "fixtures" / f"{q}.json")
            text = notebooks[package].read_text()
            if _needs_data(earlier, text):
                _copy_tree(ROOT / "data", src / "data")
            cell_points = points[package]["hidden" if mode == "hidden" else "public"]
            nb = to_nbgrader_notebook(notebooks[package], package, cell_points)
            _write_ipynb(nb, src / f"{package}.ipynb")
            exclude[package] = sorted(p.relative_to(src).as_posix() for p in (src / "exercises").rglob("*.py"))
            stubs = ", ".join(q[:4] for q in earlier)
            log(f"source/{package}: notebook worth {cell_points:g} points, stubs of {stubs}")
        config_path.parent.mkdir(parents=True, exist_ok=True)
        config_path.write_text(_config_text(exclude, mode, independent))
    finally:
        shutil.rmtree(fixtures, ignore_errors=True)
    log(f"wrote {config_path}")
    return out


def release_problems(course):
    """Leaks in release/ of an nbgrader course: what grader.release checks for the student
    repository, plus solution code (the course's and the source notebooks') in released notebooks."""
    from . import release

    course = Path(course)
    problems = []
    rel_root = course / "release"
    if not rel_root.is_dir():
        return [f"{rel_root} does not exist: run nbgrader generate_assignment first"]
    blocks = release.solution_blocks()
    for assignment in sorted(p for p in rel_root.iterdir() if p.is_dir()):
        problems += [f"release/{assignment.name}: {p}" for p in release.check_contents(assignment)]
        source_nb = course / "source" / assignment.name / f"{assignment.name}.ipynb"
        own = []
        if source_nb.is_file():
            for cell in json.loads(source_nb.read_text())["cells"]:
                lines = "".join(cell["source"]).splitlines()
                body, inside = [], False
                for line in lines:
                    m = MARKER.match(line)
                    if m:
                        inside = m.group(2) == "BEGIN"
                        if not inside and body:
                            own.append((f"{source_nb.name} solution cell", release._significant(body)))
                            body = []
                    elif inside:
                        body.append(line)
        for ipynb in sorted(assignment.rglob("*.ipynb")):
            nb = json.loads(ipynb.read_text())
            code = []
            for cell in nb["cells"]:
                if cell["cell_type"] == "code":
                    code += release._significant("".join(cell["source"]).splitlines())
                if cell.get("outputs"):
                    problems.append(f"release/{assignment.name}/{ipynb.name}: a cell has outputs")
            for where, body in blocks + own:
                if body and release._contains_run(code, body):
                    problems.append(f"release/{assignment.name}/{ipynb.name} contains the solution code of {where}")
            text = ipynb.read_text()
            if "test_hidden" in text:
                problems.append(f"release/{assignment.name}/{ipynb.name} names a hidden test")
    return problems


# ================================================================ after autograde: what to flag


def _students(course, assignment):
    submitted = course / "submitted"
    if not submitted.is_dir():
        return []
    return sorted(p.name for p in submitted.iterdir() if (p / assignment).is_dir())


def submission_problems(course, assignments=None):
    """{(assignment, student): why it could not be graded}, for every submitted assignment:
    no autograded notebook (autograde failed or was not run), or a grade cell that did not
    produce a score (the grader could not run, a timeout, a dead kernel, stderr output)."""
    course = Path(course)
    source = course / "source"
    names = assignments or (sorted(p.name for p in source.iterdir() if p.is_dir()) if source.is_dir() else [])
    found = {}
    for assignment in names:
        for student in _students(course, assignment):
            graded = course / "autograded" / student / assignment
            notebooks = sorted(graded.glob("*.ipynb")) if graded.is_dir() else []
            if not notebooks:
                found[(assignment, student)] = ("not autograded (nbgrader autograde failed or was not run; "
                                                "see its log)")
                continue
            for ipynb in notebooks:
                try:
                    nb = json.loads(ipynb.read_text())
                except (OSError, ValueError) as exc:
                    found[(assignment, student)] = f"{ipynb.name} unreadable ({exc})"
                    break
                score, errors, stderr = grade_output(nb)
                if errors:
                    found[(assignment, student)] = f"grade cell failed: {errors[0]}"
                elif stderr:
                    found[(assignment, student)] = "grade cell wrote to stderr (nbgrader scored it 0)"
                elif score is None:
                    found[(assignment, student)] = "grade cell produced no score"
    return found


def verify_scores(course, assignments=None, students=None, log=print):
    """Re-grade every autograded submission outside nbgrader, with the options its grade cell
    used, and compare with the score the notebook recorded: {(assignment, student): message}."""
    course = Path(course)
    config = (course / "nbgrader_config.py").read_text() if (course / "nbgrader_config.py").is_file() else ""
    env = dict(os.environ)
    for key in (ENV_ROOT, ENV_MODE, ENV_INDEPENDENT):
        m = re.search(rf'os\.environ\.setdefault\("{key}", (\'[^\']*\'|"[^"]*")\)', config)
        if m and key not in os.environ:
            env[key] = m.group(1)[1:-1]
    env["NBGRADER_EXECUTION"] = "autograde"
    mismatches = {}
    source = course / "source"
    names = assignments or sorted(p.name for p in source.iterdir() if p.is_dir())
    for assignment in names:
        package = resolve([assignment])[0]
        for student in _students(course, assignment):
            if students and student not in students:
                continue
            folder = course / "autograded" / student / assignment
            nbs = sorted(folder.glob("*.ipynb")) if folder.is_dir() else []
            if not nbs:
                continue
            recorded, errors, _ = grade_output(json.loads(nbs[0].read_text()))
            if recorded is None:
                continue
            root, options = grading_plan(package, folder / "exercises", start_dir=folder, environ=env)
            if not env.get(ENV_ROOT):
                root = folder  # public mode: the assignment's own grader (restored from source/)
            data = run_grader(package, folder / "exercises", root=root, options=options)
            if abs(float(data["score"]) - recorded) > 1e-6:
                mismatches[(assignment, student)] = (f"notebook recorded {recorded:g}, the grader gives "
                                                     f"{float(data['score']):g}")
            log(f"{assignment} {student}: recorded {recorded:g}, re-graded {float(data['score']):g}")
    return mismatches


def _make_export_plugin():
    """nbgrader's CSV export with a status column; flagged submissions get empty score cells."""
    import csv

    from nbgrader.api import MissingEntry
    from nbgrader.plugins import ExportPlugin

    class FlaggedCsvExport(ExportPlugin):
        def export(self, gradebook):
            dest = self.to or "grades.csv"
            coursedir = self.parent.coursedir
            course = Path(coursedir.root)
            flagged = submission_problems(course)
            keys = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
                    "raw_score", "late_submission_penalty", "score", "max_score", "status"]
            students = [str(s) for s in self.student]
            assignments = [str(a) for a in self.assignment]
            n_flagged = 0
            with open(dest, "w", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=keys)
                writer.writeheader()
                for assignment in gradebook.assignments:
                    if assignments and assignment.name not in assignments:
                        continue
                    for student in gradebook.students:
                        if students and student.id not in students:
                            continue
                        row = {"assignment": assignment.name, "duedate": assignment.duedate or "",
                               "student_id": student.id, "last_name": student.last_name or "",
                               "first_name": student.first_name or "", "email": student.email or "",
                               "max_score": assignment.max_score}
                        try:
                            sub = gradebook.find_submission(assignment.name, student.id)
                        except MissingEntry:
                            sub = None
                        problem = flagged.get((assignment.name, student.id))
                        if problem:
                            n_flagged += 1
                            row.update(timestamp=sub.timestamp if sub else "", raw_score="",
                                       late_submission_penalty="", score="", status=f"NOT GRADED: {problem}")
                        elif sub is None:
                            row.update(timestamp="", raw_score=0.0, late_submission_penalty=0.0, score=0.0,
                                       status="no submission")
                        else:
                            penalty = sub.late_submission_penalty or 0.0
                            row.update(timestamp=sub.timestamp or "", raw_score=sub.score,
                                       late_submission_penalty=penalty, score=max(0.0, sub.score - penalty),
                                       status="graded")
                        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
            self.log.info("Exported grades to %s", dest)
            if n_flagged:
                self.log.warning("%d submission(s) could not be graded: their score cells are empty and "
                                 "their status says why (python -m grader.notebook check lists them)", n_flagged)

    FlaggedCsvExport.__module__ = __name__
    return FlaggedCsvExport


def __getattr__(name):  # PEP 562: the export plugin needs nbgrader, created only when asked for
    if name == "FlaggedCsvExport":
        cls = _make_export_plugin()
        globals()[name] = cls
        return cls
    raise AttributeError(name)


# ========================================================================== command line


def _cmd_convert(args):
    notebooks = chapter_notebooks()
    if args.notebooks:
        paths = [Path(p) for p in args.notebooks]
    else:
        paths = list(notebooks.values())
    out = Path(args.out)
    targets = convert(paths, out, force=args.force or args.execute)
    if args.execute:
        failures = 0
        for target in targets:
            print(f"executing {target} ...", flush=True)
            nb = execute(target, submission=args.submission)
            score, errors, stderr = grade_output(nb)
            cell_errors = [f"{o.get('ename')}: {o.get('evalue')}" for c in nb.cells if c.cell_type == "code"
                           for o in c.get("outputs", []) if o.get("output_type") == "error"]
            print(f"  grade cell: {score if score is not None else 'no score'}"
                  + (f"; grade cell errors: {errors}" if errors else "")
                  + ("; stderr in grade cell" if stderr else "")
                  + (f"; {len(cell_errors)} cell(s) raised ({cell_errors[0]} ...)" if cell_errors else ""))
            failures += bool(errors or stderr or score is None)
        return 1 if failures else 0
    return 0


def nbgrader_env():
    """The environment for running nbgrader: its venv's bin/ first on PATH (nbgrader runs the
    ``alembic`` executable by name when it creates the gradebook)."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def run_nbgrader(course, *args, check=True, timeout=3600):
    """``nbgrader ARGS`` in the course directory, with this Python; returns the CompletedProcess."""
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=nbgrader_env(),
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise CourseError(f"nbgrader {' '.join(args)} failed (exit status {proc.returncode}):\n"
                          + "\n".join(proc.stdout.splitlines()[-15:] + proc.stderr.splitlines()[-25:]))
    return proc


def _cmd_course(args):
    out = build_course(args.out, args.chapters, mode=args.mode, independent=not args.no_independent,
                       force=args.force)
    if args.no_generate:
        return 0
    packages = resolve(args.chapters or [])
    for package in packages:
        print(f"nbgrader generate_assignment {package} ...", flush=True)
        run_nbgrader(out, "generate_assignment", package, "--force")
    problems = release_problems(out)
    for p in problems:
        print(p)
    if problems:
        print("THE NBGRADER RELEASE IS NOT FIT FOR STUDENTS")
        return 1
    print(f"release/ checked: no solutions, reference, hidden tests, secret or outputs.\n"
          f"Next: give students {out / 'release'}/<chapter> (or nbgrader release_assignment), collect into "
          f"{out / 'submitted'}/<student>/<chapter>, then in {out}: nbgrader autograde <chapter>, "
          "nbgrader generate_feedback <chapter>, nbgrader export; then python -m grader.notebook check "
          f"{out} (docs/nbgrader.md)")
    return 0


def _cmd_check_release(args):
    problems = release_problems(args.course)
    for p in problems:
        print(p)
    if problems:
        print("THE NBGRADER RELEASE IS NOT FIT FOR STUDENTS")
        return 1
    print("release/ checked: no solutions, reference, hidden tests, secret or outputs")
    return 0


def _cmd_check(args):
    course = Path(args.course)
    problems = submission_problems(course, args.assignment or None)
    if args.verify:
        for key, msg in verify_scores(course, args.assignment or None).items():
            problems.setdefault(key, msg)
    for (assignment, student), msg in sorted(problems.items()):
        print(f"{assignment} {student}: {msg}")
    if problems:
        print(f"{len(problems)} submission(s) need attention: their grades are not to be trusted as they are")
        return 1
    print("every submitted assignment has a score from its grade cell")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m grader.notebook", description="Chapter notebooks and nbgrader.")
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("convert", help="notebooks/*.py (jupytext percent) to .ipynb")
    c.add_argument("notebooks", nargs="*", help="percent-format files (default: every chapter notebook)")
    c.add_argument("--out", default=str(ROOT / "build" / "notebooks"))
    c.add_argument("--force", action="store_true", help="replace existing .ipynb files")
    c.add_argument("--execute", action="store_true", help="run them too (implies --force)")
    c.add_argument("--submission", help="import exercises from this folder when executing (e.g. solutions)")
    c.set_defaults(func=_cmd_convert)
    b = sub.add_parser("course", help="build the nbgrader course directory")
    b.add_argument("--out", default=str(ROOT / "build" / "nbgrader"))
    b.add_argument("--chapters", nargs="*", default=[], help="default: every chapter")
    b.add_argument("--mode", choices=["hidden", "public"], default="hidden")
    b.add_argument("--no-independent", action="store_true", help="grade earlier chapters as submitted")
    b.add_argument("--force", action="store_true", help="replace existing source/ assignments")
    b.add_argument("--no-generate", action="store_true",
                   help="only write source/ and nbgrader_config.py (no nbgrader generate_assignment)")
    b.set_defaults(func=_cmd_course)
    r = sub.add_parser("check-release", help="check release/ of a course for leaks")
    r.add_argument("course")
    r.set_defaults(func=_cmd_check_release)
    k = sub.add_parser("check", help="list submissions that could not be graded (after autograde)")
    k.add_argument("course")
    k.add_argument("--assignment", nargs="*", default=[])
    k.add_argument("--verify", action="store_true", help="re-grade outside nbgrader and compare scores")
    k.set_defaults(func=_cmd_check)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (CourseError, ChapterError, GradingUnavailable) as exc:
        print(f"grader.notebook: {exc}", file=sys.stderr)
        return 2
    except ImportError as exc:
        print(f"grader.notebook: {exc} (install the nbgrader dependency group: nox -s nbgrader-course)",
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
