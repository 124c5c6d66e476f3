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


def run_suites(packages, submission, *, mode="auto", seed=None, call_timeout=10.0, independent_from=None,
               verbose=False, fixtures_dir=None, only=None):
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
            "-W", "ignore",
        ]
        if seed is not None:
            args += ["--grade-seed", str(seed)]
        if independent_from is not None:
            args += ["--independent-from", str(independent_from)]
        if fixtures_dir is not None:
            args += ["--fixtures-dir", str(fixtures_dir)]
        if only:
            args += ["-k", " or ".join(only)]
        args += ["-v", "--tb=short"] if verbose else ["-p", "no:terminal"]
        code = pytest.main(args, plugins=[plugin])
        if not records_path.exists():
            raise UsageError(f"the grading run did not finish (pytest exit status {int(code)})")
        data = json.loads(records_path.read_text())
    if int(code) == 5 and only:
        raise UsageError(f"no test matches {' or '.join(only)}")
    if int(code) not in (0, 1, 5):
        raise UsageError(f"the grading run failed (pytest exit status {int(code)})")
    return data["records"], {"mode": data["mode"], "seed": data["seed"], "internal": data["internal"],
                             "substituted": data.get("substituted", {})}


def course_secret(path=None):
    """The course secret (per-student seeds): $COURSE_SECRET, else the file (default
    .course-secret at the repository root), else None."""
    if os.environ.get("COURSE_SECRET"):
        return os.environ["COURSE_SECRET"]
    path = Path(path) if path else ROOT / ".course-secret"
    if path.is_file():
        return path.read_text().strip() or None
    return None


def _seed_for(args):
    if args.seed is not None:
        return args.seed
    if getattr(args, "student", None):
        secret = course_secret(getattr(args, "secret_file", None))
        if secret is None:
            raise UsageError("--student needs the course secret: set COURSE_SECRET or create .course-secret")
        from .oracle import student_seed

        return student_seed(secret, args.student)
    return None


def _independence_root(args):
    if not getattr(args, "independent", False):
        return None
    root = ROOT / "solutions"
    if not root.is_dir():
        raise UsageError("--independent needs the course's solutions/, which are not here (public release?)")
    return root


def substitution_notes(meta):
    notes = []
    for package, earlier in sorted(meta.get("substituted", {}).items()):
        ids = ", ".join(e[:4] for e in earlier)
        notes.append(f"{package[:4]} was graded with the course's solutions of {ids} in place of yours "
                     "(chapter independence: an earlier bug is charged once).")
    return notes


def cmd_grade(args):
    from rich.console import Console

    from .report import gradescope_results, print_report, write_json_atomic

    packages = ch.resolve(args.chapters)
    submission = Path(args.submission)
    if not submission.is_dir():
        raise UsageError(f"submission folder {submission} does not exist")
    start = time.perf_counter()
    records, meta = run_suites(packages, submission.resolve(), mode=args.mode, seed=_seed_for(args),
                               call_timeout=args.call_timeout, verbose=args.verbose,
                               independent_from=_independence_root(args), only=args.only)
    elapsed = time.perf_counter() - start
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
    notes = substitution_notes(meta)
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


def cmd_fixtures(args):
    """Record the reference's values for public mode (grader/fixtures/), or check them."""
    from .oracle import FIXTURES

    if not _find_reference():
        raise UsageError("fixtures are recorded from the reference/, which is not here")
    packages = ch.resolve(args.chapters)
    with tempfile.TemporaryDirectory(prefix="fixtures-") as tmp:
        records, _ = run_suites(packages, ROOT / "solutions", mode="record", fixtures_dir=tmp)
        failed = [r for r in records if r["status"] != "passed"]
        if failed:
            raise UsageError(f"{len(failed)} test(s) fail on solutions/ while recording; fix them first")
        fresh = {p: (Path(tmp) / f"{p}.json") for p in packages}
        if args.check:
            from .oracle import same_fixtures

            stale = [p for p, path in fresh.items() if not same_fixtures(FIXTURES / path.name, path)]
            for p in stale:
                print(f"out of date: grader/fixtures/{p}.json")
            if stale:
                print("run `nox -s fixtures` (python -m grader fixtures) and commit.")
                return 1
            print("grader/fixtures/ is up to date with the reference")
            return 0
        FIXTURES.mkdir(exist_ok=True)
        for path in fresh.values():
            if path.is_file():
                (FIXTURES / path.name).write_bytes(path.read_bytes())
    print(f"recorded fixtures for {len(packages)} chapter(s) in {FIXTURES.relative_to(ROOT)}/")
    return 0


def cmd_release(args):
    from . import release

    out = Path(args.out)
    try:
        if not args.check_only:
            release.build(out, force=args.force)
            print(f"built the student release in {out}")
        problems = release.check_contents(out, secret=course_secret())
        if not problems:
            problems = release.check_works(out)
    except release.ReleaseError as exc:
        raise UsageError(str(exc)) from None
    if problems:
        print("THE RELEASE IS NOT FIT FOR STUDENTS:", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    print("release checked: no solutions, reference, hidden tests or secret; stubs grade to 0 and "
          "solutions to full marks in public mode")
    return 0


def cmd_autograde(args):
    from . import autograde

    if not _find_reference():
        raise UsageError("autograde grades in hidden mode and needs the reference/, which is not here")
    packages = ch.resolve(args.chapters)
    secret = course_secret(args.secret_file)
    if secret is None:
        import secrets

        path = Path(args.secret_file) if args.secret_file else ROOT / ".course-secret"
        path.write_text(secrets.token_hex(16) + "\n")
        print(f"created the course secret in {path} (keep it: it seeds every student's test inputs)")
        secret = course_secret(path)
    try:
        summary = autograde.run(Path(args.submissions), Path(args.out), packages, jobs=args.jobs, secret=secret,
                                timeout=args.timeout, independent=args.independent,
                                call_timeout=args.call_timeout)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None
    autograde.summarize(summary, packages, Path(args.out))
    return 0


def cmd_gradescope(args):
    from . import gradescope

    if not _find_reference():
        raise UsageError("the Gradescope bundle grades in hidden mode and needs the reference/")
    secret = course_secret(args.secret_file)
    if secret is None:
        raise UsageError("the bundle needs the course secret: set COURSE_SECRET or create .course-secret")
    out = gradescope.build(Path(args.out), independent=args.independent, secret=secret)
    print(f"wrote the Gradescope autograder bundle {out}")
    return 0


def cmd_gradescope_run(args):
    from . import gradescope

    return gradescope.run(Path(args.autograder_root), independent=args.independent)


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
    g.add_argument("--student", help="student id: hidden-mode inputs seeded from the course secret and this id")
    g.add_argument("--secret-file", help="file holding the course secret (default .course-secret)")
    g.add_argument("--independent", action="store_true",
                   help="grade chapter N with the course's solutions for chapters < N (an early bug is charged once)")
    g.add_argument("--call-timeout", type=float, default=10.0, help="seconds allowed per call into your code")
    g.add_argument("--only", nargs="+", metavar="TEST", help="grade only these tests (names or parts of names)")
    g.add_argument("--brief", action="store_true", help="only the table, no failure details")
    g.add_argument("--quiet", action="store_true", help="print nothing (use with --results)")
    g.add_argument("--verbose", action="store_true", help="show pytest's own output too")
    g.add_argument("--debug", action="store_true", help="show tracebacks of internal grader errors")
    g.set_defaults(func=cmd_grade)

    s = sub.add_parser("stubs", help="regenerate exercises/ from solutions/")
    s.add_argument("--check", action="store_true", help="only check that exercises/ is up to date")
    s.set_defaults(func=cmd_stubs)

    f = sub.add_parser("fixtures", help="record the reference's values for public mode")
    f.add_argument("chapters", nargs="*")
    f.add_argument("--check", action="store_true", help="only check that the fixtures are current")
    f.set_defaults(func=cmd_fixtures)

    r = sub.add_parser("release", help="build the student repository and check it leaks nothing")
    r.add_argument("--out", required=True, help="folder to build the release in")
    r.add_argument("--force", action="store_true", help="replace the folder if it is not empty")
    r.add_argument("--check-only", action="store_true", help="only check an existing release folder")
    r.set_defaults(func=cmd_release)

    a = sub.add_parser("autograde", help="grade a folder of submissions (folders or zips) into a gradebook")
    a.add_argument("submissions", help="folder with one folder or .zip per student (the name is the id)")
    a.add_argument("--out", required=True, help="where the gradebook, feedback and results go")
    a.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 2)), help="submissions graded at once")
    a.add_argument("--chapters", nargs="*", default=[], help="chapters to grade (default: all)")
    a.add_argument("--timeout", type=float, default=600.0, help="wall-clock seconds per submission")
    a.add_argument("--call-timeout", type=float, default=10.0, help="seconds per call into student code")
    a.add_argument("--independent", action="store_true",
                   help="grade chapter N with the course's solutions for chapters < N")
    a.add_argument("--secret-file", help="file holding the course secret (default .course-secret)")
    a.set_defaults(func=cmd_autograde)

    gs = sub.add_parser("gradescope", help="build the Gradescope autograder bundle (zip)")
    gs.add_argument("--out", default="build/autograder.zip")
    gs.add_argument("--independent", action="store_true", help="substitute solutions for earlier chapters")
    gs.add_argument("--secret-file", help="file holding the course secret (default .course-secret)")
    gs.set_defaults(func=cmd_gradescope)

    gr = sub.add_parser("gradescope-run", help="(inside the bundle) grade /autograder/submission")
    gr.add_argument("--autograder-root", default="/autograder")
    gr.add_argument("--independent", action="store_true")
    gr.set_defaults(func=cmd_gradescope_run)
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
    except ImportError as exc:
        if exc.name and (exc.name == "grader" or exc.name.startswith("grader.")):
            print(f"grader: `{args.command}` is an instructor command, not part of the student release",
                  file=sys.stderr)
            return 2
        raise
