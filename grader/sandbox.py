"""The grader's side of the worker: start it, talk to it, time it out, restart it.

Student code runs only in the worker process (``grader/worker.py``): with a scratch
working directory, resource limits (memory, CPU, file size), one BLAS thread, and a
wall-clock limit on every call. A call that hangs is killed with its process group;
a worker that dies (``os._exit``, a segfault, a limit) is restarted for the next call.
Whatever happens, the grader gets a :class:`StudentError` it can report, never a crash.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .isolation import (
    PROCESS,
    SANDBOX,
    USER,
    kill_user,
    read_inner_pid,
    remove_tree,
    sandbox_launch,
    user_launch,
    wait_gone,
)
from .worker import CodecError, decode, encode, frame, parse_frame

WORKER_SCRIPT = Path(__file__).with_name("worker.py")
MAX_REPLY_BYTES = 256 * 1024 * 1024
# A worker goes on with the next chapter only while its address space is below this share of
# the memory limit; else a fresh worker starts (see WorkerClient.next_chapter).
REUSE_MEMORY_SHARE = 0.25


class StudentError(Exception):
    """Student code failed: raised, hung, exited, crashed, or returned something that
    cannot be graded. ``kind`` is one of: exception, not_implemented, import, timeout,
    crash, exit, memory, codec."""

    def __init__(self, kind, summary, details=""):
        super().__init__(summary)
        self.kind = kind
        self.summary = summary
        self.details = details


class Limits:
    def __init__(
        self, call_timeout=10.0, memory_mb=3072, cpu_seconds=900, file_mb=64, max_processes=64
    ):
        self.call_timeout = call_timeout
        self.max_processes = max_processes
        self.memory_mb = memory_mb
        self.cpu_seconds = cpu_seconds
        self.file_mb = file_mb


def _limit_child(limits: Limits, cgroup=None, separate_uid=False):
    """Runs in the child between fork and exec: own session, cgroup, resource limits."""

    def apply():
        import resource

        os.setsid()
        if sys.platform.startswith("linux"):
            # Dies with the grading process, whatever kills it.
            try:
                import ctypes

                ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
            except (OSError, AttributeError):
                pass
        if cgroup is not None:
            cgroup.enter()
        mem = limits.memory_mb * 1024 * 1024
        settings = [
            (resource.RLIMIT_AS, mem),
            (resource.RLIMIT_CPU, limits.cpu_seconds),
            (resource.RLIMIT_FSIZE, limits.file_mb * 1024 * 1024),
            (resource.RLIMIT_CORE, 0),
        ]
        if separate_uid and os.geteuid() == 0:
            # Counted per user id: the sandbox's own id (see isolation.py).
            settings.append((resource.RLIMIT_NPROC, limits.max_processes))
        for res, value in settings:
            try:
                resource.setrlimit(res, (value, value))
            except (ValueError, OSError):
                pass

    return apply


class Remote:
    """A value that lives in the worker (a module, class, function or object).

    Attribute access, assignment and calls are forwarded to the worker; plain data
    (arrays, numbers, lists) comes back decoded, anything else as another Remote."""

    __slots__ = ("_w", "_ref", "_type", "_gen", "_label")

    def __init__(self, worker, ref, type_name, generation, label):
        object.__setattr__(self, "_w", worker)
        object.__setattr__(self, "_ref", ref)
        object.__setattr__(self, "_type", type_name)
        object.__setattr__(self, "_gen", generation)
        object.__setattr__(self, "_label", label)

    def __wire__(self):
        if self._gen != self._w.generation:
            raise StudentError(
                "crash",
                "an object from before a worker restart was used",
                "The worker running your code was restarted after an earlier failure.",
            )
        return {"$ref": self._ref}

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._w.request(
            {"op": "getattr", "target": self, "name": name}, label=f"{self._label}.{name}"
        )

    def __setattr__(self, name, value):
        self._w.request(
            {"op": "setattr", "target": self, "name": name, "value": value},
            label=f"setting {self._label}.{name}",
        )

    def __call__(self, *args, **kwargs):
        return self._w.request(
            {"op": "call", "target": self, "args": list(args), "kwargs": kwargs},
            label=f"{self._label}(...)",
        )

    def __repr__(self):
        return f"<{self._type} object>"

    def fetch(self):
        """The current value of this object as data (an array, a list, a number)."""
        return self._w.request({"op": "value", "target": self}, label=f"reading {self._label}")

    @property
    def type_name(self):
        return self._type


def worker_of(remote):
    """The WorkerClient a Remote lives in. (A function: a property of Remote would hide an
    attribute of the student's object of the same name.)"""
    return object.__getattribute__(remote, "_w")


def label_of(remote):
    """How feedback names a Remote (``ReLU().forward`` ...)."""
    return object.__getattribute__(remote, "_label")


class Rng:
    """Asks the worker for ``np.random.default_rng(seed)`` (Generators cannot be sent)."""

    def __init__(self, seed):
        self.seed = int(seed)

    def __wire__(self):
        return {"$rng": self.seed}


class Fn:
    """A named scalar test function f(x) -> float built in the worker (see worker.py)."""

    def __init__(self, name, **kw):
        self.name, self.kw = name, kw

    def __wire__(self):
        return {"$fn": self.name, "kw": encode(dict(self.kw))}


class WorkerClient:
    """One worker process for one submission root; restarted on demand."""

    def __init__(
        self, root, limits: Limits | None = None, overlays=None, python=None, isolation=PROCESS
    ):
        self.root = str(Path(root).resolve())
        self.isolation = isolation
        self.launch = None
        self.log = None
        self.limits = limits or Limits()
        self.overlays = {k: str(Path(v).resolve()) for k, v in (overlays or {}).items()}
        self.python = python or sys.executable
        self.proc = None
        self.scratch = None
        self.generation = 0
        self._next = 1
        self._buf = bytearray()

    # -- lifecycle
    def start(self):
        self.close()
        self.generation += 1
        self.log = tempfile.TemporaryFile()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin")
            if self.isolation == PROCESS
            else "/usr/bin:/bin",
            "HOME": "",
            "TMPDIR": "",
            "LANG": "C.UTF-8",
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "MPLBACKEND": "Agg",
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
        }
        if self.isolation == SANDBOX:
            self.launch = sandbox_launch(
                self.python, WORKER_SCRIPT, self.root, self.overlays, env, self.limits
            )
            argv, cwd, pass_fds = self.launch.argv, None, self.launch.pass_fds
        elif self.isolation == USER:
            self.launch = user_launch(
                self.python, WORKER_SCRIPT, self.root, self.overlays, env, self.limits
            )
            argv, cwd, pass_fds, env = self.launch.argv, self.launch.cwd, (), self.launch.env
        else:
            self.scratch = tempfile.mkdtemp(prefix="grader-scratch-")
            env["HOME"] = env["TMPDIR"] = self.scratch
            argv = [
                self.python,
                "-I",
                "-X",
                "utf8",
                str(WORKER_SCRIPT),
                self.root,
                json.dumps(self.overlays),
            ]
            cwd, pass_fds = self.scratch, ()
        cgroup = self.launch.cgroup if self.launch else None
        try:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.log,
                cwd=cwd,
                env=env,
                pass_fds=pass_fds,
                preexec_fn=_limit_child(
                    self.limits, cgroup, separate_uid=self.isolation in (SANDBOX, USER)
                ),
            )
        except OSError as exc:
            self.close()
            raise StudentError(
                "infrastructure", f"the grader could not start the worker: {exc}"
            ) from None
        if self.launch is not None and self.launch.info_fd is not None:
            read_inner_pid(self.launch)
        self._buf = bytearray()
        try:
            self._read_reply(0, timeout=60, label="starting the worker")
        except StudentError as exc:
            # No student code has run yet (it is imported by a later request): the machine
            # or the grader's set-up is at fault.
            raise StudentError(
                "infrastructure",
                f"the grader could not start the worker: {exc.summary}",
                exc.details,
            ) from None

    def close(self):
        proc, self.proc = self.proc, None
        if proc is not None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()
            for stream in (proc.stdin, proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
        launch, self.launch = self.launch, None
        if launch is not None:
            # Every process of the sandbox ends before the grader goes on.
            wait_gone(launch.inner_pid)
            if launch.uid is not None:
                kill_user(launch.uid)
            if launch.cgroup is not None:
                launch.cgroup.remove()
            for fd in launch.info_fd or ():
                try:
                    os.close(fd)
                except OSError:
                    pass
            if launch.args_file is not None:
                launch.args_file.close()
            remove_tree(launch.copy)
        if self.log is not None:
            try:
                self.log.close()
            except OSError:
                pass
            self.log = None
        if self.scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None

    def same_overlays(self, overlays):
        """Does this worker import the same earlier chapters from elsewhere as ``overlays``
        asks (chapter independence)?"""
        return self.overlays == {k: str(Path(v).resolve()) for k, v in (overlays or {}).items()}

    def next_chapter(self):
        """Go on with another chapter in the same worker: it forgets the previous chapter's
        objects and modules (``op_reset`` in worker.py), and the grader's references to them
        become invalid. A worker that fails to reset, or that keeps more than a quarter of the
        memory limit allocated, is closed; the next request starts a fresh one."""
        if not self.alive():
            self.close()
            return
        try:
            used = self.request({"op": "reset"}, label="starting the next chapter")
        except StudentError:
            self.close()
            return
        if not isinstance(used, int) or used > self.limits.memory_mb * REUSE_MEMORY_SHARE:
            # What the previous chapters leave allocated (freed memory is not always given
            # back) must not shorten the next chapter's memory limit: a fresh worker.
            self.close()
            return
        self.generation += 1

    def keep(self, value, label="an argument"):
        """Put ``value`` into the worker and return a Remote for it: passing the Remote to
        student code passes that very object, and ``.fetch()`` shows whether it changed."""
        return self.request({"op": "keep", "value": value}, label=f"storing {label}")

    def numeric_gradient(
        self, method, args, wrt, dout, h, timeout=None, label="a numerical gradient"
    ):
        """Central differences of ``sum(method(*args) * dout)`` with respect to ``args[wrt]``,
        computed here from the outputs the worker returns for each perturbed input."""
        x = np.asarray(args[wrt], dtype=np.float64)
        dout = np.asarray(dout, dtype=np.float64)
        outputs = self.request(
            {"op": "perturbed", "target": method, "args": list(args), "wrt": wrt, "h": h},
            timeout=timeout,
            label=label,
        )
        outputs = np.asarray(outputs, dtype=np.float64)
        want_shape = (x.size, 2, *dout.shape)
        if outputs.shape != want_shape:
            raise StudentError(
                "exception",
                f"{label}: the outputs have shape {outputs.shape[2:]} instead of {dout.shape}",
            )
        axes = tuple(range(2, outputs.ndim))
        sums = np.sum(outputs * dout, axis=axes) if axes else outputs * dout
        return ((sums[:, 0] - sums[:, 1]) / (2 * h)).reshape(x.shape)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    # -- requests
    def request(self, msg, timeout=None, label="a call"):
        if not self.alive():
            self.start()
        msg_id = self._next
        self._next += 1
        try:
            data = frame({"id": msg_id, **msg})
        except CodecError as exc:
            raise StudentError("codec", f"cannot send this value to your code: {exc}") from None
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self._crashed(label)
        reply = self._read_reply(msg_id, timeout or self.limits.call_timeout, label)
        return reply

    def _output_tail(self, limit=1200):
        if self.log is None:
            return ""
        try:
            self.log.flush()
            self.log.seek(0, os.SEEK_END)
            size = self.log.tell()
            self.log.seek(max(0, size - limit))
            return self.log.read().decode("utf-8", "replace").strip()
        except (OSError, ValueError):
            return ""

    def _crashed(self, label):
        code = self.proc.wait() if self.proc else None
        tail = self._output_tail()
        oom = bool(self.launch and self.launch.cgroup and self.launch.cgroup.oom_killed())
        sandboxed = self.isolation == SANDBOX
        self.close()
        signum = None
        if code is not None and code < 0:
            signum = -code
        elif sandboxed and code is not None and code > 128:
            signum = code - 128  # bwrap reports a signal as 128 + its number
        details = f"last output:\n{tail}" if tail else ""
        if oom:
            raise StudentError(
                "memory",
                f"your code used more memory than allowed during {label} "
                f"({self.limits.memory_mb} MiB for all its processes together) and was stopped",
                details,
            )
        if signum == signal.SIGKILL:
            # Nothing in the grader sends SIGKILL to a running call (time-outs are reported
            # as such): the machine did (out of memory, an operator). Not the student's fault.
            raise StudentError(
                "infrastructure",
                f"the process running your code was killed during {label} "
                "by the machine (not by your code)",
                details,
            )
        if signum is not None:
            name = (
                signal.Signals(signum).name
                if signum in signal.Signals._value2member_map_
                else str(signum)
            )
            why = {
                "SIGXCPU": "it used up its CPU time limit",
                "SIGXFSZ": "it wrote a file larger than the limit",
                "SIGSEGV": "it crashed (segmentation fault)",
            }.get(name, f"it was killed by {name}")
            summary = f"the process running your code died during {label}: {why}"
        else:
            summary = f"your code ended the worker process (exit code {code}) during {label}: os._exit() or a crash?"
        raise StudentError("crash", summary, details)

    def _read_reply(self, msg_id, timeout, label):
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        sel = selectors.DefaultSelector()
        sel.register(fd, selectors.EVENT_READ)
        buf = self._buf
        try:
            while True:
                try:
                    parsed = parse_frame(buf, MAX_REPLY_BYTES)
                except (CodecError, ValueError) as exc:
                    self.close()
                    raise StudentError(
                        "codec",
                        f"{label} sent more data than the grader accepts or a "
                        f"malformed reply ({exc})",
                    ) from None
                if parsed is not None:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    tail = self._output_tail()
                    self.close()
                    raise StudentError(
                        "timeout",
                        f"{label} did not finish within {timeout:g} s (an endless loop?) and was stopped",
                        f"last output:\n{tail}" if tail else "",
                    )
                if not sel.select(min(left, 1.0)):
                    continue
                chunk = os.read(fd, 1 << 22)
                if not chunk:
                    self._crashed(label)
                buf += chunk
        finally:
            sel.close()
        reply, buffers, used = parsed
        del buf[:used]
        # The worker marks its replies while the student's files have warnings it has not
        # handed over yet (see plugin._take_warnings): no round trip to ask otherwise.
        self.warnings_pending = reply.get("warned") is True if isinstance(reply, dict) else True
        try:
            if reply.get("id") != msg_id:
                raise CodecError("reply out of order")
            if "error" in reply:
                err = reply["error"]
                if not isinstance(err, dict):
                    raise CodecError("malformed error")
                raise StudentError(
                    str(err.get("kind"))[:40],
                    _error_summary(err, label),
                    str(err.get("traceback") or "")[:20000],
                )
            return decode(reply["ok"], self._resolve, buffers=buffers)
        except (ValueError, KeyError, TypeError, CodecError) as exc:
            self.close()
            raise StudentError(
                "codec", f"the worker sent a reply the grader cannot read ({exc})"
            ) from None

    def _resolve(self, tag, data):
        if tag != "$ref":
            raise CodecError(f"unexpected {tag} in a reply")
        ref = data["$ref"]
        if not isinstance(ref, int):
            raise CodecError("malformed reference")
        return Remote(
            self, ref, str(data.get("type", "object"))[:200], self.generation, str(data.get("type"))
        )


def _error_summary(err, label):
    kind, etype, message = (
        err.get("kind"),
        str(err.get("type"))[:200],
        str(err.get("message", ""))[:2000],
    )
    first = message.strip().splitlines()[0] if message.strip() else ""
    if kind == "not_implemented":
        return f"not implemented yet ({first or label})"
    if kind == "exit":
        return f"your code called sys.exit({first}) during {label}"
    if kind == "memory":
        return f"your code ran out of memory during {label}"
    if kind == "codec":
        return f"{label} returned a value the grader cannot read: {first}"
    return f"{etype}: {first}" if first else str(etype)
