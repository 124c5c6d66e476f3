"""What a grader suite uses: points, the oracle, the student's chapter, and checks.

A suite test looks like this::

    @points(2)
    def test_relu_forward_matches_reference(student, oracle):
        x = oracle.random("x", lambda rng: rng.normal(size=(4, 5)))
        want = oracle.compute("want", lambda: ref.relu_forward(x))
        got = student.ReLU().forward(x)
        check_array(got, want, call="ReLU.forward(inputs)", inputs={"inputs": x})

``student`` is the submission's chapter package living in the worker process;
``ref`` is the reference, imported lazily and only inside ``oracle`` calls, so that a
suite also runs where the reference is absent (public mode, values from fixtures).
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from .check import (
    GradeFailure,
    as_array,
    check_array,
    check_gradient,
    check_scalar,
    check_true,
    describe_inputs,
    fail,
    rel_error,
)
from .plugin import chapter_worker
from .sandbox import Fn, Remote, Rng, StudentError, label_of, worker_of

__all__ = [
    "Fn",
    "GradeFailure",
    "Remote",
    "as_array",
    "Rng",
    "StudentError",
    "check_array",
    "check_gradient",
    "check_scalar",
    "check_true",
    "describe_inputs",
    "fail",
    "hidden",
    "keep",
    "read_scratch_file",
    "write_scratch_file",
    "numeric_gradient",
    "points",
    "reference",
    "rel_error",
    "set_attributes",
    "np",
    "pytest",
]


def points(n):
    """How many points a test is worth (default 1)."""
    return pytest.mark.points(n)


hidden = pytest.mark.hidden


class _LazyReference:
    def __init__(self, package):
        self._package = package
        self._module = None

    def __getattr__(self, name):
        if self._module is None:
            self._module = importlib.import_module(f"reference.{self._package}")
        return getattr(self._module, name)


def reference(package):
    """The reference module for a chapter, imported on first use."""
    return _LazyReference(package)


def keep(student, value):
    """Place ``value`` (an array) in the student's worker and return a handle: pass it to
    student code, then ``handle.fetch()`` to see whether the code modified it in place."""
    return chapter_worker(student).keep(value)


def write_scratch_file(student, name, data):
    """Write ``data`` (bytes or a uint8 array) to ``name`` in the worker's scratch directory
    and return the file's path there (to pass to student code that reads files)."""
    arr = (
        np.frombuffer(bytes(data), dtype=np.uint8)
        if isinstance(data, (bytes, bytearray))
        else np.asarray(data)
    )
    worker = chapter_worker(student)
    return worker.request(
        {"op": "write_file", "name": name, "data": arr.astype(np.uint8)}, label=f"writing {name}"
    )


def read_scratch_file(student, name):
    """The bytes of ``name`` in the worker's scratch directory (a file student code wrote)."""
    worker = chapter_worker(student)
    return bytes(
        np.asarray(
            worker.request({"op": "read_file", "name": name}, label=f"reading {name}"),
            dtype=np.uint8,
        )
    )


def set_attributes(obj, values):
    """Set several attributes of an object of the student's code at once, in order:
    ``values`` maps names to values (arrays); one round trip to the worker for all."""
    if not isinstance(obj, Remote):
        for name, value in values.items():
            setattr(obj, name, value)
        return
    worker_of(obj).request(
        {"op": "setattrs", "target": obj, "values": dict(values)},
        label=f"setting {', '.join(values)} of {label_of(obj)}",
    )


def call_printing(method, *args, **kwargs):
    """Call a method of the student's code and return ``(result, printed)``: its result and
    the text it printed (the end of it, when it prints a lot)."""
    if not isinstance(method, Remote):
        fail("expected a method of your class, got a plain value")
    result, printed = worker_of(method).request(
        {"op": "call_printing", "target": method, "args": list(args), "kwargs": kwargs},
        label=f"{label_of(method)}(...)",
    )
    return result, str(printed)


def numeric_gradient(method, *args, wrt=0, dout, h=1e-6, timeout=None):
    """Central differences of ``sum(method(*args) * dout)`` with respect to ``args[wrt]``:
    the gradient a correct ``backward(dout)`` returns. The worker only evaluates
    ``method`` on the perturbed inputs; the differences are taken here."""
    if not isinstance(method, Remote):
        fail("expected a method of your class, got a plain value")
    return worker_of(method).numeric_gradient(
        method,
        list(args),
        wrt,
        dout,
        h,
        timeout=timeout,
        label=f"{label_of(method)} (numerical gradient)",
    )
