"""How long grading takes: the floor, each chapter alone, then all chapters, for solutions/
and exercises/.

    python benchmarks/grading_time.py [--repeat 3] [--chapters ch01 ch02 ...] [--only solutions]
                                      [--isolation process] [--memory] [--markdown]

Runs ``python -m grader grade`` as a student would (a fresh process each time, so the
figures include starting Python, pytest and the worker) and reports, per row, the CPU
seconds of the whole process tree (the grader and its worker) and the wall-clock seconds,
the best of ``--repeat`` runs, with the ratio of the CPU time to the floor's.

The floor is what any grading costs before a test runs: Python, numpy and one worker
process started and stopped (``--floor-only`` prints just that row).

The CPU time comes from the kernel's accounting of the grading process and the children it
waited for (``os.wait4``). At the ``process`` isolation level (the default here) the worker
is such a child; a sandboxed worker's time is not reported to the grader, so ``--isolation
sandbox`` gives wall times only (both levels run the same code on the same data). BLAS is
limited to one thread in the worker, so the figures do not depend on the number of cores.
``--memory`` adds the peak resident memory of the largest process of the tree (what a
container running the grader needs, docs/scale.md).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.chapters import all_chapters, chapter_id, resolve  # noqa: E402
from grader.runner import ROOT as GRADER_ROOT, grade_command, grade_env  # noqa: E402

# The floor: Python, numpy, one worker started and stopped (no pytest, no suite, no test).
FLOOR = """
import sys
import numpy
sys.path.insert(0, {root!r})
from grader.sandbox import WorkerClient
worker = WorkerClient({submission!r}, isolation={level!r})
worker.start()
worker.close()
"""


def run_tree(cmd):
    """(wall seconds, CPU seconds of the tree, peak MiB of its largest process, exit code)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=str(GRADER_ROOT),
        env=grade_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode("utf-8", "replace")
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed:\n{err}")
    # wait4 reports the child with its waited-for descendants; ru_maxrss is in KiB on Linux.
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def best_of(cmd, repeat):
    runs = [run_tree(cmd) for _ in range(repeat)]
    return min(r[0] for r in runs), min(r[1] for r in runs), max(r[2] for r in runs)


def floor_command(level):
    code = FLOOR.format(root=str(ROOT), submission=str(ROOT / "exercises"), level=level)
    return [sys.executable, "-c", code]


def grade_cmd(chapters, submission, level):
    return grade_command(chapters, ROOT / submission, options=["--isolation", level])


def main():
    from rich.console import Console
    from rich.table import Table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chapters", nargs="*", default=None)
    parser.add_argument(
        "--only", choices=["solutions", "exercises"], help="time one submission only"
    )
    parser.add_argument(
        "--isolation",
        default="process",
        choices=["process", "user", "sandbox"],
        help="the worker's isolation level (CPU time is only seen at the process level)",
    )
    parser.add_argument("--memory", action="store_true", help="also the peak memory (MiB)")
    parser.add_argument("--no-all", action="store_true", help="leave out the all-chapters rows")
    parser.add_argument("--floor-only", action="store_true", help="time the floor only")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    level = args.isolation
    cpu_seen = level == "process"
    chapters = resolve(args.chapters) if args.chapters else all_chapters()
    subs = [args.only] if args.only else ["solutions", "exercises"]

    floor_wall, floor_cpu, _ = best_of(floor_command(level), max(args.repeat, 3))

    def cells(wall, cpu, peak):
        out = [f"{cpu:.2f}" if cpu_seen else "-", f"{wall:.2f}"]
        out.append(f"{cpu / floor_cpu:.1f}x" if cpu_seen else f"{wall / floor_wall:.1f}x")
        if args.memory:
            out.append(f"{peak:.0f}")
        return out

    header = ["chapters"]
    for sub in subs:
        name = "solutions/" if sub == "solutions" else "exercises/ (stubs)"
        header += [f"{name} CPU s", "wall s", "/ floor"]
        if args.memory:
            header.append("peak MiB")
    rows = [["floor (Python, numpy, one worker)", *cells(floor_wall, floor_cpu, 0)]]
    if args.floor_only:
        subs = []
    else:
        groups = [[chapter_id(c)] for c in chapters]
        if not args.no_all and len(chapters) > 1:
            groups.append([chapter_id(c) for c in chapters])
        for ids in groups:
            label = ids[0] if len(ids) == 1 else f"all {len(ids)} ({ids[0]}-{ids[-1]})"
            row = [label]
            for sub in subs:
                row += cells(*best_of(grade_cmd(ids, sub, level), args.repeat))
            rows.append(row)
            print(" | ".join(row), file=sys.stderr, flush=True)
    if subs == []:
        header = ["", "CPU s", "wall s", "/ floor", *(["peak MiB"] if args.memory else [])]
        rows = [r[: len(header)] for r in rows]
    title = (
        f"python -m grader grade, isolation {level}: best of {args.repeat} runs "
        f"({'CPU s of grader + worker, ' if cpu_seen else ''}wall s; ratio of "
        f"{'CPU' if cpu_seen else 'wall'} time to the floor's)"
    )
    if args.markdown:
        print(title + "\n")
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" + "---:|" * (len(header) - 1))
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    table = Table(title=title)
    for i, name in enumerate(header):
        table.add_column(name, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*row)
    Console().print(table)


if __name__ == "__main__":
    main()
