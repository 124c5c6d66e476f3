"""The operating-system sandbox (grader/isolation.py) against a hostile submission.

Each test starts a worker on a small submission whose module tries one attack, and
checks from outside that it failed: what the worker could read, write, start, keep
running, use or send. Run where bubblewrap works (CI installs it); elsewhere the tests
are skipped with the reason, except the check that CI really has the sandbox.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from grader import isolation
from grader.sandbox import Limits, StudentError, WorkerClient
from tests.helpers import ROOT

LEVEL, REASON = isolation.probe()
needs_sandbox = pytest.mark.skipif(LEVEL != isolation.SANDBOX, reason=f"no sandbox here: {REASON}")


def test_the_sandbox_is_available_where_it_is_required():
    """.ci/run sets NNFS_REQUIRE_SANDBOX: there, a missing sandbox is a failure, not a skip."""
    if os.environ.get("NNFS_REQUIRE_SANDBOX"):
        assert LEVEL == isolation.SANDBOX, REASON


def _submission(tmp_path, body):
    pkg = tmp_path / "sub" / "evil"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(textwrap.dedent(body))
    return tmp_path / "sub"


@pytest.fixture
def worker_for(tmp_path):
    workers = []

    def make(body, **limits):
        w = WorkerClient(_submission(tmp_path, body), Limits(**limits), isolation=isolation.SANDBOX)
        workers.append(w)
        return w, w.request({"op": "import", "module": "evil"})

    yield make
    for w in workers:
        w.close()


def _call(worker, fn, *args, timeout=30):
    return worker.request(
        {"op": "call", "target": fn, "args": list(args), "kwargs": {}}, timeout=timeout
    )


ATTEMPTS = """
import os, sys

def attempt(fn):
    try:
        return "ok: " + str(fn())[:300]
    except BaseException as exc:
        return "refused: " + type(exc).__name__

def read(path):
    return attempt(lambda: open(path, "rb").read(100))

def listdir(path):
    return attempt(lambda: os.listdir(path))

def write(path):
    def go():
        with open(path, "w") as fh:
            fh.write("import os  # planted\\n")
        return path
    return attempt(go)

def environ():
    return dict(os.environ)

def ids():
    return [os.getuid(), os.geteuid(), os.getgid()]

def processes():
    return sorted(int(p) for p in os.listdir("/proc") if p.isdigit())

def cmdlines():
    out = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                out.append(open(f"/proc/{p}/cmdline", "rb").read().decode("utf-8", "replace"))
            except OSError:
                pass
    return out

def connect():
    import socket
    return attempt(lambda: socket.create_connection(("127.0.0.1", 22), timeout=2))
"""


@needs_sandbox
@pytest.mark.parametrize(
    "what", ["solutions", "reference", "grader", "data", ".course-secret", "tests"]
)
def test_course_files_are_invisible(worker_for, what):
    w, evil = worker_for(ATTEMPTS)
    path = str(ROOT / what)
    assert _call(w, evil.read, path + "/__init__.py").startswith("refused"), what
    assert _call(w, evil.listdir, path).startswith("refused"), what
    assert _call(w, evil.read, path).startswith("refused"), what


@needs_sandbox
def test_grader_paths_appear_nowhere_in_the_sandbox(worker_for):
    w, evil = worker_for(ATTEMPTS)
    lines = " ".join(_call(w, evil.cmdlines))
    assert str(ROOT / "solutions") not in lines and str(ROOT / "grader") not in lines, lines
    assert "/submission" in lines


@needs_sandbox
def test_the_environment_is_clean(worker_for, monkeypatch):
    monkeypatch.setenv("COURSE_SECRET", "do-not-leak-this")
    w, evil = worker_for(ATTEMPTS)
    env = _call(w, evil.environ)
    assert "COURSE_SECRET" not in env and "do-not-leak-this" not in repr(env)
    assert set(env) <= {
        "PATH",
        "HOME",
        "TMPDIR",
        "LANG",
        "PYTHONHASHSEED",
        "PYTHONDONTWRITEBYTECODE",
        "MPLBACKEND",
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "PWD",
    }


@needs_sandbox
def test_nothing_outside_scratch_and_tmp_is_writable(worker_for):
    w, evil = worker_for(ATTEMPTS)
    site = os.path.dirname(np.__file__)
    for target in (
        site + "/../planted.pth",
        os.path.dirname(os.__file__) + "/planted.pth",
        "/submission/evil/planted.py",
        "/usr/planted",
        "/grader-worker/planted",
        str(ROOT / "grader" / "planted.py"),
    ):
        assert _call(w, evil.write, target).startswith("refused"), target
    assert _call(w, evil.write, "/scratch/fine.py").startswith("ok")
    assert _call(w, evil.write, "/tmp/fine.py").startswith("ok")
    assert not (ROOT / "grader" / "planted.py").exists()
    assert not os.path.exists(os.path.join(site, "..", "planted.pth"))


@needs_sandbox
def test_the_grader_and_other_processes_are_invisible(worker_for):
    w, evil = worker_for(ATTEMPTS)
    pids = _call(w, evil.processes)
    assert os.getpid() not in pids or len(pids) <= 3
    assert len(pids) <= 3, pids  # bwrap's init, the worker (and setpriv's exec of it)


@needs_sandbox
def test_no_network(worker_for):
    w, evil = worker_for(ATTEMPTS)
    assert _call(w, evil.connect).startswith("refused")


@needs_sandbox
@pytest.mark.skipif(os.geteuid() != 0, reason="the uid drop applies when the grader runs as root")
def test_root_grader_runs_student_code_as_an_unprivileged_user(worker_for):
    w, evil = worker_for(ATTEMPTS)
    uid, euid, gid = _call(w, evil.ids)
    assert uid >= isolation.UID_BASE and euid == uid and gid >= isolation.UID_BASE


DAEMON = """
import os, time

def leave_a_daemon(marker):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(1.5)
            # would overwrite a results file if it were still alive and could reach it
            open(marker, "w").write("still here")
            os._exit(0)
        os._exit(0)
    return "forked"
"""


@needs_sandbox
def test_no_process_outlives_the_worker(worker_for, tmp_path):
    w, evil = worker_for(DAEMON)
    marker = tmp_path / "marker"
    assert _call(w, evil.leave_a_daemon, str(marker)) == "forked"
    w.close()
    time.sleep(2.5)
    assert not marker.exists()
    ps = subprocess.run(["ps", "-eo", "uid="], capture_output=True, text=True).stdout.split()
    mine = [u for u in ps if int(u) == isolation.UID_BASE + os.getpid()]
    assert not mine, "processes of the sandbox's user are still running"


FORKS = """
import os, time

def fork_many(n):
    made = 0
    try:
        for _ in range(n):
            if os.fork() == 0:
                time.sleep(20)
                os._exit(0)
            made += 1
    except OSError:
        pass
    return made

def hold_memory_in_children(children, mb):
    for _ in range(children):
        if os.fork() == 0:
            block = bytearray(mb << 20)
            for i in range(0, len(block), 4096):
                block[i] = 1
            time.sleep(20)
            os._exit(0)
    time.sleep(4)
    # What the children hold together, as the kernel counts it for this sandbox.
    total = 0
    for p in os.listdir("/proc"):
        if p.isdigit() and int(p) != os.getpid():
            try:
                for line in open(f"/proc/{p}/status"):
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) // 1024
            except OSError:
                pass
    return total
"""


@needs_sandbox
@pytest.mark.skipif(
    os.geteuid() != 0 and not isolation.Cgroup.available(), reason="no process limit without root"
)
def test_process_count_is_limited(worker_for):
    w, evil = worker_for(FORKS, max_processes=32)
    made = _call(w, evil.fork_many, 300)
    assert made < 100, made


@needs_sandbox
@pytest.mark.skipif(
    not isolation.Cgroup.available(), reason="needs a cgroup for a shared memory limit"
)
def test_memory_is_limited_for_the_worker_and_its_children_together(worker_for):
    w, evil = worker_for(FORKS, memory_mb=1024)
    try:
        held = _call(w, evil.hold_memory_in_children, 4, 400)
    except StudentError as exc:
        assert exc.kind in ("memory", "crash"), exc.summary
    else:
        assert held < 1100, f"the children hold {held} MiB together, over the 1024 MiB limit"


SPACE = """
def fill(folder, mb_per_file, files):
    written = 0
    try:
        for i in range(files):
            with open(f"{folder}/f{i}", "wb") as fh:
                fh.write(b"0" * (mb_per_file << 20))
            written += mb_per_file
    except OSError as exc:
        return [written, type(exc).__name__]
    return [written, "no error"]
"""


@needs_sandbox
@pytest.mark.parametrize("folder,limit", [("/scratch", 256), ("/tmp", 64)])
def test_scratch_and_tmp_are_private_and_bounded(worker_for, folder, limit):
    w, evil = worker_for(SPACE)
    written, error = _call(w, evil.fill, folder, 16, 40, timeout=60)
    assert written <= limit and error == "OSError", (written, error)


@needs_sandbox
def test_a_symlink_in_the_submission_is_not_followed(tmp_path):
    secret = tmp_path / "outside.txt"
    secret.write_text("grader-side file")
    sub = _submission(
        tmp_path, "import os\ndef look():\n    return os.listdir('/submission/evil')\n"
    )
    os.symlink(secret, sub / "evil" / "link.txt")
    w = WorkerClient(sub, Limits(), isolation=isolation.SANDBOX)
    try:
        evil = w.request({"op": "import", "module": "evil"})
        assert "link.txt" not in _call(w, evil.look)
    finally:
        w.close()


def test_copy_refuses_an_oversized_submission(tmp_path):
    src = tmp_path / "big"
    src.mkdir()
    for i in range(5):
        (src / f"f{i}.bin").write_bytes(b"0" * 1024)
    with pytest.raises(isolation.SubmissionTooLarge):
        isolation.copy_submission(src, tmp_path / "copy", max_bytes=3000)
    with pytest.raises(isolation.SubmissionTooLarge):
        isolation.copy_submission(src, tmp_path / "copy2", max_files=3)


FORGE = """
import __main__
import numpy as np

def square(x):
    return np.asarray(x) ** 2

# An attempt to make the numerical gradient agree with a wrong backward (zeros), by
# replacing the worker's operation OP.
def _forged(self, msg):
    return np.zeros(3)

setattr(__main__.Worker, "OP", _forged)
"""


@pytest.mark.parametrize(
    "level", [isolation.PROCESS, pytest.param(isolation.SANDBOX, marks=needs_sandbox)]
)
def test_a_replaced_worker_gradient_operation_is_not_trusted(tmp_path, level):
    # The operation that used to compute the gradient inside the worker: no longer asked.
    w = WorkerClient(
        _submission(tmp_path, FORGE.replace("OP", "op_numgrad")), Limits(), isolation=level
    )
    try:
        evil = w.request({"op": "import", "module": "evil"})
        x = np.array([1.0, -2.0, 0.5])
        grad = w.numeric_gradient(evil.square, [x], 0, np.ones(3), 1e-6)
        np.testing.assert_allclose(grad, 2 * x, rtol=1e-6)
    finally:
        w.close()


def test_forged_perturbed_outputs_never_pass_as_a_gradient(tmp_path):
    # The operation that evaluates the perturbed inputs, replaced: the grader checks what
    # comes back and takes the differences itself, so a forged reply is an error.
    w = WorkerClient(
        _submission(tmp_path, FORGE.replace("OP", "op_perturbed")),
        Limits(),
        isolation=isolation.PROCESS,
    )
    try:
        evil = w.request({"op": "import", "module": "evil"})
        with pytest.raises(StudentError):
            w.numeric_gradient(evil.square, [np.array([1.0, -2.0, 0.5])], 0, np.ones(3), 1e-6)
    finally:
        w.close()


def test_a_huge_error_type_name_is_cut_short(tmp_path):
    body = "def boom():\n    raise type('E' * 1000000, (Exception,), {})('x' * 1000000)\n"
    w = WorkerClient(_submission(tmp_path, body), Limits(), isolation=isolation.PROCESS)
    try:
        evil = w.request({"op": "import", "module": "evil"})
        with pytest.raises(StudentError) as info:
            _call(w, evil.boom)
        assert len(info.value.summary) < 5000
    finally:
        w.close()


def test_machine_kill_is_not_charged_as_a_student_crash(tmp_path):
    body = "import os, time\ndef pid():\n    return os.getpid()\ndef wait():\n    time.sleep(30)\n"
    w = WorkerClient(_submission(tmp_path, body), Limits(), isolation=isolation.PROCESS)
    try:
        evil = w.request({"op": "import", "module": "evil"})
        pid = _call(w, evil.pid)
        killer = subprocess.Popen(
            [sys.executable, "-c", f"import os, time; time.sleep(1); os.kill({pid}, 9)"]
        )
        with pytest.raises(StudentError) as info:
            _call(w, evil.wait)
        killer.wait()
        assert info.value.kind == "infrastructure", info.value.summary
    finally:
        w.close()


# ------------------------------------------------------------------- the "user" level


@pytest.fixture
def python_for_other_users():
    """A folder any user can traverse (pytest's tmp_path sits in a private folder)."""
    import tempfile

    base = tempfile.mkdtemp(prefix="nnfs-test-venv-")
    os.chmod(base, 0o755)
    yield _python_for_other_users(Path(base))
    shutil.rmtree(base, ignore_errors=True)


def _python_for_other_users(tmp_path):
    """A virtual environment of the system's Python that any user can run, with the course
    environment's numpy copied in (same Python minor version), or None."""
    system = "/usr/bin/python3"
    if os.geteuid() != 0 or not os.path.exists(system):
        return None
    version = subprocess.run(
        [system, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True
    ).stdout.strip()
    if version != str(tuple(sys.version_info[:2])):
        return None
    venv = tmp_path / "venv"
    if subprocess.run(
        [system, "-m", "venv", "--without-pip", str(venv)], capture_output=True
    ).returncode:
        return None
    site = next((venv / "lib").glob("python3*/site-packages"))
    here = os.path.dirname(os.path.dirname(np.__file__))
    for name in os.listdir(here):
        if name == "numpy" or name.startswith("numpy.libs") or name.startswith("numpy-"):
            src = os.path.join(here, name)
            (shutil.copytree if os.path.isdir(src) else shutil.copy)(src, site / name)
    os.chmod(tmp_path, 0o755)
    return str(venv / "bin" / "python")


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="the user level needs a grader running as root, and setpriv",
)
def test_user_level_runs_as_its_own_user_and_leaves_nothing(tmp_path, python_for_other_users):
    python = python_for_other_users
    if python is None:
        pytest.skip("no system Python of the same version to run as another user")
    body = ATTEMPTS + DAEMON
    sub = _submission(tmp_path, body)
    os.chmod(tmp_path / "sub", 0o700)  # not readable by the worker's user: it gets a copy
    marker = tmp_path / "marker"
    w = WorkerClient(sub, Limits(), isolation=isolation.USER, python=python)
    try:
        evil = w.request({"op": "import", "module": "evil"})
        uid, euid, _ = _call(w, evil.ids)
        assert uid == euid >= isolation.UID_BASE
        assert _call(w, evil.write, str(sub / "evil" / "planted.py")).startswith("refused")
        assert _call(w, evil.write, os.path.dirname(os.__file__) + "/planted.pth").startswith(
            "refused"
        )
        assert _call(w, evil.write, "fine.txt").startswith("ok")
        assert "COURSE_SECRET" not in _call(w, evil.environ)
        _call(w, evil.leave_a_daemon, str(marker))
    finally:
        w.close()
    time.sleep(2.5)
    assert not marker.exists()
    assert not (sub / "evil" / "planted.py").exists()


def test_user_level_is_refused_when_the_course_is_readable_by_others(tmp_path, monkeypatch):
    course = tmp_path / "course"
    for name in ("solutions", "reference", "grader", "data"):
        (course / name).mkdir(parents=True)
    os.chmod(course / "reference", 0o755)
    monkeypatch.setattr(isolation, "course_root", lambda: course)
    if os.geteuid() != 0:
        ok, why = isolation.probe_user_level()
        assert not ok and "root" in why
        return
    ok, why = isolation.probe_user_level()
    assert not ok and "reference" in why and "chmod -R go-rwx" in why


# ------------------------------------------------------------------ the grading policy


def _grade_cli(*args, secret=None):
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "COURSE_SECRET"
    }
    if secret:
        env["COURSE_SECRET"] = secret
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "grader",
            "grade",
            "ch01",
            "--submission",
            str(ROOT / "solutions"),
            "--brief",
            *args,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_public_mode_grades_at_the_process_level(tmp_path):
    """A student's laptop without a sandbox: public mode works, and says how it was isolated."""
    results = tmp_path / "results.json"
    run = _grade_cli("--mode", "public", "--isolation", "process", "--results", str(results))
    assert run.returncode == 0, run.stdout + run.stderr
    import json

    data = json.loads(results.read_text())
    assert data["score"] == data["max_score"] > 0
    assert data["isolation"].startswith("process") and "isolation: process" in run.stdout


def test_a_students_hidden_grading_refuses_the_process_level():
    run = _grade_cli("--student", "alice", "--isolation", "process", secret="s3cret")
    assert (
        run.returncode == 2
        and "refusing to grade students' code without file-system isolation" in run.stderr
    )
    assert "--allow-weak-isolation" in run.stderr


def test_allow_weak_isolation_grades_and_warns():
    run = _grade_cli(
        "--student", "alice", "--isolation", "process", "--allow-weak-isolation", secret="s3cret"
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "WARNING: grading without file-system isolation" in run.stderr


@needs_sandbox
def test_a_students_hidden_grading_uses_the_sandbox():
    run = _grade_cli("--student", "alice", secret="s3cret")
    assert run.returncode == 0 and "isolation: sandbox" in run.stdout, run.stdout + run.stderr
