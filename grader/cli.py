"""``python -m grader``: the grader's command line.

    python -m grader grade [CHAPTER ...] [--submission DIR] [--results FILE]
    python -m grader stubs [--check]
    python -m grader fixtures [--check]

Exit status: 0 when grading ran (whatever the score); 2 when the grader itself could
not run (a bad option, a missing submission folder, an internal failure).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from . import chapters as ch
from .chapters import ROOT


class UsageError(Exception):
    pass


def _find_reference():
    try:
        import reference  # noqa: F401
    except ImportError:
        return False
    return (ROOT / "reference").is_dir()


def run_suites(packages, submission, *, mode="auto", seed=None, call_timeout=10.0, overlays=None,
               verbose=False):
    """Run the grader suites of ``packages`` on ``submission``; return (records, meta)."""
    import pytest

    from . import plugin

    if mode == "auto":
        mode = "hidden" if _find_reference() else "public"
    if mode == "hidden" and not _find_reference():
        raise UsageError("hidden mode needs the reference/ package, which is not here")
    with tempfile.TemporaryDirectory(prefix="grader-") as tmp:
        records_path = Path(tmp) / "records.json"
        args = [
            *(str(ch.SUITES / p) for p in packages),
            "-p", "no:cacheprovider", "--import-mode=importlib",
            "--rootdir", str(ch.SUITES), "-c", os.devnull,
            "--submission", str(submission), "--grade-records", str(records_path),
            "--grade-mode", mode, "--call-timeout", str(call_timeout),
            "--overlays", json.dumps(overlays or {}),
            "-W", "ignore",
        ]
        if seed is not None:
            args += ["--grade-seed", str(seed)]
        args += ["-v", "--tb=short"] if verbose else ["-p", "no:terminal"]
        code = pytest.main(args, plugins=[plugin])
        if not records_path.exists():
            raise UsageError(f"the grading run did not finish (pytest exit status {int(code)})")
        data = json.loads(records_path.read_text())
    if int(code) not in (0, 1):
        raise UsageError(f"the grading run failed (pytest exit status {int(code)})")
    return data["records"], {"mode": data["mode"], "seed": data["seed"], "internal": data["internal"]}


def cmd_grade(args):
    from rich.console import Console

    from .report import gradescope_results, print_report, write_json_atomic

    packages = ch.resolve(args.chapters)
    submission = Path(args.submission)
    if not submission.is_dir():
        raise UsageError(f"submission folder {submission} does not exist")
    start = time.perf_counter()
    records, meta = run_suites(packages, submission.resolve(), mode=args.mode, seed=args.seed,
                               call_timeout=args.call_timeout, verbose=args.verbose)
    elapsed = time.perf_counter() - start
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
    notes = []
    if meta["internal"]:
        notes.append(f"{len(meta['internal'])} test(s) hit an internal grader error (not your fault).")
        if args.debug:
            for item in meta["internal"]:
                console.print(item["test"])
                console.print(item["traceback"], markup=False)
    if not args.quiet:
        print_report(records, console=console, details=not args.brief, mode=meta["mode"], notes=notes)
        console.print(f"graded {len(packages)} chapter(s) of {submission} in {elapsed:.1f} s")
    if args.results:
        write_json_atomic(args.results, gradescope_results(records, mode=meta["mode"], execution_time=elapsed,
                                                           notes=notes))
    return 0


def cmd_stubs(args):
    from . import stubgen

    solutions, exercises = ROOT / "solutions", ROOT / "exercises"
    if not solutions.is_dir():
        raise UsageError("no solutions/ here: stubs are generated in the instructor's repository")
    if args.check:
        problems = stubgen.check(solutions, exercises)
        for p in problems:
            print(p)
        if problems:
            print("exercises/ is not what `nox -s stubs` generates from solutions/; run it and commit.")
            return 1
        print("exercises/ is up to date with solutions/")
        return 0
    files = stubgen.write(solutions, exercises)
    print(f"wrote {len(files)} files to exercises/")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m grader", description="Grade the course's chapters.")
    sub = parser.add_subparsers(dest="command", required=True)

    g = sub.add_parser("grade", help="grade a submission and print the feedback")
    g.add_argument("chapters", nargs="*", help="chapters to grade (ch02, 2, ...); none means all")
    g.add_argument("--submission", default=str(ROOT / "exercises"), help="submission root (default exercises/)")
    g.add_argument("--results", help="write Gradescope-format results.json here")
    g.add_argument("--mode", choices=["auto", "hidden", "public"], default="auto",
                   help="hidden: live reference; public: recorded fixtures (default: hidden when the reference is present)")
    g.add_argument("--seed", type=int, default=None, help="seed for the random test inputs")
    g.add_argument("--call-timeout", type=float, default=10.0, help="seconds allowed per call into your code")
    g.add_argument("--brief", action="store_true", help="only the table, no failure details")
    g.add_argument("--quiet", action="store_true", help="print nothing (use with --results)")
    g.add_argument("--verbose", action="store_true", help="show pytest's own output too")
    g.add_argument("--debug", action="store_true", help="show tracebacks of internal grader errors")
    g.set_defaults(func=cmd_grade)

    s = sub.add_parser("stubs", help="regenerate exercises/ from solutions/")
    s.add_argument("--check", action="store_true", help="only check that exercises/ is up to date")
    s.set_defaults(func=cmd_stubs)
    return parser


def main(argv=None):
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (UsageError, ch.ChapterError) as exc:
        print(f"grader: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("grader: interrupted", file=sys.stderr)
        return 2
