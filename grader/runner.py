"""Between the engine and everything that grades: run the suites, the course secret, and the
one way to start ``python -m grader grade`` in a separate process.

Layers of the grader, from the bottom:

- the engine: ``worker`` and ``sandbox`` (student code in its own process), ``oracle``
  (inputs, expected values, fixtures), ``check`` (comparisons and diagnoses), ``plugin``
  (pytest: points, records), ``api`` (what suites import), ``report`` (tables, results.json),
  ``chapters`` (the course's layout);
- this runner: ``run_suites`` (the engine in this process), ``grade_subprocess`` (the
  engine in a fresh process, with a cleaned environment), the course secret;
- above it: ``cli`` (argument parsing only), ``notebook`` (the grade cell), ``jupyter``
  (notebook files), and ``workflows/`` (instructor tools, not in the student release).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import isolation
from .chapters import ROOT, SUITES, chapter_id
from .oracle import student_seed

SECRET_ENV = "COURSE_SECRET"
SECRET_FILE = ".course-secret"


# Built-in pytest plugins the grading runs do not use (no fixtures of theirs in the suites).
UNUSED_PYTEST_PLUGINS = (
    "unraisableexception",
    "threadexception",
    "logging",
    "faulthandler",
    "junitxml",
    "pastebin",
    "doctest",
    "stepwise",
    "legacypath",
    "tmpdir",
    "monkeypatch",
    "recwarn",
    "setuponly",
    "setupplan",
    "unittest",
    "subtests",
)


# What a grading run sets while pytest runs (and restores after).
NO_PLUGINS_ENV = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "HYPOTHESIS_NO_PLUGINS": "1"}


class UsageError(Exception):
    """The grader cannot do what was asked (a bad option, a missing folder, a failed run):
    the command line prints the message and exits with status 2."""


def reference_available():
    """True when the hidden reference (``reference/``) is importable here (instructor mode)."""
    try:
        import reference  # noqa: F401
    except ImportError:
        return False
    return (ROOT / "reference").is_dir()


def course_secret(path=None):
    """The course secret (per-student seeds): $COURSE_SECRET, else the file (default
    .course-secret at the repository root), else None."""
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV]
    path = Path(path) if path else ROOT / SECRET_FILE
    if path.is_file():
        return path.read_text().strip() or None
    return None


def seed_for_student(student, secret_file=None):
    """The hidden-mode seed of ``student``'s inputs, from the course secret."""
    secret = course_secret(secret_file)
    if secret is None:
        raise UsageError(
            f"--student needs the course secret: set {SECRET_ENV} or create {SECRET_FILE}"
        )
    return student_seed(secret, student)


def independence_root():
    """The solutions that replace a submission's earlier chapters (chapter independence)."""
    root = ROOT / "solutions"
    if not root.is_dir():
        raise UsageError(
            "--independent needs the course's solutions/, which are not here (public release?)"
        )
    return root


def choose_isolation(requested="auto", *, strong_required=False, allow_weak=False, warn=None):
    """The isolation level to grade with (see grader/isolation.py). ``auto`` takes the
    strongest this machine offers. With ``strong_required`` (hidden-mode grading of a
    student: autograde, Gradescope, a course secret) a level that leaves the course's files
    in reach is refused, unless ``allow_weak``, which warns loudly through ``warn``."""
    try:
        level = isolation.choose(requested)
    except isolation.IsolationError as exc:
        raise UsageError(str(exc)) from None
    if strong_required and level not in isolation.STRONG:
        _, reason = isolation.probe()
        if not allow_weak:
            raise UsageError(
                "refusing to grade students' code without file-system isolation "
                f"({reason}). Install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap), or, knowing that "
                "a submission can then read the reference and change the grader's files, pass "
                "--allow-weak-isolation."
            )
        (warn or _warn)(
            "WARNING: grading without file-system isolation (--allow-weak-isolation): submissions can read "
            f"the reference, the solutions and the secret, and change the grader's files ({reason})."
        )
    return level


def _warn(message):
    print(message, file=sys.stderr, flush=True)


def bytecode_cache():
    """The folder for the bytecode of the suites and the reference, outside the course's tree:
    ``$XDG_CACHE_HOME/nnfs-grader/bytecode`` (default ``~/.cache``), private to this user; None
    when it cannot be made or is not this user's alone (no cache then)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = Path(base) / "nnfs-grader" / "bytecode"
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = path.stat()
    except OSError:
        return None
    if info.st_uid != os.geteuid() or info.st_mode & 0o077:
        return None
    return path


def run_suites(
    packages,
    submission,
    *,
    mode="auto",
    seed=None,
    call_timeout=10.0,
    independent_from=None,
    verbose=False,
    fixtures_dir=None,
    only=None,
    isolation_level=None,
    run_untouched=False,
):
    """Run the grader suites of ``packages`` on ``submission`` in this process (the student
    code still runs in its own worker, isolated at ``isolation_level``: default the
    strongest available); return (records, meta). A chapter whose functions are all still
    their stubs fails every test without running it, unless ``run_untouched``."""
    import pytest

    from . import plugin

    level = isolation_level or choose_isolation("auto")

    if mode == "auto":
        mode = "hidden" if reference_available() else "public"
    if mode in ("hidden", "record") and not reference_available():
        raise UsageError(f"{mode} mode needs the reference/ package, which is not here")
    with tempfile.TemporaryDirectory(prefix="grader-") as tmp:
        records_path = Path(tmp) / "records.json"
        args = [
            *(str(SUITES / p) for p in packages),
            "-p",
            "no:cacheprovider",
            "--import-mode=importlib",
            "--rootdir",
            str(SUITES),
            "-c",
            os.devnull,
            "--submission",
            str(submission),
            "--grade-records",
            str(records_path),
            "--grade-mode",
            mode,
            "--call-timeout",
            str(call_timeout),
            "--isolation",
            level,
            "-W",
            "ignore",
            # The suites use the grader's checks, not bare asserts: no assertion rewriting
            # (which re-parses every module when bytecode is not written).
            "--assert=plain",
        ]
        # pytest's plugins that grading never uses: the unraisable- and thread-exception
        # plugins alone run several full garbage collections per run (warnings are ignored).
        for name in UNUSED_PYTEST_PLUGINS:
            args += ["-p", f"no:{name}"]
        if seed is not None:
            args += ["--grade-seed", str(seed)]
        if independent_from is not None:
            args += ["--independent-from", str(independent_from)]
        if fixtures_dir is not None:
            args += ["--fixtures-dir", str(fixtures_dir)]
        if only:
            args += ["-k", " or ".join(only)]
        if run_untouched:
            args.append("--run-untouched")
        args += ["-v", "--tb=short"] if verbose else ["-p", "no:terminal"]
        # Only the grader's own plugin: no third-party plugins of pytest or hypothesis found
        # through installed packages' entry points.
        saved_env = {name: os.environ.get(name) for name in NO_PLUGINS_ENV}
        os.environ.update(NO_PLUGINS_ENV)
        # Grading processes write no bytecode into the course's folders (PYTHONDONTWRITEBYTECODE):
        # the suites and the reference keep theirs in a cache of this user's own instead, else
        # every run compiles them again. This process never imports student code (the worker
        # does, and writes no bytecode).
        saved_bytecode = sys.dont_write_bytecode, sys.pycache_prefix
        cache = bytecode_cache()
        if cache is not None:
            sys.dont_write_bytecode, sys.pycache_prefix = False, str(cache)
        try:
            code = pytest.main(args, plugins=[plugin])
        finally:
            sys.dont_write_bytecode, sys.pycache_prefix = saved_bytecode
            for name, value in saved_env.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        if not records_path.exists():
            raise UsageError(f"the grading run did not finish (pytest exit status {int(code)})")
        data = json.loads(records_path.read_text())
    if int(code) == 5 and only:
        raise UsageError(f"no test matches {' or '.join(only)}")
    if int(code) not in (0, 1, 5):
        raise UsageError(f"the grading run failed (pytest exit status {int(code)})")
    return data["records"], {
        "mode": data["mode"],
        "seed": data["seed"],
        "internal": data["internal"],
        "substituted": data.get("substituted", {}),
        "isolation": isolation.describe(level),
    }


def record_fixtures(packages, fixtures_dir):
    """Grade solutions/ with the reference and record the public-mode values of ``packages``
    in ``fixtures_dir``; every test must pass. Returns the records."""
    records, _ = run_suites(packages, ROOT / "solutions", mode="record", fixtures_dir=fixtures_dir)
    failed = [r for r in records if r["status"] != "passed"]
    if failed:
        names = ", ".join(f"{r['chapter']} {r['test']}" for r in failed[:5])
        raise UsageError(f"{len(failed)} test(s) fail on solutions/ ({names}): fix them first")
    record_first_functions(packages, fixtures_dir)
    return records


def record_first_functions(packages, fixtures_dir):
    """Add to each chapter's fixture file the function a student begins it with: what
    running every test on its untouched stubs (exercises/) advises when the earlier chapters
    are done (the course's solutions in their place). The grader gives that advice for a
    chapter not started without running its tests."""
    from .report import chapter_states

    stubs, _ = run_suites(
        packages,
        ROOT / "exercises",
        mode="hidden",
        run_untouched=True,
        isolation_level="process",
        independent_from=ROOT / "solutions",
    )
    states = chapter_states(stubs)
    for package in packages:
        path = Path(fixtures_dir) / f"{package}.json"
        state = states.get(chapter_id(package))
        if not path.is_file() or state is None or state["begin"] is None:
            continue
        data = json.loads(path.read_text())
        data["begin"] = list(state["begin"])
        path.write_text(json.dumps(data, indent=0, sort_keys=True) + "\n")


def substitution_notes(meta):
    """Lines telling a student which earlier chapters were graded with the course's solutions."""
    notes = []
    for package, earlier in sorted(meta.get("substituted", {}).items()):
        ids = ", ".join(chapter_id(e) for e in earlier)
        notes.append(
            f"{chapter_id(package)} was graded with the course's solutions of {ids} in place of yours "
            "(chapter independence: an earlier bug is charged once)."
        )
    return notes


def grade(
    packages,
    submission,
    *,
    mode="auto",
    seed=None,
    student=None,
    secret_file=None,
    independent=False,
    call_timeout=10.0,
    only=None,
    verbose=False,
    results=None,
    quiet=False,
    brief=False,
    debug=False,
    isolation_request="auto",
    allow_weak_isolation=False,
):
    """``python -m grader grade``: grade ``submission``, print the report, write results.json."""
    from .report import gradescope_results, make_console, print_report, write_json_atomic

    submission = Path(submission)
    if not submission.is_dir():
        raise UsageError(f"submission folder {submission} does not exist")
    if seed is None and student:
        seed = seed_for_student(student, secret_file)
    # A student's hidden-mode inputs (a secret-derived seed) mean a student's code: isolate it.
    level = choose_isolation(
        isolation_request,
        strong_required=bool(student) or (mode == "hidden" and seed is not None),
        allow_weak=allow_weak_isolation,
    )
    start = time.perf_counter()
    records, meta = run_suites(
        packages,
        submission.resolve(),
        mode=mode,
        seed=seed,
        call_timeout=call_timeout,
        verbose=verbose,
        independent_from=independence_root() if independent else None,
        only=only,
        isolation_level=level,
    )
    elapsed = time.perf_counter() - start
    console = make_console()  # the terminal's width, also when piped
    notes = substitution_notes(meta)
    if meta["internal"]:
        notes.append(
            f"{len(meta['internal'])} test(s) hit an internal grader error (not your fault)."
        )
        if debug:
            for item in meta["internal"]:
                console.print(item["test"])
                console.print(item["traceback"], markup=False)
    if not quiet:
        footer = [
            f"isolation: {meta['isolation']}",
            f"graded {len(packages)} chapter(s) of {submission} in {elapsed:.1f} s",
        ]
        print_report(
            records,
            console=console,
            details=not brief,
            mode=meta["mode"],
            notes=notes,
            footer=footer,  # before the next step, which ends the run
        )
    if results:
        write_json_atomic(
            results,
            gradescope_results(
                records,
                mode=meta["mode"],
                execution_time=elapsed,
                notes=notes,
                isolation=meta["isolation"],
            ),
        )
    return records, meta


# --------------------------------------------------------------- grading in a fresh process


def grade_command(chapters, submission, *, results=None, options=(), quiet=True, python=None):
    """The ``python -m grader grade`` command line for ``chapters`` (ids or package names)."""
    cmd = [
        python or sys.executable,
        "-m",
        "grader",
        "grade",
        *chapters,
        "--submission",
        str(submission),
    ]
    if results is not None:
        cmd += ["--results", str(results)]
    if quiet:
        cmd.append("--quiet")
    return cmd + [str(o) for o in options]


def grade_env(*, secret=None, environ=None):
    """The environment of a grading process: the caller's, without PYTHON* variables (a
    PYTHONPATH or PYTHONSTARTUP must not change what is graded) and without the course secret
    unless ``secret`` is given (it then is the only secret the process sees); no bytecode written."""
    env = {
        k: v
        for k, v in (os.environ if environ is None else environ).items()
        if not k.startswith("PYTHON") and k != SECRET_ENV
    }
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if secret:
        env[SECRET_ENV] = secret
    return env


def grade_subprocess(
    chapters,
    submission,
    *,
    results=None,
    options=(),
    cwd=None,
    secret=None,
    timeout=None,
    quiet=True,
    python=None,
    **run_kwargs,
):
    """Run ``python -m grader grade`` in a separate process with a cleaned environment (see
    ``grade_env``), in ``cwd`` (default: this repository), and return the CompletedProcess
    (text output captured). Release checks, autograde, the notebook grade cell, the benchmarks
    and the course's tests all grade in a fresh process through this function."""
    cmd = grade_command(
        chapters, submission, results=results, options=options, quiet=quiet, python=python
    )
    capture = "stdout" not in run_kwargs and "stderr" not in run_kwargs  # else the caller's files
    return subprocess.run(
        cmd,
        cwd=str(cwd or ROOT),
        env=grade_env(secret=secret),
        capture_output=capture,
        text=capture,
        timeout=timeout,
        **run_kwargs,
    )
