"""The nbgrader course built from the repository, and the checks around nbgrader's cycle.

    python -m grader.workflows.nbgrader course --out build/nbgrader [--chapters ch01 ch02] [--mode hidden|public]
    python -m grader.workflows.nbgrader check-release COURSE
    python -m grader.workflows.nbgrader check COURSE [--assignment NAME ...] [--verify]

``course`` writes an nbgrader course directory (source/ assignments, nbgrader_config.py)
and runs ``nbgrader generate_assignment``; ``check-release`` proves the released
assignments leak nothing; ``check`` (after ``nbgrader autograde``) lists the submissions
whose grade cell did not produce a score, and ``--verify`` re-grades them outside nbgrader.
``FlaggedCsvExport`` (an nbgrader export plugin, named in the generated configuration) is
created on first access. See docs/nbgrader.md. Needs ``nbgrader`` and ``jupytext``.
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
from pathlib import Path

from ..chapters import (
    IGNORED_PARTS,
    ROOT,
    SUITES,
    ChapterError,
    chapter_id,
    chapters_up_to,
    resolve,
)
from ..jupyter import CELL_TIMEOUT, chapter_notebooks, grade_output, to_notebook, write_ipynb
from ..notebook import (
    ENV_INDEPENDENT,
    ENV_MODE,
    ENV_ROOT,
    GradingUnavailable,
    grading_plan,
    run_grader,
)
from ..runner import UsageError, record_fixtures
from . import release, stubgen
from .notebooks import notebook_problems
from .stubgen import MARKER

GRADE_ID = "{chapter}-grade"
# What the generated configuration points nbgrader's export at (this module's import name,
# also when it runs as ``python -m``).
EXPORT_PLUGIN = "grader.workflows.nbgrader.FlaggedCsvExport"


def _nbgrader_meta(
    grade_id, *, solution=False, grade=False, locked=False, points=None, cell_type="code"
):
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
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
            cell.metadata["nbgrader"] = _nbgrader_meta(
                f"{cid}-text-{i:02d}", locked=True, cell_type="markdown"
            )
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
            cell.metadata["nbgrader"] = _nbgrader_meta(
                GRADE_ID.format(chapter=cid), grade=True, locked=True, points=float(points)
            )
            cell.metadata["deletable"] = False
            cell.metadata["editable"] = False
        elif code_seen == 1:
            cell.metadata["nbgrader"] = _nbgrader_meta(f"{cid}-setup", locked=True)
            cell.metadata["deletable"] = False
            cell.metadata["editable"] = False
        elif any(MARKER.match(ln) for ln in cell.source.splitlines()):
            cell.metadata["nbgrader"] = _nbgrader_meta(f"{cid}-answer-{i:02d}", solution=True)
    return nb


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
    tmp = Path(tempfile.mkdtemp(prefix="nb-fixtures-"))
    log(
        f"recording fixtures and counting points on solutions/ for {', '.join(chapter_id(p) for p in packages)} ..."
    )
    try:
        records = record_fixtures(packages, tmp)
    except UsageError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise CourseError(str(exc)) from None
    points = {p: {"hidden": 0.0, "public": 0.0} for p in packages}
    for rec in records:
        points[rec["package"]]["hidden"] += rec["max_score"]
        if not rec["hidden"]:
            points[rec["package"]]["public"] += rec["max_score"]
    return points, tmp


class CourseError(UsageError):
    pass


CONFIG_TEMPLATE = """\
# nbgrader configuration of the course, generated by `nox -s nbgrader-course`
# (python -m grader.workflows.nbgrader course). Rebuild rather than edit.
import os
import sys

c = get_config()  # noqa: F821
HERE = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.root = HERE
c.CourseDirectory.course_id = "nn-from-scratch"
c.CourseDirectory.ignore = {ignore!r}

# The course's repository (its grader, and in hidden mode its reference), relative to this
# folder: move or copy them together and this keeps working. ${env_root} overrides it.
REPOSITORY_RELATIVE = {rel!r}
REPOSITORY = os.environ.get("{env_root}") or os.path.normpath(os.path.join(HERE, REPOSITORY_RELATIVE))

# A grade cell runs the grader in its own process: allow it time (the grader stops first).
c.Execute.timeout = {cell_timeout}

# The student's modules are what is graded: autograde must keep the submitted .py files
# instead of copying the stubs of source/ over them (every other file is restored).
c.Autograde.exclude_overwriting = {exclude}

# Grade cells: {mode_comment}
{grader_env}
# `nbgrader export` writes grades.csv with a status column: submissions that could not be
# graded are flagged and their score cells left empty instead of showing 0.
if REPOSITORY not in sys.path:
    sys.path.insert(0, REPOSITORY)
c.ExportApp.plugin_class = {export_plugin!r}
"""


def config_text(exclude, mode, independent, course_dir):
    if mode == "hidden":
        env = (
            f'os.environ.setdefault("{ENV_ROOT}", REPOSITORY)\n'
            f'os.environ.setdefault("{ENV_MODE}", "hidden")\n'
            f'os.environ.setdefault("{ENV_INDEPENDENT}", "{1 if independent else 0}")\n'
        )
        comment = (
            "the instructor's repository grades (hidden mode: live reference, held-back tests,\n"
            "# inputs seeded per student when the course secret exists). "
            + (
                "Earlier chapters are graded with the\n# course's solutions (--independent), so an "
                "earlier bug is not charged again."
                if independent
                else "Earlier chapters are the\n# student's own (no --independent)."
            )
        )
    else:
        env = f'os.environ.pop("{ENV_ROOT}", None)\n'
        comment = (
            "the grader shipped in each assignment grades (public mode, recorded fixtures),\n"
            "# restored from source/ at autograde so that a student cannot change it."
        )
    ignore = [*sorted(IGNORED_PARTS), "*.pyc", "feedback"]
    exclude_text = json.dumps(exclude, indent=4).replace("\n", "\n")
    rel = Path(os.path.relpath(ROOT, Path(course_dir).resolve())).as_posix()
    return CONFIG_TEMPLATE.format(
        rel=rel,
        env_root=ENV_ROOT,
        ignore=ignore,
        cell_timeout=CELL_TIMEOUT,
        exclude=exclude_text,
        mode_comment=comment,
        grader_env=env,
        export_plugin=EXPORT_PLUGIN,
    )


def config_environment(course, environ=None):
    """The grading variables the course's nbgrader_config.py sets (for a re-grade outside
    nbgrader), resolved against the course folder; ``environ`` values win."""
    course = Path(course)
    environ = os.environ if environ is None else environ
    path = course / "nbgrader_config.py"
    config = path.read_text() if path.is_file() else ""
    values = {}
    for key in (ENV_MODE, ENV_INDEPENDENT):
        m = re.search(rf'os\.environ\.setdefault\("{key}", (\'[^\']*\'|"[^"]*")\)', config)
        if m:
            values[key] = m.group(1)[1:-1]
    m = re.search(r"^REPOSITORY_RELATIVE = (\'[^\']*\'|\"[^\"]*\")", config, re.M)
    if m and f'os.environ.setdefault("{ENV_ROOT}", REPOSITORY)' in config:
        values[ENV_ROOT] = os.path.normpath(course.resolve() / m.group(1)[1:-1])
    return {k: v for k, v in values.items() if k not in environ}


def build_course(out, chapters=None, *, mode="hidden", independent=True, force=False, log=print):
    """Write an nbgrader course directory: nbgrader_config.py and source/<chapter package>/
    with the notebook (.ipynb with nbgrader metadata), the stubs of every chapter up to it
    (exercises/, generated from solutions/, never the solutions), the public grader with
    its fixtures for those chapters, and data/ when the chapter uses it."""
    if mode not in ("hidden", "public"):
        raise CourseError(f"unknown mode {mode!r}")
    out = Path(out).resolve()
    if out == ROOT or ROOT in out.parents and out.relative_to(ROOT).parts[0] not in ("build",):
        raise CourseError(
            f"refusing to build the course inside the repository at {out} (use build/...)"
        )
    notebooks = chapter_notebooks()
    packages = resolve(chapters or [])
    missing = [p for p in packages if p not in notebooks]
    if missing:
        raise CourseError(f"no notebook for {', '.join(missing)} (expected notebooks/<package>.py)")
    problems = [msg for p in packages for msg in notebook_problems(notebooks[p], p)]
    if problems:
        raise CourseError("; ".join(problems))
    needed = sorted({q for p in packages for q in chapters_up_to(p)})
    drift = [
        d
        for d in stubgen.check(ROOT / "solutions", ROOT / "exercises")
        if any(f"exercises/{q}/" in d for q in needed) or "exercises/__init__" in d
    ]
    if drift:
        raise CourseError(
            f"exercises/ is out of date with solutions/ ({drift[0]}): run `nox -s stubs` first"
        )
    existing = [p for p in packages if (out / "source" / p).exists()]
    if existing and not force:
        raise CourseError(
            f"{out}/source already has {', '.join(existing)} (--force replaces them; "
            "released assignments should not change)"
        )
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
            earlier = chapters_up_to(package)
            (src / "exercises").mkdir()
            shutil.copy2(ROOT / "exercises" / "__init__.py", src / "exercises" / "__init__.py")
            for q in earlier:
                release.copy_tree(ROOT / "exercises" / q, src / "exercises" / q)
            for path in sorted((src / "exercises").rglob("*.py")):  # as in the student release
                rel = path.relative_to(src / "exercises")
                path.write_text(release.student_stub_text(path.read_text(), rel))
            release.copy_public_grader(src / "grader", earlier)
            (src / "docs").mkdir()
            for name in release.STUDENT_DOCS:  # the chapter texts refer to them
                shutil.copy2(ROOT / "docs" / name, src / "docs" / name)
            (src / "grader" / "fixtures").mkdir(exist_ok=True)
            for q in earlier:
                if (fixtures / f"{q}.json").is_file():
                    shutil.copy2(fixtures / f"{q}.json", src / "grader" / "fixtures" / f"{q}.json")
            text = notebooks[package].read_text()
            if _needs_data(earlier, text):
                release.copy_tree(ROOT / "data", src / "data")
                release.add_mnist_arrays(src / "data")
            cell_points = points[package]["hidden" if mode == "hidden" else "public"]
            nb = to_nbgrader_notebook(notebooks[package], package, cell_points)
            write_ipynb(nb, src / f"{package}.ipynb")
            exclude[package] = sorted(
                p.relative_to(src).as_posix() for p in (src / "exercises").rglob("*.py")
            )
            stubs = ", ".join(q[:4] for q in earlier)
            log(f"source/{package}: notebook worth {cell_points:g} points, stubs of {stubs}")
        config_path.parent.mkdir(parents=True, exist_ok=True)
        config_path.write_text(config_text(exclude, mode, independent, out))
    finally:
        shutil.rmtree(fixtures, ignore_errors=True)
    log(f"wrote {config_path}")
    return out


def release_problems(course):
    """Leaks in release/ of an nbgrader course: what the student repository's release is
    checked for, plus solution code (the course's and the source notebooks') in released notebooks."""
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
                own += [
                    (f"{source_nb.name} solution cell", release.significant_lines(body))
                    for _, body in stubgen.marked_blocks(lines)
                    if body
                ]
        for ipynb in sorted(assignment.rglob("*.ipynb")):
            nb = json.loads(ipynb.read_text())
            code = []
            for cell in nb["cells"]:
                if cell["cell_type"] == "code":
                    code += release.significant_lines("".join(cell["source"]).splitlines())
                if cell.get("outputs"):
                    problems.append(f"release/{assignment.name}/{ipynb.name}: a cell has outputs")
            for where, body in blocks + own:
                if body and release.contains_run(code, body):
                    problems.append(
                        f"release/{assignment.name}/{ipynb.name} contains the solution code of {where}"
                    )
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
    names = assignments or (
        sorted(p.name for p in source.iterdir() if p.is_dir()) if source.is_dir() else []
    )
    found = {}
    for assignment in names:
        for student in _students(course, assignment):
            graded = course / "autograded" / student / assignment
            notebooks = sorted(graded.glob("*.ipynb")) if graded.is_dir() else []
            if not notebooks:
                found[(assignment, student)] = (
                    "not autograded (nbgrader autograde failed or was not run; see its log)"
                )
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
                    found[(assignment, student)] = (
                        "grade cell wrote to stderr (nbgrader scored it 0)"
                    )
                elif score is None:
                    found[(assignment, student)] = "grade cell produced no score"
    return found


VERIFIED = "verified.json"


def verify_scores(course, assignments=None, students=None, log=print):
    """Re-grade every autograded submission outside nbgrader, in the sandbox, with the
    options its grade cell used, and compare with the score the notebook recorded (the
    kernel that ran the grade cell is the student's and is not sandboxed, so its number is
    never the source of truth). Writes COURSE/verified.json, which the CSV export reads, and
    returns {(assignment, student): message} for every submission that does not match."""
    course = Path(course)
    env = dict(os.environ)
    env.update(config_environment(course))
    env["NBGRADER_EXECUTION"] = "autograde"
    mismatches = {}
    verified = _read_verified(course)
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
            root, options = grading_plan(
                package, folder / "exercises", start_dir=folder, environ=env
            )
            if not env.get(ENV_ROOT):
                root = folder  # public mode: the assignment's own grader (restored from source/)
            # The strongest isolation this machine has; the re-grade is refused without one.
            data = run_grader(
                package,
                folder / "exercises",
                root=root,
                options=[*options, "--isolation", "auto"],
                environ=env,
            )
            regraded = float(data["score"])
            where = str(data.get("isolation", ""))
            entry = {"recorded": recorded, "regraded": regraded, "isolation": where, "ok": True}
            if not where.startswith(("sandbox", "user")):
                entry["ok"] = False
                mismatches[(assignment, student)] = (
                    f"not verified: the re-grade ran without a sandbox ({where}); "
                    "install bubblewrap (docs/sandbox.md)"
                )
            elif abs(regraded - recorded) > 1e-6:
                entry["ok"] = False
                mismatches[(assignment, student)] = (
                    f"notebook recorded {recorded:g}, the grader gives "
                    f"{regraded:g} (re-graded in the sandbox)"
                )
            verified.setdefault(assignment, {})[student] = entry
            log(
                f"{assignment} {student}: recorded {recorded:g}, re-graded {regraded:g} ({where.split(':')[0]})"
            )
    tmp = course / f".{VERIFIED}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(verified, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, course / VERIFIED)
    return mismatches


def _read_verified(course):
    try:
        data = json.loads((Path(course) / VERIFIED).read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def verification_problems(course):
    """{(assignment, student): why} for submissions whose last verification failed."""
    out = {}
    for assignment, per_student in _read_verified(course).items():
        for student, entry in (per_student or {}).items():
            if isinstance(entry, dict) and not entry.get("ok", False):
                out[(assignment, student)] = (
                    f"the notebook recorded {entry.get('recorded')}, the sandboxed "
                    f"re-grade gives {entry.get('regraded')} "
                    f"({str(entry.get('isolation', '')).split(':')[0] or 'no sandbox'})"
                )
    return out


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
            verified = _read_verified(course)
            for key, why in verification_problems(course).items():
                flagged.setdefault(key, f"verify: {why}")
            keys = [
                "assignment",
                "duedate",
                "timestamp",
                "student_id",
                "last_name",
                "first_name",
                "email",
                "raw_score",
                "late_submission_penalty",
                "score",
                "max_score",
                "status",
                "verified",
            ]
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
                        row = {
                            "assignment": assignment.name,
                            "duedate": assignment.duedate or "",
                            "student_id": student.id,
                            "last_name": student.last_name or "",
                            "first_name": student.first_name or "",
                            "email": student.email or "",
                            "max_score": assignment.max_score,
                        }
                        try:
                            sub = gradebook.find_submission(assignment.name, student.id)
                        except MissingEntry:
                            sub = None
                        problem = flagged.get((assignment.name, student.id))
                        check = verified.get(assignment.name, {}).get(student.id)
                        row["verified"] = (
                            ""
                            if not isinstance(check, dict)
                            else "yes, re-graded in "
                            + str(check.get("isolation", "")).split(":")[0]
                            if check.get("ok")
                            else "MISMATCH"
                        )
                        if problem:
                            n_flagged += 1
                            row.update(
                                timestamp=sub.timestamp if sub else "",
                                raw_score="",
                                late_submission_penalty="",
                                score="",
                                status=f"NOT GRADED: {problem}",
                            )
                        elif sub is None:
                            row.update(
                                timestamp="",
                                raw_score=0.0,
                                late_submission_penalty=0.0,
                                score=0.0,
                                status="no submission",
                            )
                        else:
                            penalty = sub.late_submission_penalty or 0.0
                            row.update(
                                timestamp=sub.timestamp or "",
                                raw_score=sub.score,
                                late_submission_penalty=penalty,
                                score=max(0.0, sub.score - penalty),
                                status="graded",
                            )
                        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
            self.log.info("Exported grades to %s", dest)
            if n_flagged:
                self.log.warning(
                    "%d submission(s) could not be graded: their score cells are empty and "
                    "their status says why (python -m grader.workflows.nbgrader check lists "
                    "them)",
                    n_flagged,
                )

    FlaggedCsvExport.__module__ = __name__
    return FlaggedCsvExport


def __getattr__(name):  # PEP 562: the export plugin needs nbgrader, created only when asked for
    if name == "FlaggedCsvExport":
        cls = _make_export_plugin()
        globals()[name] = cls
        return cls
    raise AttributeError(name)


def nbgrader_env():
    """The environment for running nbgrader: its venv's bin/ first on PATH (nbgrader runs the
    ``alembic`` executable by name when it creates the gradebook)."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def run_nbgrader(course, *args, check=True, timeout=3600):
    """``nbgrader ARGS`` in the course directory, with this Python; returns the CompletedProcess."""
    proc = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course,
        env=nbgrader_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise CourseError(
            f"nbgrader {' '.join(args)} failed (exit status {proc.returncode}):\n"
            + "\n".join(proc.stdout.splitlines()[-15:] + proc.stderr.splitlines()[-25:])
        )
    return proc


def _cmd_course(args):
    out = build_course(
        args.out,
        args.chapters,
        mode=args.mode,
        independent=not args.no_independent,
        force=args.force,
    )
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
    print(
        f"release/ checked: no solutions, reference, hidden tests, secret or outputs.\n"
        f"Next: give students {out / 'release'}/<chapter> (or nbgrader release_assignment), collect into "
        f"{out / 'submitted'}/<student>/<chapter>, then in {out}: nbgrader autograde <chapter>, "
        "nbgrader generate_feedback <chapter>, nbgrader export; then python -m grader.workflows.nbgrader check "
        f"{out} (docs/nbgrader.md)"
    )
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
        print(
            f"{len(problems)} submission(s) need attention: their grades are not to be trusted as they are"
        )
        return 1
    print("every submitted assignment has a score from its grade cell")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m grader.workflows.nbgrader",
        description="The nbgrader course of the chapter notebooks.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("course", help="build the nbgrader course directory")
    b.add_argument("--out", default=str(ROOT / "build" / "nbgrader"))
    b.add_argument("--chapters", nargs="*", default=[], help="default: every chapter")
    b.add_argument("--mode", choices=["hidden", "public"], default="hidden")
    b.add_argument(
        "--no-independent", action="store_true", help="grade earlier chapters as submitted"
    )
    b.add_argument("--force", action="store_true", help="replace existing source/ assignments")
    b.add_argument(
        "--no-generate",
        action="store_true",
        help="only write source/ and nbgrader_config.py (no nbgrader generate_assignment)",
    )
    b.set_defaults(func=_cmd_course)
    r = sub.add_parser("check-release", help="check release/ of a course for leaks")
    r.add_argument("course")
    r.set_defaults(func=_cmd_check_release)
    k = sub.add_parser("check", help="list submissions that could not be graded (after autograde)")
    k.add_argument("course")
    k.add_argument("--assignment", nargs="*", default=[])
    k.add_argument(
        "--verify", action="store_true", help="re-grade outside nbgrader and compare scores"
    )
    k.set_defaults(func=_cmd_check)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (CourseError, ChapterError, GradingUnavailable) as exc:
        print(f"grader.workflows.nbgrader: {exc}", file=sys.stderr)
        return 2
    except ImportError as exc:
        print(
            f"grader.workflows.nbgrader: {exc} (install the nbgrader dependency group: nox -s nbgrader-course)",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
