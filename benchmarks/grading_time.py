"""How long grading takes: each chapter alone, then all chapters, for solutions/ and exercises/.

    python benchmarks/grading_time.py [--repeat 3] [--chapters ch01 ch02 ...] [--memory] [--only solutions]

Runs ``python -m grader grade`` as a student would (a fresh process each time, so the
figures include starting Python, pytest and the worker) and reports the best and the
median wall-clock time of ``--repeat`` runs. BLAS is limited to one thread in the
worker, so the figures do not depend on the number of cores. ``--memory`` adds the peak
resident memory of the grading process tree (the largest process: the grader or a worker,
from the kernel's accounting at exit) and the CPU seconds it used, measured in a separate run
at the `process` isolation level: what a container running the grader needs (docs/scale.md).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.chapters import all_chapters, chapter_id, resolve  # noqa: E402
from grader.runner import ROOT as GRADER_ROOT, grade_command, grade_env, grade_subprocess  # noqa: E402


def time_grade(chapters, submission, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        proc = grade_subprocess(chapters, ROOT / submission)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"grading {' '.join(chapters)} of {submission} failed:\n{proc.stderr}")
    return min(times), statistics.median(times)


def measure_grade(chapters, submission):
    """(seconds, peak MiB of the largest process in the tree, CPU seconds of the tree) of one run."""
    start = time.perf_counter()
    # At the `process` level the worker is a child the grader waits for, so its memory and CPU
    # time reach this process's accounting (the sandbox's processes do not); both levels run the
    # same code on the same data.
    cmd = grade_command(chapters, ROOT / submission, options=["--isolation", "process"])
    proc = subprocess.Popen(
        cmd,
        cwd=str(GRADER_ROOT),
        env=grade_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(
            f"grading {' '.join(chapters)} of {submission} failed:\n{proc.stderr.read().decode()}"
        )
    # wait4 reports the child with its waited-for descendants; ru_maxrss is in KiB on Linux.
    return seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def main():
    from rich.console import Console
    from rich.table import Table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chapters", nargs="*", default=None)
    parser.add_argument(
        "--memory", action="store_true", help="also peak memory and CPU seconds (one run)"
    )
    parser.add_argument(
        "--only", choices=["solutions", "exercises"], help="time one submission only"
    )
    args = parser.parse_args()
    chapters = resolve(args.chapters) if args.chapters else all_chapters()
    subs = [args.only] if args.only else ["solutions", "exercises"]
    table = Table(title=f"python -m grader grade (best / median of {args.repeat} runs, seconds)")
    table.add_column("chapters")
    for sub in subs:
        table.add_column(f"{sub}/" if sub == "solutions" else "exercises/ (stubs)", justify="right")
    if args.memory:
        table.add_column("solutions/: peak MiB, CPU s", justify="right")
    rows = [[chapter_id(c)] for c in chapters] + [[chapter_id(c) for c in chapters]]
    for ids in rows:
        label = ids[0] if len(ids) == 1 else f"all ({ids[0]}-{ids[-1]})"
        cells = []
        for sub in subs:
            best, median = time_grade(ids, sub, args.repeat)
            cells.append(f"{best:.1f} / {median:.1f}")
        if args.memory:
            _, peak, cpu = measure_grade(ids, "solutions")
            cells.append(f"{peak:.0f}, {cpu:.1f}")
        table.add_row(label, *cells)
    Console().print(table)


if __name__ == "__main__":
    main()
