"""``python -m grader``: the grader's command line. It parses the arguments and calls the
layers below (``runner`` for grading, ``workflows`` for the instructor's commands); nothing
imports it.

    python -m grader grade [CHAPTER ...] [--submission DIR] [--results FILE]
    python -m grader classroom RESULTS [--github-output FILE]
    python -m grader stubs [--check]
    python -m grader fixtures [--check]
    python -m grader release --out DIR
    python -m grader autograde SUBMISSIONS --out DIR [--shard I/N]
    python -m grader merge SLICE_DIR ... --out DIR
    python -m grader gradescope [--out FILE]
    python -m grader prairielearn [--grade-root /grade]   (inside PrairieLearn's grading container)

Exit status: 0 when grading ran (whatever the score); 2 when the grader itself could
not run (a bad option, a missing submission folder, an internal failure). The instructor
commands live in ``grader/workflows/``, which the student release leaves out.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import runner
from .chapters import ROOT, ChapterError, resolve


def cmd_grade(args):
    runner.grade(
        resolve(args.chapters),
        args.submission,
        mode=args.mode,
        seed=args.seed,
        student=args.student,
        secret_file=args.secret_file,
        independent=args.independent,
        call_timeout=args.call_timeout,
        only=args.only,
        verbose=args.verbose,
        results=args.results,
        quiet=args.quiet,
        brief=args.brief,
        debug=args.debug,
        isolation_request=args.isolation,
        allow_weak_isolation=args.allow_weak_isolation,
    )
    return 0


def cmd_classroom(args):
    import base64
    import json

    from .report import classroom_results

    path = Path(args.results)
    try:
        results = json.loads(path.read_text())
    except (OSError, ValueError):
        results = None  # grading did not write its results: Classroom shows an error, not a score
    data = classroom_results(results)
    encoded = base64.b64encode(json.dumps(data).encode()).decode()
    if args.github_output:
        with open(args.github_output, "a", encoding="utf-8") as fh:
            fh.write(f"result={encoded}\n")
    else:
        print(encoded)
    if results is not None:
        print(
            f"Classroom result: {results['score']:g} / {results['max_score']:g} points",
            file=sys.stderr,
        )
    return 0


def cmd_stubs(args):
    from .workflows import stubgen

    solutions, exercises = ROOT / "solutions", ROOT / "exercises"
    if not solutions.is_dir():
        raise runner.UsageError(
            "no solutions/ here: stubs are generated in the instructor's repository"
        )
    if args.check:
        problems = stubgen.check(solutions, exercises)
        for p in problems:
            print(p)
        if problems:
            print(
                "exercises/ is not what `nox -s stubs` generates from solutions/; run it and commit."
            )
            return 1
        print("exercises/ is up to date with solutions/")
        return 0
    changed = stubgen.write(solutions, exercises)
    for rel in changed:
        print(f"  {rel}")
    print(
        f"exercises/: {len(changed)} file(s) changed"
        if changed
        else "exercises/ was already up to date"
    )
    return 0


def cmd_fixtures(args):
    from .workflows import fixtures

    packages = resolve(args.chapters)
    if args.check:
        stale = fixtures.stale(packages)
        for p in stale:
            print(f"out of date: grader/fixtures/{p}.json")
        if stale:
            print("run `nox -s fixtures` (python -m grader fixtures) and commit.")
            return 1
        print("grader/fixtures/ is up to date with the reference")
        return 0
    changed = fixtures.record(packages)
    for p in changed:
        print(f"  rewrote grader/fixtures/{p}.json")
    print(
        f"grader/fixtures/: {len(changed)} of {len(packages)} chapter(s) changed"
        if changed
        else f"grader/fixtures/ was already current for {len(packages)} chapter(s)"
    )
    return 0


def cmd_release(args):
    from .workflows import release

    out = Path(args.out).resolve()  # the checks grade inside it, from another working folder
    if not args.check_only:
        release.build(out, force=args.force)
        print(f"built the student release in {out}")
    problems = release.check_contents(out, secret=runner.course_secret())
    if not problems:
        problems = release.check_works(out)
    if problems:
        print("THE RELEASE IS NOT FIT FOR STUDENTS:", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    print(
        "release checked: no solutions, reference, hidden tests or secret; stubs grade to 0 and "
        "solutions to full marks in public mode"
    )
    return 0


def cmd_autograde(args):
    from .workflows import autograde

    if not runner.reference_available():
        raise runner.UsageError(
            "autograde grades in hidden mode and needs the reference/, which is not here"
        )
    packages = resolve(args.chapters)
    level = runner.choose_isolation(
        "auto", strong_required=True, allow_weak=args.allow_weak_isolation
    )
    try:
        shard = autograde.parse_shard(args.shard) if args.shard else None
    except ValueError as exc:
        raise runner.UsageError(str(exc)) from None
    secret = autograde.ensure_secret(args.secret_file)
    try:
        summary = autograde.run(
            Path(args.submissions),
            Path(args.out),
            packages,
            jobs=args.jobs,
            secret=secret,
            timeout=args.timeout,
            independent=args.independent,
            call_timeout=args.call_timeout,
            isolation_level=level,
            allow_weak_isolation=args.allow_weak_isolation,
            shard=shard,
        )
    except (FileNotFoundError, autograde.RunInProgress) as exc:
        raise runner.UsageError(str(exc)) from None
    autograde.summarize(summary, packages, Path(args.out))
    return 0


def cmd_merge(args):
    from .workflows import autograde

    try:
        summary = autograde.merge(args.slices, Path(args.out))
    except (autograde.MergeError, autograde.RunInProgress) as exc:
        raise runner.UsageError(str(exc)) from None
    autograde.summarize(summary, summary["chapters"], Path(args.out))
    return 0


def cmd_gradescope(args):
    from .workflows import gradescope

    if not runner.reference_available():
        raise runner.UsageError(
            "the Gradescope bundle grades in hidden mode and needs the reference/"
        )
    from .workflows.autograde import ensure_secret

    secret = ensure_secret(args.secret_file)  # the same secret as autograde's, created on first use
    out = gradescope.build(
        Path(args.out),
        independent=args.independent,
        secret=secret,
        allow_weak_isolation=args.allow_weak_isolation,
    )
    print(f"wrote the Gradescope autograder bundle {out}")
    return 0


def cmd_gradescope_run(args):
    from .workflows import gradescope

    return gradescope.run(
        Path(args.autograder_root),
        independent=args.independent,
        allow_weak_isolation=args.allow_weak_isolation,
    )


def cmd_prairielearn(args):
    from .workflows import prairielearn

    return prairielearn.run(
        Path(args.grade_root),
        chapters=args.chapters,
        independent=args.independent,
        allow_weak_isolation=args.allow_weak_isolation,
    )


def _isolation_options(parser):
    parser.add_argument(
        "--isolation",
        choices=["auto", "sandbox", "user", "process"],
        default="auto",
        help="how student code is isolated (docs/sandbox.md); auto: the strongest available",
    )
    parser.add_argument(
        "--allow-weak-isolation",
        action="store_true",
        help="grade students' code in hidden mode even without file-system isolation (unsafe)",
    )


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m grader", description="Grade the course's chapters."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    g = sub.add_parser("grade", help="grade a submission and print the feedback")
    g.add_argument("chapters", nargs="*", help="chapters to grade (ch02, 2, ...); none means all")
    g.add_argument(
        "--submission", default=str(ROOT / "exercises"), help="submission root (default exercises/)"
    )
    g.add_argument("--results", help="write Gradescope-format results.json here")
    g.add_argument(
        "--mode",
        choices=["auto", "hidden", "public"],
        default="auto",
        help="hidden: live reference; public: recorded fixtures (default: hidden when the reference is present)",
    )
    g.add_argument("--seed", type=int, default=None, help="seed for the random test inputs")
    g.add_argument(
        "--student", help="student id: hidden-mode inputs seeded from the course secret and this id"
    )
    g.add_argument("--secret-file", help="file holding the course secret (default .course-secret)")
    g.add_argument(
        "--independent",
        action="store_true",
        help="grade chapter N with the course's solutions for chapters < N (an early bug is charged once)",
    )
    g.add_argument(
        "--call-timeout", type=float, default=10.0, help="seconds allowed per call into your code"
    )
    g.add_argument(
        "--only", nargs="+", metavar="TEST", help="grade only these tests (names or parts of names)"
    )
    g.add_argument("--brief", action="store_true", help="only the table, no failure details")
    g.add_argument("--quiet", action="store_true", help="print nothing (use with --results)")
    g.add_argument("--verbose", action="store_true", help="show pytest's own output too")
    g.add_argument("--debug", action="store_true", help="show tracebacks of internal grader errors")
    _isolation_options(g)
    g.set_defaults(func=cmd_grade)

    c = sub.add_parser(
        "classroom", help="GitHub Classroom's result (base64 JSON) from a results.json"
    )
    c.add_argument("results", help="the results.json that `grade --results` wrote")
    c.add_argument(
        "--github-output", help="append `result=...` to this file (GitHub Actions: $GITHUB_OUTPUT)"
    )
    c.set_defaults(func=cmd_classroom)

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
    r.add_argument(
        "--check-only", action="store_true", help="only check an existing release folder"
    )
    r.set_defaults(func=cmd_release)

    a = sub.add_parser(
        "autograde", help="grade a folder of submissions (folders or zips) into a gradebook"
    )
    a.add_argument(
        "submissions", help="folder with one folder or .zip per student (the name is the id)"
    )
    a.add_argument("--out", required=True, help="where the gradebook, feedback and results go")
    a.add_argument(
        "--jobs", type=int, default=max(1, (os.cpu_count() or 2)), help="submissions graded at once"
    )
    a.add_argument("--chapters", nargs="*", default=[], help="chapters to grade (default: all)")
    a.add_argument("--timeout", type=float, default=600.0, help="wall-clock seconds per submission")
    a.add_argument(
        "--call-timeout", type=float, default=10.0, help="seconds per call into student code"
    )
    a.add_argument(
        "--independent",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="grade chapter N with the course's solutions for chapters < N, so that an early bug is "
        "charged once (default; --no-independent grades every chapter on the student's own)",
    )
    a.add_argument("--secret-file", help="file holding the course secret (default .course-secret)")
    a.add_argument(
        "--allow-weak-isolation",
        action="store_true",
        help="grade even without file-system isolation (unsafe: submissions can read the reference)",
    )
    a.add_argument(
        "--shard",
        metavar="I/N",
        help="grade only slice I of N (students split by a hash of their id), e.g. one job of an "
        "array; put each slice in its own --out and combine them with `merge`",
    )
    a.set_defaults(func=cmd_autograde)

    m = sub.add_parser(
        "merge", help="one gradebook from the output folders of `autograde --shard` runs"
    )
    m.add_argument("slices", nargs="+", help="the output folders of the shards (one per shard I/N)")
    m.add_argument("--out", required=True, help="the merged output folder")
    m.set_defaults(func=cmd_merge)

    gs = sub.add_parser("gradescope", help="build the Gradescope autograder bundle (zip)")
    gs.add_argument("--out", default="build/autograder.zip")
    gs.add_argument(
        "--independent", action="store_true", help="substitute solutions for earlier chapters"
    )
    gs.add_argument("--secret-file", help="file holding the course secret (default .course-secret)")
    gs.add_argument(
        "--allow-weak-isolation",
        action="store_true",
        help="let the bundle grade where no sandbox works (unsafe)",
    )
    gs.set_defaults(func=cmd_gradescope)

    gr = sub.add_parser("gradescope-run", help="(inside the bundle) grade /autograder/submission")
    gr.add_argument("--autograder-root", default="/autograder")
    gr.add_argument("--independent", action="store_true")
    gr.add_argument("--allow-weak-isolation", action="store_true")
    gr.set_defaults(func=cmd_gradescope_run)

    pl = sub.add_parser(
        "prairielearn", help="(PrairieLearn's external grader) grade /grade/student"
    )
    pl.add_argument("--grade-root", default=os.environ.get("PRAIRIELEARN_GRADE_ROOT", "/grade"))
    pl.add_argument(
        "--chapters",
        nargs="*",
        default=[],
        help="chapters to grade when data.json's params do not name them",
    )
    pl.add_argument(
        "--independent",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="earlier chapters from the course's solutions (default)",
    )
    pl.add_argument("--allow-weak-isolation", action="store_true")
    pl.set_defaults(func=cmd_prairielearn)
    return parser


def main(argv=None):
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (runner.UsageError, ChapterError) as exc:
        print(f"grader: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("grader: interrupted", file=sys.stderr)
        return 2
    except ImportError as exc:
        if exc.name and (exc.name == "grader" or exc.name.startswith("grader.")):
            print(
                f"grader: `{args.command}` is an instructor command, not part of the student release",
                file=sys.stderr,
            )
            return 2
        raise
