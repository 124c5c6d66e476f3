"""How the worker that runs student code is isolated from everything else.

Two levels, chosen per grading run and recorded in every result:

``sandbox``
    The worker runs inside bubblewrap (``bwrap``, the sandbox behind Flatpak): new
    mount, PID, network, IPC and UTS namespaces. Its file system holds, read-only, the
    operating system's ``/usr``, the Python installation and its packages, the worker
    script, a copy of the submission and the earlier chapters it may import; and, writable,
    a private scratch folder and a private ``/tmp`` (both in memory, each with a size
    limit). It sees no ``solutions/``, ``reference/``, ``grader/``, ``data/``, secret,
    environment of the grader, other submission or output folder, and has no network.
    When the grader runs as root, the worker also drops to an unprivileged user id of its
    own (``setpriv``) with a process limit; where the machine lets the grader create
    cgroups, the worker and all its children share one memory and process budget.
    Whatever the worker starts dies with it (the PID namespace ends with its first process).

``user``
    Where namespaces are forbidden but the grader runs as root (a Docker container with
    the default seccomp profile, as on Gradescope): the worker runs as an unprivileged user
    id of its own (``setpriv``), with a private scratch folder, copies of the submission and
    the worker script, and a process limit; the course's folder must not be readable by
    other users (``chmod -R go-rwx``; the probe checks it). Every process of that user id is
    killed when the worker ends. No network or PID isolation.

``process``
    The fallback for a student's own laptop (macOS, Windows, Linux without user
    namespaces or without bubblewrap): a separate process with resource limits, a scratch
    working directory and a clean environment, as in public mode everywhere. It protects
    the grader from mistakes, not from an attacker. Hidden-mode commands refuse it unless
    the instructor asks for it explicitly.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .chapters import IGNORED_PARTS

SANDBOX = "sandbox"
USER = "user"
PROCESS = "process"
LEVELS = (SANDBOX, USER, PROCESS)
STRONG = (SANDBOX, USER)  # levels that keep the course's files out of reach

# Where things appear inside the sandbox.
INSIDE_SUBMISSION = "/submission"
INSIDE_OVERLAYS = "/chapters"
INSIDE_WORKER = "/grader-worker/worker.py"
INSIDE_SCRATCH = "/scratch"

UID_BASE = 1_000_000  # unprivileged ids for workers: UID_BASE + the grading process's pid
MAX_SUBMISSION_BYTES = 64 * 1024 * 1024
MAX_SUBMISSION_FILES = 5000
# Folders left out of the submission's copy: the grader's ignored folders, and version
# control and virtual environments (large, and nothing a chapter imports).
SKIPPED_DIRS = IGNORED_PARTS | {".git", ".hg", ".svn", ".nox", ".venv", "venv"}


class IsolationError(RuntimeError):
    """The requested isolation is not available on this machine."""


class SubmissionTooLarge(ValueError):
    pass


def bwrap_path():
    return shutil.which("bwrap")


_PROBE = {}


def probe():
    """(level, reason): the strongest isolation this machine offers, found by starting a
    trivial sandbox once per process."""
    if "result" in _PROBE:
        return _PROBE["result"]
    reasons = []
    result = None
    if not sys.platform.startswith("linux"):
        reasons.append(f"no sandbox on {sys.platform}")
    elif bwrap_path() is None:
        reasons.append("bubblewrap (bwrap) is not installed")
    else:
        argv = _bwrap_base(user_ns=os.geteuid() != 0) + ["--", sys.executable, "-I", "-c", "pass"]
        try:
            done = subprocess.run(argv, capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
            if done.returncode == 0:
                result = (SANDBOX, "bubblewrap namespaces")
            else:
                why = done.stderr.decode("utf-8", "replace").strip().splitlines()
                reasons.append(
                    f"bubblewrap cannot start a sandbox here: {why[-1] if why else done.returncode}"
                )
        except (OSError, subprocess.SubprocessError) as exc:
            reasons.append(f"bubblewrap cannot start a sandbox here: {exc}")
    if result is None:
        user_ok, why = probe_user_level()
        if user_ok:
            result = (USER, "a separate unprivileged user (" + "; ".join(reasons) + ")")
        else:
            reasons.append(why)
    if result is None:
        result = (PROCESS, "; ".join(reasons))
    _PROBE["result"] = result
    return result


def course_root():
    return Path(__file__).resolve().parent.parent


def _readable_by_others(path):
    """Could a user other than the owner (and outside its group) read ``path`` or list it?"""
    try:
        info = os.stat(path)
    except OSError:
        return False
    return bool(info.st_mode & stat.S_IROTH)


def probe_user_level():
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        return False, "no separate user: the grader does not run as root"
    if shutil.which("setpriv") is None:
        return False, "no separate user: setpriv (util-linux) is missing"
    root = course_root()
    exposed = [
        name
        for name in ("solutions", "reference", "grader", "data", ".course-secret", "")
        if _readable_by_others(root / name)
    ]
    if exposed:
        return False, (
            f"no separate user: the course folder is readable by other users "
            f"({', '.join(n or '.' for n in exposed)}); run `chmod -R go-rwx {root.name}`"
        )
    uid = str(UID_BASE + os.getpid())
    try:
        done = subprocess.run(
            [
                "setpriv",
                f"--reuid={uid}",
                f"--regid={uid}",
                "--clear-groups",
                "--",
                sys.executable,
                "-I",
                "-c",
                "import numpy",
            ],
            capture_output=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            cwd="/",
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return False, f"no separate user: {exc}"
    if done.returncode != 0:
        return False, "no separate user: Python and numpy are not readable by an unprivileged user"
    return True, ""


def choose(requested="auto"):
    """The level to use: ``auto`` takes the strongest available; ``sandbox`` insists on it."""
    if requested == PROCESS:  # always available: no sandbox to try first
        return PROCESS
    level, reason = probe()
    if requested == "auto":
        return level
    if requested not in LEVELS:
        raise IsolationError(f"unknown isolation level {requested!r}")
    if LEVELS.index(requested) < LEVELS.index(level):
        raise IsolationError(f"isolation level {requested!r} is not available: {reason}")
    return requested


def describe(level):
    """A short, human description of a level for results and gradebooks."""
    if level == SANDBOX:
        parts = ["bubblewrap namespaces (mount, pid, net, ipc, uts)"]
        if os.geteuid() == 0 and shutil.which("setpriv"):
            parts.append("unprivileged uid")
        if Cgroup.available():
            parts.append("cgroup memory+pids")
        return SANDBOX + ": " + ", ".join(parts)
    if level == USER:
        extra = ", cgroup memory+pids" if Cgroup.available() else ""
        return USER + ": unprivileged uid, private scratch, copied submission" + extra
    return PROCESS + ": separate process with resource limits (no file-system isolation)"


# ----------------------------------------------------------------------------- cgroups


class Cgroup:
    """A cgroup (v1 memory + pids controllers, or v2) holding one worker and its children.

    Only used where the grader may create cgroups (root on most Linux machines)."""

    V1 = Path("/sys/fs/cgroup")
    V2 = Path("/sys/fs/cgroup")

    def __init__(self, name, memory_bytes, max_pids):
        self.paths = []
        self.version = self._version()
        if self.version == 1:
            for ctl in ("memory", "pids"):
                path = self.V1 / ctl / "nnfs-grader" / name
                path.mkdir(parents=True, exist_ok=True)
                self.paths.append(path)
            mem, pids = self.paths
            _write(mem / "memory.limit_in_bytes", memory_bytes)
            if (mem / "memory.memsw.limit_in_bytes").exists():
                _write(mem / "memory.memsw.limit_in_bytes", memory_bytes, quiet=True)
            _write(pids / "pids.max", max_pids)
        else:
            path = self.V2 / "nnfs-grader" / name
            path.mkdir(parents=True, exist_ok=True)
            self.paths.append(path)
            _write(path / "memory.max", memory_bytes)
            _write(path / "memory.swap.max", 0, quiet=True)
            _write(path / "pids.max", max_pids)

    @classmethod
    def _version(cls):
        if (cls.V1 / "memory" / "memory.limit_in_bytes").exists() and (cls.V1 / "pids").is_dir():
            return 1
        if (cls.V2 / "cgroup.controllers").exists():
            return 2
        return None

    @classmethod
    def available(cls):
        if "cgroup" in _PROBE:
            return _PROBE["cgroup"]
        ok = False
        if sys.platform.startswith("linux") and os.geteuid() == 0:
            try:
                version = cls._version()
                if version == 2:
                    top = cls.V2 / "nnfs-grader"
                    top.mkdir(exist_ok=True)
                    controllers = (cls.V2 / "cgroup.subtree_control").read_text().split()
                    if not {"memory", "pids"} <= set(controllers):
                        _write(cls.V2 / "cgroup.subtree_control", "+memory +pids", quiet=True)
                    _write(top / "cgroup.subtree_control", "+memory +pids", quiet=True)
                    ok = {"memory", "pids"} <= set((top / "cgroup.controllers").read_text().split())
                elif version == 1:
                    probe_group = cls("probe-%d" % os.getpid(), 64 << 20, 8)
                    probe_group.remove()
                    ok = True
            except OSError:
                ok = False
        _PROBE["cgroup"] = ok
        return ok

    def enter(self):
        """Called in the child before exec: move this process into the cgroup."""
        for path in self.paths:
            with open(path / "cgroup.procs", "w") as fh:
                fh.write(str(os.getpid()))

    def pids(self):
        out = set()
        for path in self.paths:
            try:
                out.update(int(x) for x in (path / "cgroup.procs").read_text().split())
            except (OSError, ValueError):
                pass
        return out

    def oom_killed(self):
        """Did the kernel kill a process of this group for using too much memory?"""
        path = self.paths[0]
        try:
            if self.version == 1:
                text = (path / "memory.oom_control").read_text()
                failcnt = int((path / "memory.failcnt").read_text())
                kills = [
                    int(line.split()[1])
                    for line in text.splitlines()
                    if line.startswith("oom_kill ")
                ]
                return (kills[0] > 0) if kills else failcnt > 0
            events = (path / "memory.events").read_text()
            return any(
                line.startswith("oom_kill ") and int(line.split()[1]) > 0
                for line in events.splitlines()
            )
        except (OSError, ValueError, IndexError):
            return False

    def kill_all(self, wait=5.0):
        """SIGKILL every process in the group until it is empty (or ``wait`` passes)."""
        deadline = time.monotonic() + wait
        while True:
            pids = self.pids()
            if not pids:
                return True
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)

    def remove(self):
        self.kill_all()
        for path in self.paths:
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


def _write(path, value, quiet=False):
    try:
        with open(path, "w") as fh:
            fh.write(str(value))
    except OSError:
        if not quiet:
            raise


# ------------------------------------------------------------------- the submission copy


def copy_submission(src, dest, max_bytes=MAX_SUBMISSION_BYTES, max_files=MAX_SUBMISSION_FILES):
    """Copy a submission tree for the sandbox: regular files and folders only (symbolic
    links and special files are left out, never followed), readable by anyone, read-only.
    Raises SubmissionTooLarge past the size or file-count limit."""
    src, dest = Path(src), Path(dest)
    total = count = 0
    dest.mkdir(parents=True, exist_ok=True)
    for dirpath, dirnames, filenames in os.walk(src, followlinks=False):
        here = Path(dirpath)
        rel = here.relative_to(src)
        dirnames[:] = sorted(
            d for d in dirnames if d not in SKIPPED_DIRS and not (here / d).is_symlink()
        )
        for d in dirnames:
            (dest / rel / d).mkdir(exist_ok=True)
        for name in filenames:
            path = here / name
            try:
                info = os.lstat(path)
            except OSError:
                continue
            if not stat.S_ISREG(info.st_mode):
                continue
            count += 1
            total += info.st_size
            if count > max_files or total > max_bytes:
                raise SubmissionTooLarge(
                    f"the submission is larger than the grader accepts ({max_files} files, "
                    f"{max_bytes // (1024 * 1024)} MiB)"
                )
            target = dest / rel / name
            with open(path, "rb") as fin, open(target, "wb") as fout:
                shutil.copyfileobj(fin, fout)
            os.chmod(target, 0o444)
    for dirpath, _, _ in os.walk(dest):
        os.chmod(dirpath, 0o555)
    return dest


def remove_tree(path):
    """Remove a tree made read-only by copy_submission."""
    path = Path(path)
    if not path.exists():
        return
    for dirpath, _, _ in os.walk(path):
        try:
            os.chmod(dirpath, 0o755)
        except OSError:
            pass
    shutil.rmtree(path, ignore_errors=True)


# ------------------------------------------------------------------ the bwrap command line


def _system_binds():
    """The operating system's read-only parts: /usr and the merged-/usr links, or the
    old separate folders, plus what the dynamic loader reads from /etc."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for name in ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime"):
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    return args


def _bwrap_base(user_ns):
    args = [bwrap_path() or "bwrap"]
    if user_ns:
        args.append("--unshare-user")
    args += [
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--new-session",
        "--hostname",
        "sandbox",
    ]
    args += _system_binds()
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += _python_binds(sys.executable)
    args += ["--clearenv"]
    return args


def _python_roots(python):
    """Folders the Python interpreter ``python`` needs: its installation and, for a
    virtual environment, the environment."""
    python = Path(python)
    roots = set()
    exe = python.resolve()
    # prefix of the real interpreter: .../bin/python3.x -> ...
    roots.add(exe.parent.parent)
    venv = python.parent.parent
    if (venv / "pyvenv.cfg").exists():
        roots.add(venv.resolve())
        roots.add(venv)
    return {r for r in roots if not str(r).startswith("/usr")}


def _python_binds(python):
    args = []
    made = set()
    for root in sorted(_python_roots(python), key=lambda p: len(p.parts)):
        args += _parents(root, made)
        args += ["--ro-bind", str(root), str(root)]
    return args


def _parents(path, made):
    """bwrap creates missing parent folders as 0700, unreadable after the uid drop:
    create them 0755 first."""
    args = []
    for parent in reversed(Path(path).parents):
        p = str(parent)
        if p == "/" or p in made or p.startswith("/usr"):
            continue
        made.add(p)
        args += ["--perms", "0755", "--dir", p]
    return args


class Launch:
    """What it takes to start one sandboxed worker: argv, its fds, the cgroup, the copy."""

    def __init__(self, argv, pass_fds=(), cgroup=None, copy=None, info_fd=None, args_file=None):
        self.argv, self.pass_fds, self.cgroup, self.copy = argv, pass_fds, cgroup, copy
        self.info_fd, self.args_file = info_fd, args_file
        self.inner_pid = None
        self.uid = None
        self.cwd = None
        self.env = None


def sandbox_launch(
    python, worker_script, root, overlays, env, limits, scratch_mb=256, tmp_mb=64, max_pids=64
):
    """Build the command that starts ``worker_script`` for the submission ``root`` inside
    bubblewrap. ``overlays`` maps chapter package names to folders the worker may import
    them from (chapter independence). Returns a Launch whose argv is ready for Popen."""
    is_root = os.geteuid() == 0
    copy_dir = Path(tempfile.mkdtemp(prefix="grader-submission-"))
    os.chmod(copy_dir, 0o755)
    try:
        copy_submission(root, copy_dir / "s")
        # Copies, readable by the sandbox's user whatever the course folder's permissions.
        shutil.copyfile(worker_script, copy_dir / "worker.py")
        os.chmod(copy_dir / "worker.py", 0o444)
        overlay_copies = {
            name: copy_submission(path, copy_dir / "chapters" / name)
            for name, path in sorted((overlays or {}).items())
        }
    except BaseException:
        remove_tree(copy_dir)
        raise
    args = [
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--new-session",
        "--hostname",
        "sandbox",
    ]
    if not is_root:
        args.insert(0, "--unshare-user")
    args += _system_binds()
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--size", str(tmp_mb << 20), "--perms", "1777", "--tmpfs", "/tmp"]
    args += _python_binds(python)
    args += [
        "--perms",
        "0755",
        "--dir",
        "/grader-worker",
        "--ro-bind",
        str(copy_dir / "worker.py"),
        INSIDE_WORKER,
    ]
    args += ["--ro-bind", str(copy_dir / "s"), INSIDE_SUBMISSION]
    inside_overlays = {}
    if overlays:
        args += ["--perms", "0755", "--dir", INSIDE_OVERLAYS]
        for name, path in sorted(overlay_copies.items()):
            inside = f"{INSIDE_OVERLAYS}/{name}"
            args += ["--ro-bind", str(path), inside]
            inside_overlays[name] = inside
    args += [
        "--size",
        str(scratch_mb << 20),
        "--perms",
        "0777",
        "--tmpfs",
        INSIDE_SCRATCH,
        "--chdir",
        INSIDE_SCRATCH,
    ]
    args += ["--clearenv"]
    for key, value in env.items():
        value = {"HOME": INSIDE_SCRATCH, "TMPDIR": "/tmp"}.get(key, value)
        args += ["--setenv", key, value]
    info_r, info_w = os.pipe()
    args += ["--info-fd", str(info_w)]
    command = []
    if is_root and shutil.which("setpriv"):
        uid = str(UID_BASE + os.getpid())
        command += [
            "setpriv",
            f"--reuid={uid}",
            f"--regid={uid}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--",
        ]
    command += [
        str(python),
        "-I",
        "-X",
        "utf8",
        INSIDE_WORKER,
        INSIDE_SUBMISSION,
        json.dumps(inside_overlays),
    ]
    # The arguments travel through a file descriptor (--args), so that /proc/1/cmdline in
    # the sandbox does not show the grader's paths.
    args_file = tempfile.TemporaryFile()
    args_file.write(b"".join(a.encode() + b"\0" for a in args))
    args_file.seek(0)
    cgroup = None
    if Cgroup.available():
        cgroup = Cgroup(
            f"w{os.getpid()}-{time.monotonic_ns()}", limits.memory_mb << 20, max_pids * 2
        )
    launch = Launch(
        [bwrap_path(), "--args", str(args_file.fileno()), "--", *command],
        (args_file.fileno(), info_w),
        cgroup,
        copy_dir,
        info_fd=(info_r, info_w),
        args_file=args_file,
    )
    return launch


def read_inner_pid(launch, timeout=10.0):
    """The PID (outside) of the sandbox's first process, from bwrap's --info-fd."""
    info_r, info_w = launch.info_fd
    os.close(info_w)
    import selectors

    data = b""
    sel = selectors.DefaultSelector()
    sel.register(info_r, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    try:
        while b"}" not in data and time.monotonic() < deadline:
            if sel.select(0.2):
                chunk = os.read(info_r, 4096)
                if not chunk:
                    break
                data += chunk
    finally:
        sel.close()
        os.close(info_r)
    try:
        launch.inner_pid = int(json.loads(data.decode())["child-pid"])
    except (ValueError, KeyError, TypeError):
        launch.inner_pid = None
    return launch.inner_pid


def wait_gone(pid, timeout=5.0):
    """Wait until process ``pid`` has exited (gone or a zombie): for the sandbox's first
    process this means every process of the sandbox has ended."""
    if pid is None:
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                state = fh.read().rsplit(")", 1)[1].split()[0]
            if state in ("Z", "X"):
                return True
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return True
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        time.sleep(0.01)
    return False


def user_launch(python, worker_script, root, overlays, env, limits):
    """The ``user`` level: copies of the worker script, the submission and the allowed
    chapters in a private folder, run as an unprivileged user id of this grading process."""
    uid = UID_BASE + os.getpid()
    base = Path(tempfile.mkdtemp(prefix="grader-user-"))
    os.chmod(base, 0o755)
    try:
        copy_submission(root, base / "submission")
        inside_overlays = {}
        for name, path in sorted((overlays or {}).items()):
            inside_overlays[name] = str(copy_submission(path, base / "chapters" / name))
        (base / "worker").mkdir()
        shutil.copyfile(worker_script, base / "worker" / "worker.py")
        os.chmod(base / "worker" / "worker.py", 0o444)
        os.chmod(base / "worker", 0o555)
        scratch = base / "scratch"
        scratch.mkdir(mode=0o700)
        os.chown(scratch, uid, uid)
    except BaseException:
        remove_tree(base)
        raise
    env = dict(env, HOME=str(scratch), TMPDIR=str(scratch))
    command = [
        "setpriv",
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--",
        str(python),
        "-I",
        "-X",
        "utf8",
        str(base / "worker" / "worker.py"),
        str(base / "submission"),
        json.dumps(inside_overlays),
    ]
    cgroup = None
    if Cgroup.available():
        cgroup = Cgroup(f"u{os.getpid()}-{time.monotonic_ns()}", limits.memory_mb << 20, 128)
    launch = Launch(command, (), cgroup, base)
    launch.uid = uid
    launch.cwd = str(scratch)
    launch.env = env
    return launch


def kill_user(uid, wait=5.0):
    """SIGKILL every process of user id ``uid`` until none is left."""
    deadline = time.monotonic() + wait
    while True:
        found = False
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                if os.stat(f"/proc/{entry}").st_uid != uid:
                    continue
                with open(f"/proc/{entry}/stat") as fh:
                    if fh.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                        continue
                found = True
                os.kill(int(entry), signal.SIGKILL)
            except (OSError, IndexError):
                pass
        if not found or time.monotonic() > deadline:
            return not found
        time.sleep(0.01)
