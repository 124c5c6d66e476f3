"""The pytest plugin that turns the chapter suites into a grader.

It provides the fixtures the suites use (``student``: the submission's chapter package
in the worker; ``oracle``: inputs and expected values), gives each test its points, and
turns every outcome into a record (chapter, test, points, status, one-line reason,
details) that ``python -m grader grade`` prints and writes as results.json. A failure
inside the grader's own code is reported as an internal error, without its traceback.
"""

from __future__ import annotations

import functools
import gc
import inspect
import json
import re
import traceback
from pathlib import Path

import pytest

from .chapters import SUITES, chapter_id, is_chapter_dir, is_hidden_test
from .check import GradeFailure
from .oracle import PUBLIC_SEED, FixtureMissing, Oracle, Store
from .sandbox import Limits, Remote, StudentError, WorkerClient


# Where pytest_configure keeps the grading run's state (a GraderState) on the config.
STATE = pytest.StashKey()
# Set on a test item that was run again after an infrastructure fault (its first reason).
RETRIED = pytest.StashKey()
# The warnings (numpy's overflow, divide by zero, invalid value) the student's files raised
# during a test: feedback on every test, and a failure of a test marked ``no_warnings``.
WARNED = pytest.StashKey()
# Set on the tests of a chapter not started (every TODO still its stub): what to write first.
UNTOUCHED = pytest.StashKey()
TODO_FILE = Path(__file__).with_name("todo.json")  # made by `python -m grader stubs`


def pytest_addoption(parser):
    group = parser.getgroup("grader")
    group.addoption(
        "--submission", default="exercises", help="submission root (holds chNN_* packages)"
    )
    group.addoption("--grade-records", default=None, help="write the per-test records (JSON) here")
    group.addoption("--grade-mode", default="hidden", choices=["hidden", "public", "record"])
    group.addoption(
        "--fixtures-dir", default=None, help="where public-mode values are read and recorded"
    )
    group.addoption(
        "--grade-seed", default=None, type=int, help="seed for the tests' random inputs"
    )
    group.addoption(
        "--call-timeout",
        default=10.0,
        type=float,
        help="seconds allowed per call into student code",
    )
    group.addoption(
        "--isolation",
        default="process",
        choices=["sandbox", "user", "process"],
        help="how the worker running student code is isolated (grader/isolation.py)",
    )
    group.addoption(
        "--run-untouched",
        action="store_true",
        help="run every test of a chapter whose functions are all untouched stubs (default: "
        "fail them at once, without running them)",
    )
    group.addoption(
        "--independent-from",
        default=None,
        help="solutions root: grade chapter N with the solutions of chapters < N",
    )


def pytest_configure(config):
    """Register the markers; when grading (``--submission`` given), load the grader's
    hypothesis profile and keep the run's state (``GraderState``) in ``config.stash[STATE]``."""
    config.addinivalue_line("markers", "points(n): points for a test")
    config.addinivalue_line("markers", "hidden: hidden-mode only test")
    config.addinivalue_line(
        "markers", "call_timeout(seconds): time allowed per call into student code"
    )
    config.addinivalue_line(
        "markers",
        "no_warnings(reason): the test fails when the student's code raises a warning "
        "(a computation the text asks to be stable)",
    )
    if config.getoption("--submission", default=None) is None:
        return
    from hypothesis import HealthCheck, Phase, settings

    # Same submission, same score: hypothesis examples are derived from the test, not random.
    # No shrinking: feedback must come in seconds, and the failing example is reported as is.
    # Ten examples per property: every mutant of the corpus aimed at a property test is still
    # caught (tests/test_mutants.py), at 40% of the cost of 25.
    settings.register_profile(
        "grader",
        deadline=None,
        derandomize=True,
        database=None,
        max_examples=10,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
        report_multiple_bugs=False,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
    )
    settings.load_profile("grader")
    if getattr(config.option, "tbstyle", None) is None:
        # No terminal: do not spend time formatting tracebacks nobody sees.
        config.option.tbstyle = "no"
    state = GraderState(config)
    config.stash[STATE] = state
    config.pluginmanager.register(state, "grader-state")


@functools.lru_cache(maxsize=None)
def _suite_path(path):
    """A test file's path relative to the suites (None outside them), once per file."""
    try:
        return Path(path).resolve().relative_to(SUITES)
    except ValueError:
        return None


def _chapter_of(item):
    rel = _suite_path(str(item.path))
    return rel.parts[0] if rel is not None and rel.parts else None


# Attribute names that test tooling (hypothesis) probes on fixture values.
_PROBED = frozenset({"execute_example", "setup_example", "teardown_example"})


class ChapterHandle:
    """The submission's chapter package, as seen from the grader."""

    def __init__(self, pool, package):
        self._pool, self._package = pool, package

    def __getattr__(self, name):
        if name.startswith(("_", "hypothesis")) or name in _PROBED:
            raise AttributeError(name)
        module = self._pool.module(self._package)
        # The chapter's classes and functions, once per imported module: ``student.Dense``
        # in every test would otherwise be a round trip to the worker each time.
        key = (self._package, name)
        cached = self._pool.attributes.get(key)
        if cached is not None and cached[0] is module:
            return cached[1]
        value = getattr(module, name)
        if isinstance(value, Remote) and value.type_name in ("type", "function"):
            self._pool.attributes[key] = (module, value)
        return value

    def __repr__(self):  # in feedback (a failing hypothesis example): the same text on every run
        return f"<your {self._package} package>"


@functools.lru_cache(maxsize=None)
def _todo_functions():
    """{package: [[module, qualname, fingerprint], ...]} from grader/todo.json ({} without it)."""
    try:
        data = json.loads(TODO_FILE.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


@functools.lru_cache(maxsize=None)
def _first_in_text(package, functions):
    """The function of ``functions`` that the chapter's text introduces first."""
    from .report import text_rank, chapter_text

    text = chapter_text(package)
    order = {f: i for i, f in enumerate(functions)}
    return min(functions, key=lambda f: (text_rank(f, text), order[f]))


def chapter_worker(handle):
    """The worker process that runs ``handle``'s chapter (a ``student`` fixture value): what
    ``api.keep`` and the scratch-file helpers talk to. (A function, not a method: a method
    would hide a name of the student's package.)"""
    return handle._pool.for_chapter(handle._package)


class Pool:
    """The worker that runs the chapters' code, created on first use and kept from one
    chapter to the next (reset in between); a new one when a chapter needs other earlier
    chapters (chapter independence) or after a crash or time-out."""

    def __init__(self, root, limits, independent_from=None, isolation="process"):
        self.root, self.limits, self.isolation = root, limits, isolation
        self.independent_from = Path(independent_from).resolve() if independent_from else None
        self.substituted = {}
        self.current = None
        self.worker = None
        self.modules = {}
        self.attributes = {}  # (package, name) -> (module, class or function), ChapterHandle
        self.untouched_known = {}  # (package, worker generation) -> all TODOs still stubs?
        self.import_failures = {}

    def for_chapter(self, package):
        if package != self.current:
            overlays = self.overlays_for(package)
            if self.worker is not None and self.worker.same_overlays(overlays):
                self.worker.next_chapter()
            else:
                self.close()
                self.worker = WorkerClient(
                    self.root, self.limits, overlays=overlays, isolation=self.isolation
                )
            self.current = package
        return self.worker

    def overlays_for(self, package):
        """Chapter independence: earlier chapters taken from the solutions root."""
        if self.independent_from is None:
            return {}
        earlier = {
            p.name: str(p)
            for p in self.independent_from.iterdir()
            if p.is_dir() and is_chapter_dir(p.name) and p.name[:4] < package[:4]
        }
        if earlier:
            self.substituted[package] = sorted(earlier)
        return earlier

    def module(self, package):
        if package in self.import_failures:
            raise self.import_failures[package]
        worker = self.for_chapter(package)
        cached = self.modules.get(package)
        if cached is not None and cached[0] == worker.generation and worker.alive():
            return cached[1]
        try:
            module = worker.request(
                {"op": "import", "module": package}, label=f"importing {package}"
            )
        except StudentError as exc:
            if exc.kind == "not_implemented":
                raise
            err = StudentError(
                "import", f"could not import your {package}: {exc.summary}", exc.details
            )
            if exc.kind == "crash" and not (Path(self.root) / package).exists():
                err = StudentError("import", f"your submission has no {package} package")
            self.import_failures[package] = err
            raise err from None
        self.modules[package] = (worker.generation, module)
        return module

    def untouched(self, package):
        """The TODO functions of ``package`` (grader/todo.json, in file order) when every one
        of them is still exactly its generated stub in the submission, else None. Then every
        test of the chapter fails, as it would by running it (tests/test_untouched.py), so the
        grader fails them without running them. Asked once per chapter and worker."""
        functions = _todo_functions().get(package)
        if not functions:
            return None
        try:
            self.module(package)
            worker = self.for_chapter(package)
            key = (package, worker.generation)
            if key not in self.untouched_known:
                self.untouched_known[key] = (
                    worker.request(
                        {"op": "untouched", "package": package, "functions": functions},
                        label=f"looking at your {package}",
                    )
                    is True
                )
        except StudentError:
            return None
        return tuple(f[1] for f in functions) if self.untouched_known[key] else None

    def restart(self):
        """Forget the current worker (after an infrastructure fault): the next call starts
        a fresh one and imports the chapter again."""
        if self.worker is not None:
            self.worker.close()
        self.modules.clear()
        self.attributes.clear()

    def close(self):
        if self.worker is not None:
            self.worker.close()
        self.worker = None
        self.current = None


class GraderState:
    def __init__(self, config):
        self.config = config
        self.mode = config.getoption("--grade-mode")
        seed = config.getoption("--grade-seed")
        self.seed = PUBLIC_SEED if seed is None else seed
        self.store = Store(self.mode, config.getoption("--fixtures-dir"))
        root = Path(config.getoption("--submission")).resolve()
        self.limits = Limits(call_timeout=config.getoption("--call-timeout"))
        self.pool = Pool(
            root,
            self.limits,
            config.getoption("--independent-from"),
            isolation=config.getoption("--isolation"),
        )
        self.run_untouched = config.getoption("--run-untouched")
        self.records = []
        self.internal = []

    # -- fixtures
    @pytest.fixture
    def student(self, request):
        package = _chapter_of(request.node)
        marker = request.node.get_closest_marker("call_timeout")
        self.pool.limits.call_timeout = (
            float(marker.args[0]) if marker else self.config.getoption("--call-timeout")
        )
        if not (self.pool.root / package).is_dir():
            raise StudentError(
                "import",
                f"your submission has no {package} package",
                f"Expected a folder {package}/ in {self.pool.root.name}/.",
            )
        return ChapterHandle(self.pool, package)

    @pytest.fixture
    def oracle(self, request):
        package = _chapter_of(request.node)
        rel = _suite_path(str(request.node.path)).as_posix()
        hidden = request.node.get_closest_marker("hidden") is not None
        return Oracle(
            package, f"{rel}::{request.node.name}", self.seed, self.store, record=not hidden
        )

    # -- hooks
    def pytest_collection_finish(self, session):
        # What the run has built so far (pytest, hypothesis, numpy, the suites: most of the
        # process's objects) lives to the end: keep it out of the garbage collector's full
        # passes (hypothesis starts one when its first property runs).
        gc.freeze()

    def pytest_collection_modifyitems(self, config, items):
        skip = pytest.mark.skip(reason="hidden test")
        # No terminal shows pytest's own failure text: keep it to one line instead of a
        # formatted traceback (the records carry the feedback).
        short = config.option.tbstyle == "no"
        for item in items:
            if short:
                item.repr_failure = _short_failure
            if is_hidden_test(item.path):
                item.add_marker(pytest.mark.hidden)
            if self.mode == "public" and item.get_closest_marker("hidden"):
                item.add_marker(skip)

    @pytest.hookimpl(tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem):
        """Run a grading test; when the machine (not the student's code) killed the worker,
        restart it and run the test once more, and mark the record as retried."""
        package = _chapter_of(pyfuncitem)
        if package is not None and not self.run_untouched:
            todo = self.pool.untouched(package)
            if todo:
                from .report import NOT_STARTED

                begin = self._begin(package, todo)
                pyfuncitem.stash[UNTOUCHED] = begin
                raise StudentError(
                    "not_implemented",
                    f"{NOT_STARTED}{package} asks for still raises "
                    f"NotImplementedError (begin with {begin})",
                )
        params = _parameters(pyfuncitem.obj)
        kwargs = {name: pyfuncitem.funcargs[name] for name in params if name in pyfuncitem.funcargs}
        try:
            pyfuncitem.obj(**kwargs)
        except StudentError as exc:
            if exc.kind != "infrastructure":
                raise
            pyfuncitem.stash[RETRIED] = exc.summary
            self.pool.restart()
            pyfuncitem.obj(**kwargs)
        return True

    def _begin(self, package, todo):
        """The function to write first in a chapter not started: what running its tests on
        the stubs advises (recorded with the fixtures), else the first its text introduces."""
        recorded = self.store.begin(package)
        if recorded is not None and recorded[0] == chapter_id(package) and recorded[1] in todo:
            return recorded[1]
        return _first_in_text(package, todo)

    def _take_warnings(self):
        """The warnings the student's files raised since the last look (worker.py keeps them)."""
        worker = self.pool.worker
        if worker is None or not worker.alive() or not getattr(worker, "warnings_pending", True):
            return []
        try:
            got = worker.request({"op": "warnings"}, label="reading the warnings of your code")
        except StudentError:
            return []
        return [str(w) for w in got] if isinstance(got, list) else []

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item):
        """Collect the warnings the student's code raised during the test; a test marked
        ``no_warnings`` (a computation the text asks to be stable) fails on any of them."""
        # (The previous test took the warnings of its own calls: nothing runs in between.)
        try:
            result = yield
        except BaseException:
            item.stash[WARNED] = self._take_warnings()
            raise
        warned = item.stash[WARNED] = self._take_warnings()
        marker = item.get_closest_marker("no_warnings")
        if warned and marker is not None:
            reason = marker.args[0] if marker.args else "this computation must not warn"
            raise GradeFailure(
                f"the right values, but your code raised a warning: {warned[0]} ({reason})",
                "Warnings raised by your code:\n" + "\n".join(f"  {w}" for w in warned),
            )
        return result

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self._record(item, report, call)

    def _record(self, item, report, call):
        if report.skipped:
            return
        marker = item.get_closest_marker("points")
        max_points = float(marker.args[0]) if marker else 1.0
        package = _chapter_of(item)
        rec = {
            "chapter": chapter_id(package) if package else "?",
            "package": package,
            "test": item.name,
            "file": Path(item.path).name,
            "max_score": max_points,
            "score": max_points if report.passed else 0.0,
            "status": "passed" if report.passed else "failed",
            "hidden": item.get_closest_marker("hidden") is not None,
            "summary": "",
            "details": "",
            "duration": round(report.duration, 4),
        }
        begin = item.stash.get(UNTOUCHED, None)
        if begin is not None:
            rec["untouched"] = begin  # the chapter is not started: what to write first
        retried = item.stash.get(RETRIED, None)
        if retried:
            rec["retried"] = retried
        if not report.passed and call.excinfo is not None:
            exc = call.excinfo.value
            notes = "\n".join(getattr(exc, "__notes__", []) or [])
            if isinstance(exc, GradeFailure):
                rec["summary"], rec["details"] = exc.summary, exc.details
            elif isinstance(exc, StudentError) and exc.kind == "infrastructure":
                rec["summary"] = (
                    f"not graded: {exc.summary} (twice). This is a problem of the machine, not of "
                    "your code: grade again"
                )
                rec["details"] = exc.details
                rec["infrastructure"] = True
            elif isinstance(exc, StudentError):
                rec["summary"] = (
                    exc.summary
                    if exc.kind in ("not_implemented", "import")
                    else f"your code failed: {exc.summary}"
                )
                rec["details"] = "" if exc.kind == "not_implemented" else exc.details
                if exc.details and exc.kind not in (
                    "timeout",
                    "crash",
                    "import",
                    "not_implemented",
                ):
                    rec["details"] = "Traceback (your code only):\n" + exc.details
            elif isinstance(exc, FixtureMissing):
                rec["summary"] = (
                    f"grader fixture missing: {exc} (regenerate with `python -m grader fixtures`)"
                )
            elif type(exc) is AssertionError:
                rec["summary"] = (str(exc).strip().splitlines() or ["assertion failed"])[0]
                rec["details"] = str(exc)
            elif (step := _unusable_value_step(exc, call.excinfo.tb)) is not None:
                # The test tripped over what the student's code returned (a number where a
                # pair was expected, an array of another shape or rank, a string for a model):
                # that is the student's to fix, and the message says so.
                rec["summary"] = (
                    f"the value your code returned cannot be used here ({type(exc).__name__}: "
                    f"{_first_line(exc)})"
                )
                rec["details"] = (
                    f"The test failed at this step:\n    {step}\n"
                    "Compare what your function returns (its type, shape, number of values) with "
                    "its docstring."
                )
            else:
                rec["summary"] = f"internal grader error ({type(exc).__name__}); please report it"
                self.internal.append(
                    {"test": item.nodeid, "traceback": "".join(traceback.format_exception(exc))}
                )
            if notes and ("Falsifying example" in notes or "Failing test case" in notes):
                rec["details"] = (rec["details"] + "\n" + clean_notes(notes)).strip()
        warned = item.stash.get(WARNED, [])
        if warned:
            rec["warnings"] = warned
            if "Warnings raised by your code" not in rec["details"]:
                rec["details"] = (
                    rec["details"]
                    + "\nWarnings raised by your code (an overflow, a division by zero or an "
                    "invalid value, even where the result came out right):\n"
                    + "\n".join(f"  {w}" for w in warned)
                ).strip()
        self.records.append(rec)

    def pytest_sessionfinish(self, session):
        gc.unfreeze()  # a process that grades again (the mutant corpus) collects this run's objects
        self.pool.close()
        if self.mode == "record":
            self.store.write()
        path = self.config.getoption("--grade-records")
        if path:
            Path(path).write_text(
                json.dumps(
                    {
                        "records": self.records,
                        "internal": self.internal,
                        "mode": self.mode,
                        "seed": self.seed,
                        "substituted": self.pool.substituted,
                    }
                )
            )


# Errors that a test raises when it unpacks, indexes, converts or compares a value of the
# wrong type or shape returned by the student's code.
_VALUE_ERRORS = (TypeError, ValueError, IndexError, AttributeError, KeyError)


def _first_line(exc):
    return (str(exc).strip().splitlines() or [""])[0][:200]


def _unusable_value_step(exc, tb):
    """The suite's source line at which a test tripped over a returned value, or None.

    Only an exception raised by the suite's own code (or by numpy and the checks it called),
    never inside the engine (worker, sandbox, oracle, plugin), counts: an error there is the
    grader's."""
    if not isinstance(exc, _VALUE_ERRORS):
        return None
    import linecache

    engine = Path(__file__).resolve().parent
    step = None
    for frame, lineno in traceback.walk_tb(tb):
        path = Path(frame.f_code.co_filename).resolve()
        if path.is_relative_to(SUITES):
            step = linecache.getline(str(path), lineno).strip()
        elif step is not None and path.is_relative_to(engine) and path.name != "check.py":
            return None
    return step or None


@functools.lru_cache(maxsize=None)
def _parameters(function):
    return tuple(inspect.signature(function).parameters)


def _short_failure(excinfo, style=None):
    return f"{excinfo.typename}: {str(excinfo.value)[:500]}"


# The fixtures in a failing example's arguments: not drawn inputs, and their text (an object's
# address) says nothing to the student.
_FIXTURE_ARG = re.compile(r"\b(student|oracle)=<[^>]*>,?\s*")


def clean_notes(notes):
    keep = [
        _FIXTURE_ARG.sub("", ln)
        for ln in notes.splitlines()
        if not ln.startswith(("You can reproduce", "@reproduce", "@seed"))
    ]
    return "\n".join(ln for ln in keep if ln.strip())
