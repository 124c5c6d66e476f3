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

from .worker import CodecError, decode, encode

WORKER_SCRIPT = Path(__file__).with_name("worker.py")
MAX_REPLY_BYTES = 512 * 1024 * 1024


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
    def __init__(self, call_timeout=10.0, memory_mb=3072, cpu_seconds=900, file_mb=64):
        self.call_timeout = call_timeout
        self.memory_mb = memory_mb
        self.cpu_seconds = cpu_seconds
        self.file_mb = file_mb


def _limit_child(limits: Limits):
    def apply():
        import resource

        os.setsid()
        mem = limits.memory_mb * 1024 * 1024
        for res, value in (
            (resource.RLIMIT_AS, mem),
            (resource.RLIMIT_CPU, limits.cpu_seconds),
            (resource.RLIMIT_FSIZE, limits.file_mb * 1024 * 1024),
            (resource.RLIMIT_CORE, 0),
        ):
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
                "crash", "an object from before a worker restart was used",
                "The worker running your code was restarted after an earlier failure.",
            )
        return {"$ref": self._ref}

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._w.request({"op": "getattr", "target": self, "name": name}, label=f"{self._label}.{name}")

    def __setattr__(self, name, value):
        self._w.request({"op": "setattr", "target": self, "name": name, "value": value},
                        label=f"setting {self._label}.{name}")

    def __call__(self, *args, **kwargs):
        return self._w.request({"op": "call", "target": self, "args": list(args), "kwargs": kwargs},
                               label=f"{self._label}(...)")

    def __repr__(self):
        return f"<{self._type} object>"

    def fetch(self):
        """The current value of this object as data (an array, a list, a number)."""
        return self._w.request({"op": "value", "target": self}, label=f"reading {self._label}")

    @property
    def type_name(self):
        return self._type


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

    def __init__(self, root, limits: Limits | None = None, overlays=None, python=None):
        self.root = str(Path(root).resolve())
        self.limits = limits or Limits()
        self.overlays = {k: str(Path(v).resolve()) for k, v in (overlays or {}).items()}
        self.python = python or sys.executable
        self.proc = None
        self.scratch = None
        self.generation = 0
        self._next = 1
        self._buf = b""

    # -- lifecycle
    def start(self):
        self.close()
        self.generation += 1
        self.scratch = tempfile.mkdtemp(prefix="grader-scratch-")
        self.log = open(os.path.join(self.scratch, ".worker-output"), "w+b")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": self.scratch,
            "TMPDIR": self.scratch,
            "LANG": "C.UTF-8",
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "MPLBACKEND": "Agg",
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
        }
        self.proc = subprocess.Popen(
            [self.python, "-I", "-X", "utf8", str(WORKER_SCRIPT), self.root, json.dumps(self.overlays)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            cwd=self.scratch,
            env=env,
            preexec_fn=_limit_child(self.limits),
        )
        self._buf = b""
        self._read_reply(0, timeout=60, label="starting the worker")

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
        if self.scratch:
            try:
                self.log.close()
            except OSError:
                pass
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None

    def keep(self, value, label="an argument"):
        """Put ``value`` into the worker and return a Remote for it: passing the Remote to
        student code passes that very object, and ``.fetch()`` shows whether it changed."""
        return self.request({"op": "keep", "value": value}, label=f"storing {label}")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    # -- requests
    def request(self, msg, timeout=None, label="a call"):
        if not self.alive():
            self.start()
        msg_id = self._next
        self._next += 1
        try:
            line = json.dumps({"id": msg_id, **{k: encode(v) for k, v in msg.items()}}).encode()
        except CodecError as exc:
            raise StudentError("codec", f"cannot send this value to your code: {exc}") from None
        try:
            self.proc.stdin.write(line + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self._crashed(label)
        reply = self._read_reply(msg_id, timeout or self.limits.call_timeout, label)
        return reply

    def _output_tail(self, limit=1200):
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
        self.close()
        if code is not None and code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
            why = {
                "SIGXCPU": "it used up its CPU time limit",
                "SIGXFSZ": "it wrote a file larger than the limit",
                "SIGKILL": "it was killed (out of memory?)",
                "SIGSEGV": "it crashed (segmentation fault)",
            }.get(name, f"it was killed by {name}")
            summary = f"the process running your code died during {label}: {why}"
        else:
            summary = f"your code ended the worker process (exit code {code}) during {label}: os._exit() or a crash?"
        raise StudentError("crash", summary, f"last output:\n{tail}" if tail else "")

    def _read_reply(self, msg_id, timeout, label):
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        sel = selectors.DefaultSelector()
        sel.register(fd, selectors.EVENT_READ)
        try:
            while b"\n" not in self._buf:
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
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    self._crashed(label)
                self._buf += chunk
                if len(self._buf) > MAX_REPLY_BYTES:
                    self.close()
                    raise StudentError("codec", f"{label} returned more data than the grader accepts")
        finally:
            sel.close()
        line, self._buf = self._buf.split(b"\n", 1)
        try:
            reply = json.loads(line)
            if not isinstance(reply, dict) or reply.get("id") != msg_id:
                raise CodecError("reply out of order")
            if "error" in reply:
                err = reply["error"]
                raise StudentError(
                    str(err.get("kind")), _error_summary(err, label), str(err.get("traceback") or "")
                )
            return decode(reply["ok"], self._resolve)
        except (ValueError, KeyError, TypeError, CodecError) as exc:
            self.close()
            raise StudentError("codec", f"the worker sent a reply the grader cannot read ({exc})") from None

    def _resolve(self, tag, data):
        if tag != "$ref":
            raise CodecError(f"unexpected {tag} in a reply")
        ref = data["$ref"]
        if not isinstance(ref, int):
            raise CodecError("malformed reference")
        return Remote(self, ref, str(data.get("type", "object"))[:200], self.generation, str(data.get("type")))


def _error_summary(err, label):
    kind, etype, message = err.get("kind"), err.get("type"), str(err.get("message", ""))
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
