"""What ``autograde`` costs per submission, beside ``nbgrader autograde`` on a class of the same
size, and how ``--jobs 2`` scales against ``--jobs 1``.

    python benchmarks/autograde_cost.py [--students 6] [--chapters ch01 ...]
                                        [--nbgrader-python .nox/nbgrader/bin/python]
                                        [--jobs-students 4] [--jobs-chapters ch01 ch02 ch03]

1. *autograde, per submission*: two classes of ``--students`` submissions whose code
   computes nothing, so that what is measured is grading's own cost (starting the grading
   process, pytest, the workers, the reference's expected values, the gradebook and the
   feedback): copies of the untouched stubs (``exercises/``: chapters not started, which the
   grader fails without running their tests), and copies of the stubs with every TODO
   returning zeros (started chapters that compute nothing: every test runs; the do-nothing
   submission of tests/test_do_nothing.py). Each class is graded by ``autograde.run`` (what
   ``python -m grader autograde`` runs, with its defaults: hidden mode, per-student seeds,
   chapter independence), once for one chapter and once for ``--chapters`` (default all).
   The worker runs at the ``process`` isolation level here, so that the kernel's accounting
   of the waited-for children (``getrusage``) includes its CPU time; a sandboxed worker's is
   not reported to the grader (grading_time.py shows the sandbox's wall time).
2. *nbgrader autograde, per submission*: the same number of students, each with one trivial
   notebook (one answer cell, one autograded test cell), graded by ``nbgrader autograde`` in
   the nbgrader environment (``nox -s nbgrader-test`` creates it); its kernels are children
   of the nbgrader process, so their CPU time is counted. Skipped, with a note, when that
   environment is missing.
3. *--jobs*: ``--jobs-students`` copies of ``solutions/`` graded on ``--jobs-chapters`` with
   ``--jobs 1`` and then ``--jobs 2`` (wall-clock time; the ratio is the speed-up).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.chapters import all_chapters, chapter_id, resolve  # noqa: E402
from grader.runner import grade_env  # noqa: E402

SECRET = "autograde-benchmark-secret"

# Builds an nbgrader course with one trivial assignment and ``n`` submissions of it.
NBGRADER_SETUP = r"""
import sys, shutil, subprocess
from pathlib import Path
import nbformat
from nbformat.v4 import new_notebook, new_code_cell
course, n = Path(sys.argv[1]), int(sys.argv[2])
(course / "source" / "ps1").mkdir(parents=True)
(course / "nbgrader_config.py").write_text(
    "c = get_config()\n"
    "c.CourseDirectory.root = %r\n"
    "c.CourseDirectory.course_id = 'bench'\n"
    "c.CourseDirectory.db_assignments = [dict(name='ps1')]\n"
    "c.CourseDirectory.db_students = [%s]\n"
    % (str(course), ", ".join("dict(id='s%02d')" % i for i in range(n)))
)
answer = new_code_cell(
    "def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION",
    metadata={"nbgrader": {"grade": False, "solution": True, "locked": False,
                           "grade_id": "answer", "schema_version": 3}},
)
test = new_code_cell(
    "assert add(1, 2) == 3",
    metadata={"nbgrader": {"grade": True, "solution": False, "locked": True, "points": 1,
                           "grade_id": "test", "schema_version": 3}},
)
nb = new_notebook(cells=[answer, test])
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nbformat.write(nb, str(course / "source" / "ps1" / "ps1.ipynb"))
subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "ps1", "--force"],
               cwd=course, check=True, capture_output=True)
for i in range(n):
    dest = course / "submitted" / ("s%02d" % i) / "ps1"
    dest.mkdir(parents=True)
    shutil.copy(course / "release" / "ps1" / "ps1.ipynb", dest / "ps1.ipynb")
"""


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def make_class(folder: Path, source: Path, n: int):
    folder.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for i in range(n):
        shutil.copytree(source, folder / f"student{i:02d}", ignore=ignore)
    return folder


def autograde_run(class_dir: Path, out: Path, chapters, jobs, level):
    """(wall s, CPU s of this process and its children) of one autograde run."""
    from grader.workflows import autograde

    cpu0 = time.process_time() + children_cpu()
    start = time.perf_counter()
    summary = autograde.run(
        class_dir,
        out,
        chapters,
        jobs=jobs,
        secret=SECRET,
        timeout=1800,
        independent=True,
        call_timeout=10.0,
        isolation_level=level,
        allow_weak_isolation=level != "sandbox",
        log=lambda *a, **k: None,
    )
    wall = time.perf_counter() - start
    cpu = time.process_time() + children_cpu() - cpu0
    bad = [st for st in summary["states"].values() if st.get("status") != "graded"]
    if bad:
        raise SystemExit(f"autograde did not grade every submission: {bad[:2]}")
    return wall, cpu


def nbgrader_run(python: Path, tmp: Path, n: int):
    """(wall s, CPU s) of ``nbgrader autograde`` on ``n`` one-notebook submissions."""
    course = tmp / "nbgrader-course"
    env = dict(os.environ, PATH=str(python.parent) + os.pathsep + os.environ.get("PATH", ""))
    subprocess.run(
        [str(python), "-c", NBGRADER_SETUP, str(course), str(n)], check=True, env=env, cwd=tmp
    )
    start = time.perf_counter()
    proc = subprocess.Popen(
        [str(python), "-m", "nbgrader", "autograde", "ps1", "--force"],
        cwd=course,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode("utf-8", "replace")
    proc.stderr.close()
    graded = list((course / "autograded").glob("*/ps1/ps1.ipynb"))
    if os.waitstatus_to_exitcode(status) != 0 or len(graded) != n:
        raise SystemExit(f"nbgrader autograde failed ({len(graded)} of {n} graded):\n{err[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=6)
    parser.add_argument("--chapters", nargs="*", default=None)
    parser.add_argument(
        "--nbgrader-python", default=str(ROOT / ".nox" / "nbgrader" / "bin" / "python")
    )
    parser.add_argument("--jobs-students", type=int, default=4)
    parser.add_argument("--jobs-chapters", nargs="*", default=["ch01", "ch02", "ch03", "ch04"])
    parser.add_argument("--skip-jobs", action="store_true", help="leave out the --jobs comparison")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.update({k: v for k, v in grade_env().items() if k == "PYTHONDONTWRITEBYTECODE"})
    chapters = resolve(args.chapters) if args.chapters else all_chapters()
    n = args.students
    lines = []

    def say(text):
        print(text, flush=True)
        lines.append(text)

    with tempfile.TemporaryDirectory(prefix="autograde-bench-") as tmp:
        tmp = Path(tmp)
        from tests.test_do_nothing import make_do_nothing

        make_do_nothing(ROOT / "exercises", tmp / "zeros-source", "zeros")
        classes = (
            (
                "untouched stubs (chapters not started)",
                make_class(tmp / "stubs", ROOT / "exercises", n),
            ),
            (
                "stubs returning zeros (every test runs)",
                make_class(tmp / "zeros", tmp / "zeros-source", n),
            ),
        )
        for name, class_dir in classes:
            say(f"autograde, {n} submissions of {name} (process isolation, --jobs 1):")
            for label, chs in (
                ("1 chapter (" + chapter_id(chapters[0]) + ")", chapters[:1]),
                (f"{len(chapters)} chapters", chapters),
            ):
                out = tmp / f"out-{class_dir.name}-{len(chs)}"
                wall, cpu = autograde_run(class_dir, out, chs, 1, "process")
                say(
                    f"  {label:<16} {cpu / n:6.2f} CPU s and {wall / n:6.2f} wall s per submission"
                    f" ({cpu / n / len(chs):.2f} CPU s per chapter)"
                )
        python = Path(args.nbgrader_python)
        if python.exists():
            wall, cpu = nbgrader_run(python, tmp, n)
            say(
                f"nbgrader autograde, {n} submissions of one trivial notebook (one test cell):\n"
                f"  1 notebook       {cpu / n:6.2f} CPU s and {wall / n:6.2f} wall s per submission"
            )
        else:
            say(f"nbgrader autograde: skipped ({python} is missing: run nox -s nbgrader-test once)")
        if not args.skip_jobs:
            m, chs = args.jobs_students, resolve(args.jobs_chapters)
            full = make_class(tmp / "full", ROOT / "solutions", m)
            walls = {}
            for jobs in (1, 2):
                walls[jobs], _ = autograde_run(full, tmp / f"jobs-{jobs}", chs, jobs, "sandbox")
            ids = " ".join(chapter_id(c) for c in chs)
            say(
                f"autograde --jobs, {m} copies of solutions/ on {ids} (sandbox):\n"
                f"  --jobs 1 {walls[1]:.1f} s, --jobs 2 {walls[2]:.1f} s wall: "
                f"{walls[1] / walls[2]:.2f}x faster on {os.cpu_count()} cores"
            )


if __name__ == "__main__":
    main()
