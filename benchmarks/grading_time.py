"""How long grading takes: each chapter alone, then all chapters, for solutions/ and exercises/.

    python benchmarks/grading_time.py [--repeat 3] [--chapters ch01 ch02 ...]

Runs ``python -m grader grade`` as a student would (a fresh process each time, so the
figures include starting Python, pytest and the worker) and reports the best and the
median wall-clock time of ``--repeat`` runs. BLAS is limited to one thread in the
worker, so the figures do not depend on the number of cores.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.chapters import all_chapters, chapter_id, resolve  # noqa: E402
from grader.runner import grade_subprocess  # noqa: E402


def time_grade(chapters, submission, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        proc = grade_subprocess(chapters, ROOT / submission)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"grading {' '.join(chapters)} of {submission} failed:\n{proc.stderr}")
    return min(times), statistics.median(times)


def main():
    from rich.console import Console
    from rich.table import Table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chapters", nargs="*", default=None)
    args = parser.parse_args()
    chapters = resolve(args.chapters) if args.chapters else all_chapters()
    table = Table(title=f"python -m grader grade (best / median of {args.repeat} runs, seconds)")
    table.add_column("chapters")
    table.add_column("solutions/", justify="right")
    table.add_column("exercises/ (stubs)", justify="right")
    rows = [[chapter_id(c)] for c in chapters] + [[chapter_id(c) for c in chapters]]
    for ids in rows:
        label = ids[0] if len(ids) == 1 else f"all ({ids[0]}-{ids[-1]})"
        cells = []
        for sub in ("solutions", "exercises"):
            best, median = time_grade(ids, sub, args.repeat)
            cells.append(f"{best:.1f} / {median:.1f}")
        table.add_row(label, *cells)
    Console().print(table)


if __name__ == "__main__":
    main()
