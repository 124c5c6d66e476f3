"""The worker: the only process that runs student code.

The grading process starts this file as a script (``python -I worker.py ROOT``), never
imports student code itself, and talks to the worker over two pipes with one JSON
message per line. Values cross the pipe as JSON: numbers, strings, lists, and numpy
arrays as ``{"$nd": ...}`` (dtype from a short allow-list, shape, base64 bytes), so the
grader decodes them without pickle and a submission cannot make the grader run code.
Anything that is not plain data (a layer object, a module, a function) stays in the
worker and crosses as a reference ``{"$ref": id}``.

This file is also imported by the grader for the codec (``encode``/``decode``), so it
uses only the standard library and numpy, and it must stay self-contained: the worker
runs with ``-I`` and the grader package is not importable in it.
"""

from __future__ import annotations

import ast
import base64
import gc
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import math
import os
import shutil
import struct
import sys
import textwrap
import traceback
import warnings

import numpy as np

# At most this much of what one call prints comes back to the grader.
PRINTED_LIMIT = 65536

PACKAGE = "submission"
ALLOWED_DTYPES = frozenset(
    "bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 float16 float32 float64".split()
)
MAX_DEPTH = 32
MAX_ELEMENTS = 50_000_000
# Top-level packages student code must not import in the worker.
BLOCKED = frozenset({"grader", "reference", "solutions", "pytest", "_pytest", "hypothesis"})


class CodecError(ValueError):
    """A value that cannot cross between grader and worker."""


# ---------------------------------------------------------------------------- codec


def encode(obj, make_ref=None, depth=0, buffers=None):
    """Turn ``obj`` into JSON-ready data. Objects that are not data go through
    ``make_ref`` (worker side) or raise CodecError when it is None (grader side). With a
    ``buffers`` list, array bytes are appended to it (sent as binary after the JSON of a
    frame) and the JSON holds their index; without, they are base64 text (fixture files)."""
    if depth > MAX_DEPTH:
        raise CodecError("value nested too deeply")
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else {"$float": repr(obj)}
    if isinstance(obj, (np.ndarray, np.generic)) and not isinstance(obj, np.void):
        arr = np.asarray(obj)
        if arr.dtype.name in ALLOWED_DTYPES:
            raw = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<")).tobytes()
            data = {"dtype": arr.dtype.name, "shape": list(arr.shape)}
            if buffers is None:
                data["b64"] = base64.b64encode(raw).decode()
            else:
                data["buf"] = len(buffers)
                buffers.append(raw)
            return {"$nd": data, "scalar": isinstance(obj, np.generic)}
    if isinstance(obj, list):
        return [encode(x, make_ref, depth + 1, buffers) for x in obj]
    if isinstance(obj, tuple) and type(obj) is tuple:
        return {"$tuple": [encode(x, make_ref, depth + 1, buffers) for x in obj]}
    if isinstance(obj, dict) and all(isinstance(k, str) for k in obj):
        return {"$dict": {k: encode(v, make_ref, depth + 1, buffers) for k, v in obj.items()}}
    if make_ref is not None:
        return make_ref(obj)
    special = getattr(obj, "__wire__", None)
    if special is not None:
        return special()
    raise CodecError(f"cannot send a {type(obj).__name__} to the worker")


def decode(data, resolve=None, depth=0, buffers=None):
    """Inverse of ``encode``. Strict: anything unexpected raises CodecError.
    ``resolve(tag, payload)`` turns ``$ref``/``$rng``/``$fn`` objects into values."""
    if depth > MAX_DEPTH:
        raise CodecError("value nested too deeply")
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [decode(x, resolve, depth + 1, buffers) for x in data]
    if not isinstance(data, dict) or not data:
        raise CodecError(f"unexpected {type(data).__name__} in message")
    if "$nd" in data:
        nd = data["$nd"]
        try:
            dtype, shape = nd["dtype"], nd["shape"]
        except (KeyError, TypeError) as exc:
            raise CodecError("malformed array") from exc
        if dtype not in ALLOWED_DTYPES or not isinstance(shape, list):
            raise CodecError(f"array of dtype {dtype!r} is not allowed")
        if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape):
            raise CodecError("malformed array shape")
        size = math.prod(shape)
        if size > MAX_ELEMENTS:
            raise CodecError(f"array of {size} elements is too large")
        index = nd.get("buf")
        if index is not None:
            if (
                buffers is None
                or not isinstance(index, int)
                or isinstance(index, bool)
                or not 0 <= index < len(buffers)
            ):
                raise CodecError("malformed array buffer")
            buf = buffers[index]
        else:
            try:
                buf = base64.b64decode(nd["b64"], validate=True)
            except (KeyError, TypeError, ValueError) as exc:
                raise CodecError("malformed array") from exc
        dt = np.dtype(dtype).newbyteorder("<")
        if len(buf) != size * dt.itemsize:
            raise CodecError("array data does not match its shape")
        arr = np.frombuffer(buf, dtype=dt).astype(np.dtype(dtype)).reshape(tuple(shape))
        return arr[()] if data.get("scalar") else arr
    if "$float" in data:
        text = data["$float"]
        if text not in ("nan", "inf", "-inf"):
            raise CodecError("malformed float")
        return float(text)
    if "$tuple" in data:
        if not isinstance(data["$tuple"], list):
            raise CodecError("malformed tuple")
        return tuple(decode(x, resolve, depth + 1, buffers) for x in data["$tuple"])
    if "$dict" in data:
        items = data["$dict"]
        if not isinstance(items, dict):
            raise CodecError("malformed dict")
        return {str(k): decode(v, resolve, depth + 1, buffers) for k, v in items.items()}
    for tag in ("$ref", "$rng", "$fn"):
        if tag in data:
            if resolve is None:
                raise CodecError(f"unexpected {tag}")
            return resolve(tag, data)
    raise CodecError("unknown value in message")


# -------------------------------------------------------------------------- frames
# One message: a header (the JSON's length, the number of binary buffers, and each
# buffer's length, little-endian), the JSON text, then the buffers (array bytes) in order.

FRAME_HEAD = struct.Struct("<QI")
FRAME_LEN = struct.Struct("<Q")
MAX_BUFFERS = 100_000


def frame(message, make_ref=None):
    """The bytes of one message: ``message`` is a dict whose values are encoded."""
    buffers = []
    body = {k: encode(v, make_ref, buffers=buffers) for k, v in message.items()}
    return raw_frame(body, buffers)


def raw_frame(body, buffers=()):
    """The bytes of one message whose ``body`` is already JSON-ready (values encoded into
    ``buffers``)."""
    text = json.dumps(body, allow_nan=False).encode()
    head = FRAME_HEAD.pack(len(text), len(buffers)) + b"".join(
        FRAME_LEN.pack(len(b)) for b in buffers
    )
    return b"".join([head, text, *buffers])


def parse_frame(data, max_bytes):
    """(json dict, buffers, bytes used) of the frame at the start of ``data`` (a bytes-like
    object), or None when more bytes are needed. Raises CodecError on a malformed frame."""
    if len(data) < FRAME_HEAD.size:
        return None
    text_len, count = FRAME_HEAD.unpack_from(data, 0)
    if count > MAX_BUFFERS or text_len > max_bytes:
        raise CodecError("malformed frame")
    start = FRAME_HEAD.size + count * FRAME_LEN.size
    if len(data) < start:
        return None
    lengths = [
        FRAME_LEN.unpack_from(data, FRAME_HEAD.size + i * FRAME_LEN.size)[0] for i in range(count)
    ]
    total = start + text_len + sum(lengths)
    if total > max_bytes:
        raise CodecError(f"a message of {total} bytes is larger than allowed ({max_bytes})")
    if len(data) < total:
        return None
    view = memoryview(data)
    message = json.loads(bytes(view[start : start + text_len]))
    if not isinstance(message, dict):
        raise CodecError("malformed message")
    buffers, at = [], start + text_len
    for n in lengths:
        buffers.append(bytes(view[at : at + n]))
        at += n
    return message, buffers, total


def needed(data):
    """How many bytes the frame starting ``data`` has in all, once its header is complete
    (else the header's size), so that a reader knows how much more to wait for."""
    if len(data) < FRAME_HEAD.size:
        return FRAME_HEAD.size
    text_len, count = FRAME_HEAD.unpack_from(data, 0)
    start = FRAME_HEAD.size + min(count, MAX_BUFFERS) * FRAME_LEN.size
    if len(data) < start:
        return start
    return (
        start
        + text_len
        + sum(
            FRAME_LEN.unpack_from(data, FRAME_HEAD.size + i * FRAME_LEN.size)[0]
            for i in range(count)
        )
    )


# ------------------------------------------------------- functions for gradient checks
# Named scalar functions f(x) -> float that the grader can ask the worker to build, so
# that student functions taking a callable (numerical gradients) can be graded.


def _make_function(spec):
    name = spec.get("$fn")
    kw = decode(spec.get("kw") or {"$dict": {}})
    if not isinstance(kw, dict):
        raise CodecError("malformed function arguments")
    w = np.asarray(kw.get("w", 1.0), dtype=np.float64)
    if name == "weighted_tanh":
        return lambda x: float(np.sum(w * np.tanh(x)))
    if name == "weighted_cube":
        return lambda x: float(np.sum(w * x**3))
    if name == "exp_sin":
        return lambda x: float(np.sum(w * np.exp(np.sin(x))))
    if name == "quadratic":
        return lambda x: float(np.sum(w * x * x))
    if name == "dict_quadratic":
        # f(params) = sum over keys of sum(scale * (params[k] - targets[k])**2), params a dict
        targets = {k: np.asarray(v, dtype=np.float64) for k, v in (kw.get("targets") or {}).items()}
        return lambda p: float(
            sum(np.sum(w * (np.asarray(p[k]) - t) ** 2) for k, t in targets.items())
        )
    raise CodecError(f"unknown function {name!r}")


# ----------------------------------------------------------------------- the worker


class _Blocker(importlib.abc.MetaPathFinder):
    """Refuses imports of the grader, the reference and the solutions from student code."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in BLOCKED:
            raise ImportError(f"{fullname!r} is not available to submissions")
        return None


class Worker:
    def __init__(self, root, overlays):
        self.root = os.path.realpath(root)
        self.scratch = os.path.realpath(os.getcwd())
        self.refs = {}
        self.next_id = 1
        self.buffers = []
        pkg_spec = importlib.machinery.ModuleSpec(PACKAGE, None, is_package=True)
        pkg_spec.submodule_search_locations = [self.root]
        pkg = importlib.util.module_from_spec(pkg_spec)
        sys.modules[PACKAGE] = pkg
        # Chapters taken from another root (chapter independence): their own paths.
        self.overlays = {name: os.path.realpath(path) for name, path in overlays.items()}
        self.source_roots = [self.root, *self.overlays.values()]
        if self.overlays:
            sys.meta_path.insert(0, _Overlay(self.overlays))
        # What a fresh worker starts with, restored between chapters (op_reset).
        self.fresh = (np.geterr(), list(warnings.filters), sys.getrecursionlimit())

    # -- references
    def make_ref(self, obj):
        ref = self.next_id
        self.next_id += 1
        self.refs[ref] = obj
        return {"$ref": ref, "type": _describe(obj)}

    def resolve(self, tag, data):
        if tag == "$ref":
            try:
                return self.refs[data["$ref"]]
            except (KeyError, TypeError):
                raise CodecError("unknown reference") from None
        if tag == "$rng":
            return np.random.default_rng(int(data["$rng"]))
        return _make_function(data)

    # -- operations
    def op_import(self, msg):
        name = str(msg["module"])
        if not name.replace("_", "").isalnum():
            raise CodecError("bad module name")
        return importlib.import_module(f"{PACKAGE}.{name}")

    def op_getattr(self, msg):
        return getattr(self.arg(msg, "target"), str(msg["name"]))

    def op_setattr(self, msg):
        setattr(self.arg(msg, "target"), str(msg["name"]), self.arg(msg, "value"))

    def op_untouched(self, msg):
        """True when every listed function of the submission is still exactly its stub: the
        same syntax (docstring aside) as the generated exercise, and live code compiled from
        that source. ``functions``: [[module, qualname, fingerprint], ...] of one chapter
        (grader/todo.json, see ``stub_fingerprint``)."""
        package, functions = str(msg.get("package", "")), msg.get("functions")
        if (
            not package.replace("_", "").isalnum()
            or not isinstance(functions, list)
            or not functions
        ):
            return False
        return all(_is_stub(package, f) for f in functions)

    def op_setattrs(self, msg):
        target, values = self.arg(msg, "target"), self.arg(msg, "values")
        if not isinstance(values, dict):
            raise CodecError("setattrs needs a dict of values")
        for name, value in values.items():
            setattr(target, str(name), value)

    def op_call(self, msg):
        fn = self.arg(msg, "target")
        args = self.arg(msg, "args")
        kwargs = self.arg(msg, "kwargs")
        return fn(*args, **kwargs)

    def op_call_printing(self, msg):
        """``op_call`` with what the call prints: [its result, the text it wrote to
        sys.stdout] (the last PRINTED_LIMIT characters)."""
        import contextlib
        import io

        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            result = self.op_call(msg)
        return [result, buffer.getvalue()[-PRINTED_LIMIT:]]

    def op_perturbed(self, msg):
        """The outputs of ``fn(*args)`` with ``args[wrt]`` moved by +h and -h, one entry
        at a time: an array (n, 2, *output shape). The grader turns them into central
        differences itself (nothing computed here is taken on trust)."""
        fn = self.arg(msg, "target")
        args = list(self.arg(msg, "args"))
        wrt, h = int(msg["wrt"]), float(msg["h"])
        x = np.array(args[wrt], dtype=np.float64)
        outputs = []
        for idx in np.ndindex(*x.shape):
            old = x[idx]
            pair = []
            for step in (h, -h):
                x[idx] = old + step
                args[wrt] = x.copy()
                pair.append(np.array(fn(*args), dtype=np.float64))
            x[idx] = old
            outputs.append(pair)
        return np.array(outputs, dtype=np.float64)

    def op_keep(self, msg):
        """Store a value in the worker and answer with a reference to it (so that the
        grader can later see whether student code changed it in place)."""
        return _Kept(self.arg(msg, "value"))

    def op_value(self, msg):
        """The current value of a kept object, as data."""
        return self.arg(msg, "target")

    def _scratch_path(self, msg):
        name = str(msg["name"])
        path = os.path.realpath(os.path.join(self.scratch, name))
        if not path.startswith(self.scratch + os.sep):
            raise CodecError("file names must stay inside the scratch directory")
        return path

    def op_write_file(self, msg):
        """Write bytes (a uint8 array) to a file in the scratch directory; return its path."""
        data = np.asarray(self.arg(msg, "data"), dtype=np.uint8)
        path = self._scratch_path(msg)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data.tobytes())
        return path

    def op_read_file(self, msg):
        """The bytes of a file in the scratch directory, as a uint8 array."""
        with open(self._scratch_path(msg), "rb") as fh:
            return np.frombuffer(fh.read(), dtype=np.uint8)

    def op_reset(self, msg):
        """Start the next chapter as a fresh worker would: forget every object the grader
        was given, drop the submission's modules (the next import runs them again), empty the
        scratch folder, restore numpy's error settings, the warning filters and the recursion
        limit. Returns the virtual memory left in use (MiB, or None where unknown)."""
        self.refs.clear()
        for name in [n for n in sys.modules if n.startswith(PACKAGE + ".")]:
            del sys.modules[name]
        package = sys.modules.get(PACKAGE)
        if package is not None:
            for name in [n for n in vars(package) if not n.startswith("__")]:
                delattr(package, name)
        importlib.invalidate_caches()
        os.chdir(self.scratch)
        for entry in os.listdir(self.scratch):
            path = os.path.join(self.scratch, entry)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                try:
                    os.unlink(path)
                except OSError:
                    pass
        err, filters, limit = self.fresh
        np.seterr(**err)
        warnings.filters[:] = filters
        getattr(warnings, "_filters_mutated", lambda: None)()  # the filters' cache
        sys.setrecursionlimit(limit)
        gc.collect()
        return _address_space_mb()

    def op_release(self, msg):
        for ref in msg.get("refs", []):
            self.refs.pop(ref, None)

    def arg(self, msg, key):
        return decode(msg[key], self.resolve, buffers=self.buffers)

    def handle(self, msg):
        op = getattr(self, "op_" + str(msg.get("op")), None)
        if op is None:
            raise CodecError(f"unknown operation {msg.get('op')!r}")
        # Warnings (numpy's overflow, divide by zero, invalid value) raised in the student's
        # files are feedback: kept here (where, what) until the grader asks (op_warnings).
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = op(msg)
            finally:
                self.note_warnings(caught)
        if isinstance(result, _Kept):
            return _Encoded(self.make_ref(result.value))
        return result

    def student_path(self, filename):
        """``filename`` relative to the submission's root it lies in (the submission's or an
        overlay's), or None when it is not one of the student's files. Cached: tracebacks
        and warnings ask for the same few files thousands of times in a run."""
        cache = self.__dict__.setdefault("_paths", {})
        if filename not in cache:
            path, rel = os.path.realpath(str(filename)), None
            for r in self.source_roots:
                if path.startswith(r + os.sep):
                    rel = os.path.relpath(path, r)
                    break
            cache[filename] = rel
        return cache[filename]

    def note_warnings(self, caught):
        seen = self.__dict__.setdefault("warned", [])
        for w in caught:
            rel = self.student_path(w.filename)
            if rel is not None:
                text = f"{w.category.__name__}: {w.message} ({rel}, line {w.lineno})"
                if text not in seen and len(seen) < 20:
                    seen.append(text)

    def op_warnings(self, msg):
        """The warnings the student's files raised since the last call, and forget them."""
        out = list(self.__dict__.get("warned", []))
        self.__dict__["warned"] = []
        return out

    def student_traceback(self, exc):
        """The traceback trimmed to the frames of the submission's own files."""
        frames = [
            (f, rel)
            # Source lines are read only for the student's frames (``f.line`` on demand).
            for f in traceback.StackSummary.extract(
                traceback.walk_tb(exc.__traceback__), lookup_lines=False
            )
            if (rel := self.student_path(f.filename)) is not None
        ]
        if isinstance(exc, SyntaxError) and exc.filename:
            frames = []
        lines = []
        for f, rel in frames:
            lines.append(f'  File "{rel}", line {f.lineno}, in {f.name}')
            if f.line:
                lines.append(f"    {f.line.strip()}")
        if isinstance(exc, SyntaxError) and exc.filename:
            path = os.path.realpath(exc.filename)
            for r in self.source_roots:
                if path.startswith(r + os.sep):
                    path = os.path.relpath(path, r)
            lines.append(f'  File "{path}", line {exc.lineno}')
            if exc.text:
                lines.append(f"    {exc.text.strip()}")
        return "\n".join(lines)


def stub_fingerprint(node):
    """A digest of a ``def`` node: its syntax tree without the docstring and positions."""
    import hashlib  # only here: the worker's start does not pay for it

    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        if isinstance(body[0].value.value, str):
            body = body[1:]
    clone = type(node)(**{f: getattr(node, f, None) for f in node._fields})
    clone.body = body
    return hashlib.sha256(ast.dump(clone, include_attributes=False).encode()).hexdigest()


def _code_signature(code):
    consts = tuple(
        _code_signature(c) if hasattr(c, "co_code") else (type(c).__name__, repr(c))
        for c in code.co_consts
    )
    return (code.co_code, code.co_names, code.co_varnames, code.co_freevars, consts)


def _is_stub(package, entry):
    """Is the submission's ``package.module.qualname`` the untouched stub ``fingerprint``
    describes?"""
    import inspect

    try:
        module_name, qualname, fingerprint = (str(x) for x in entry)
        name = f"{PACKAGE}.{package}" + (f".{module_name}" if module_name else "")
        obj = sys.modules.get(name) or importlib.import_module(name)
        for part in qualname.split("."):
            obj = inspect.getattr_static(obj, part)
        if isinstance(obj, (staticmethod, classmethod)):
            obj = obj.__func__
        if not inspect.isfunction(obj) or hasattr(obj, "__wrapped__"):
            return False
        source = textwrap.dedent(inspect.getsource(obj))
        node = ast.parse(source).body[0]
        if (
            not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            or node.name != obj.__name__
        ):
            return False
        if stub_fingerprint(node) != fingerprint:
            return False
        # The code that runs is the code of that source (not a function put in its place);
        # a method is compiled inside a class, as zero-argument super() needs.
        text = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("@"))
        if "." in qualname:
            text = "class _Stub:\n" + textwrap.indent(text, "    ")
        code = compile(text, obj.__code__.co_filename, "exec")
        while code.co_name != obj.__name__:
            code = next(c for c in code.co_consts if hasattr(c, "co_code"))
        return _code_signature(code) == _code_signature(obj.__code__)
    except Exception:  # anything odd (no source, a property, an import error): not a stub
        return False


class _Kept:
    def __init__(self, value):
        self.value = value


class _Encoded:
    """A reply value that is already wire data (a reference)."""

    def __init__(self, wire):
        self.wire = wire


class _Overlay(importlib.abc.MetaPathFinder):
    """Imports ``submission.<chapter>`` from another root for the chapters listed."""

    def __init__(self, overlays):
        self.overlays = overlays

    def find_spec(self, fullname, path=None, target=None):
        parts = fullname.split(".")
        if len(parts) >= 2 and parts[0] == PACKAGE and parts[1] in self.overlays:
            base = os.path.join(self.overlays[parts[1]], *parts[2:])
            init = os.path.join(base, "__init__.py")
            if os.path.isfile(init):
                return importlib.util.spec_from_file_location(
                    fullname, init, submodule_search_locations=[base]
                )
            if os.path.isfile(base + ".py"):
                return importlib.util.spec_from_file_location(fullname, base + ".py")
        return None


def _address_space_mb():
    """This process's virtual memory (what the address-space limit counts), in MiB; None where
    the system does not say (not Linux)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _describe(obj):
    if isinstance(obj, np.ndarray):
        return f"numpy array of dtype {obj.dtype}"
    t = type(obj)
    return (
        t.__qualname__ if t.__module__ in ("builtins", None) else f"{t.__module__}.{t.__qualname__}"
    )


def _error_reply(msg_id, kind, exc, worker):
    return {
        "id": msg_id,
        "error": {
            "kind": kind,
            "type": type(exc).__name__,
            "message": str(exc)[:2000],
            "traceback": worker.student_traceback(exc) if worker else "",
        },
    }


def main(argv):
    root = argv[1]
    overlays = json.loads(argv[2]) if len(argv) > 2 else {}
    # Private copies of the pipes; then point fds 0 and 1 away so that prints and input()
    # in student code cannot corrupt the protocol.
    proto_in = os.fdopen(os.dup(0), "rb")
    proto_out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    sys.meta_path.insert(0, _Blocker())
    worker = Worker(root, overlays)

    def send(body, buffers=()):
        try:
            data = raw_frame(body, buffers)
        except (ValueError, TypeError) as exc:
            data = raw_frame(_error_reply(body.get("id"), "codec", CodecError(str(exc)), None))
        proto_out.write(data)
        proto_out.flush()

    def read_exactly(n):
        chunks, left = [], n
        while left:
            chunk = proto_in.read(left)
            if not chunk:
                return None
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    send({"id": 0, "ok": "ready"})
    buffers = []
    while True:
        head = read_exactly(FRAME_HEAD.size)
        if head is None:
            return
        text_len, count = FRAME_HEAD.unpack(head)
        rest = read_exactly(count * FRAME_LEN.size)
        if rest is None:
            return
        data = head + rest
        more = read_exactly(needed(data) - len(data))
        if more is None:
            return
        msg_id = None
        try:
            msg, worker.buffers, _ = parse_frame(data + more, 1 << 40)
            msg_id = msg.get("id")
            result = worker.handle(msg)
            buffers = []
            ok = (
                result.wire
                if isinstance(result, _Encoded)
                else encode(result, worker.make_ref, buffers=buffers)
            )
            reply = {"id": msg_id, "ok": ok}
        except CodecError as exc:
            reply = _error_reply(msg_id, "codec", exc, None)
        except NotImplementedError as exc:
            reply = _error_reply(msg_id, "not_implemented", exc, worker)
        except SystemExit as exc:
            reply = _error_reply(msg_id, "exit", exc, worker)
        except MemoryError as exc:
            reply = _error_reply(msg_id, "memory", exc, worker)
        except RecursionError as exc:
            reply = _error_reply(msg_id, "exception", exc, worker)
        except BaseException as exc:  # anything student code raises
            reply = _error_reply(msg_id, "exception", exc, worker)
        finally:
            worker.buffers = []
        if "error" in reply:
            buffers = []
        if worker.__dict__.get("warned"):
            reply["warned"] = True  # the grader asks for them (op_warnings) only then
        send(reply, buffers)


if __name__ == "__main__":
    main(sys.argv)
