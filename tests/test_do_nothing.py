"""No points for doing nothing: a submission that computes nothing scores 0 on every chapter.

The submission is built from the student stubs (exercises/): every function the stubs leave
to the student (its body ends in ``raise NotImplementedError("chNN: implement ...")``) gets
instead a body that computes nothing, in one of three ways:

- ``inputs``: it returns its first argument (the input itself; None when it has none);
- ``zeros``: it returns zeros shaped like its first array argument (0.0 for a number);
- ``constant``: it returns the number 1.0.

A constructor stores its arguments as attributes (so that the tests reach the methods); a
``forward`` stores ``self.inputs`` and ``self.output``, a ``backward`` ``self.dinputs``, so
that a test reading what a layer kept sees the do-nothing values and not a missing attribute.
The code the stubs give (not a TODO) stays as it is. Every chapter the grader lists is
covered, a chapter added later included.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from grader.chapters import all_chapters
from grader.workflows.stubgen import raises_task
from tests.helpers import EXERCISES, IGNORE, grade

VARIANTS = ("inputs", "zeros", "constant")

# Tests of code whose right answer is "return the input": the linear activation (its forward
# and backward are the identity) and its predictions (the outputs themselves). Returning the
# input there is the work, not the absence of it.
IDENTITY_IS_RIGHT = {
    "ch02 test_linear_forward_and_backward_match_reference",
    "ch02 test_backward_passes_gradient_check[Linear]",
    "ch08 test_linear_predictions_are_the_outputs",
}

_RESULT = {
    "inputs": "_first",
    "zeros": (
        "(__import__('numpy').zeros_like(__import__('numpy').asarray(_first, dtype=float))"
        " if isinstance(_first, __import__('numpy').ndarray)"
        " else 0.0 if isinstance(_first, (int, float)) else _first)"
    ),
    "constant": "1.0",
}


def _do_nothing_body(fn, variant, indent):
    """The lines replacing the stub's raise in function ``fn``."""
    args = [a.arg for a in fn.args.posonlyargs + fn.args.args]
    is_method = bool(args) and args[0] in ("self", "cls")
    params = args[1:] if is_method else args
    first = params[0] if params else "None"
    lines = []
    if fn.name == "__init__":
        lines.append("self.__dict__.update({k: v for k, v in locals().items() if k != 'self'})")
        lines.append("return None")
    else:
        lines.append(f"_first = {first}")
        lines.append(f"_result = {_RESULT[variant]}")
        if is_method and args[0] == "self" and fn.name == "forward":
            lines.append("self.inputs = _first")
            lines.append("self.output = _result")
        if is_method and args[0] == "self" and fn.name == "backward":
            lines.append("self.dinputs = _result")
        lines.append("return _result")
    return [indent + line + "\n" for line in lines]


def make_do_nothing(source: Path, dest: Path, variant: str) -> int:
    """Copy the stubs ``source`` to ``dest`` with every TODO doing nothing; return how many."""
    shutil.copytree(source, dest, ignore=IGNORE)
    replaced = 0
    for path in sorted(dest.rglob("*.py")):
        text = path.read_text()
        tree = ast.parse(text)
        edits = []
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for stmt in fn.body:
                if raises_task(stmt):
                    edits.append((stmt.lineno, stmt.end_lineno, stmt.col_offset, fn))
        if not edits:
            continue
        lines = text.splitlines(keepends=True)
        for start, end, col, fn in sorted(edits, key=lambda e: e[0], reverse=True):
            lines[start - 1 : end] = _do_nothing_body(fn, variant, " " * col)
        path.write_text("".join(lines))
        replaced += len(edits)
    return replaced


@pytest.fixture(scope="module")
def chapters():
    return all_chapters()


def test_do_nothing_builder_replaces_every_todo(tmp_path, chapters):
    root = tmp_path / "inputs"
    count = make_do_nothing(EXERCISES, root, "inputs")
    left = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if 'raise NotImplementedError("ch' in p.read_text()
    ]
    assert count > 100 and not left, left
    for package in chapters:
        assert (root / package).is_dir(), f"{package} has no stubs in exercises/"


def _identity_is_right(name):
    return name in IDENTITY_IS_RIGHT or name.split("[")[0] in IDENTITY_IS_RIGHT


@pytest.mark.parametrize("variant", VARIANTS)
def test_do_nothing_scores_zero(tmp_path, variant, chapters):
    """Every chapter, graded as a student's submission is (chained: each chapter on the
    submission's own earlier chapters), in hidden mode: 0 points, and no internal error."""
    root = tmp_path / variant
    make_do_nothing(EXERCISES, root, variant)
    code, results, out = grade(
        root, *[c[:4] for c in chapters], extra=["--isolation", "process"], timeout=1800
    )
    assert results is not None, out
    graded = {t["name"].split(" ", 1)[0] for t in results["tests"]}
    assert graded == {c[:4] for c in chapters}, f"chapters graded: {sorted(graded)}"
    scored = [
        f"{t['name']}: {t['score']}/{t['max_score']}"
        for t in results["tests"]
        if t["score"] > 0 and not (variant == "inputs" and _identity_is_right(t["name"]))
    ]
    assert not scored, f"a {variant} submission that computes nothing scores points:\n" + "\n".join(
        scored
    )
    internal = [t["name"] for t in results["tests"] if "internal grader error" in t["output"]]
    assert not internal, "internal grader errors on a do-nothing submission:\n" + "\n".join(
        internal
    )
