"""What students get in exercises/: stubs that import what their docstrings need."""

from __future__ import annotations

import ast
import re

from tests.helpers import EXERCISES

TODO = re.compile(r"# TODO\(ch\d\d\)")
# Docstrings that speak of arrays: the student's code will want numpy.
ARRAYS = re.compile(r"\barrays?\b|\(N\b|\bshapes?\b|\bnp\.")


def _imports_numpy_as_np(tree):
    for node in tree.body:
        if isinstance(node, ast.Import):
            if any(a.name == "numpy" and a.asname == "np" for a in node.names):
                return True
    return False


def _docstrings(tree):
    kinds = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return "\n".join(ast.get_docstring(n) or "" for n in ast.walk(tree) if isinstance(n, kinds))


def test_every_stub_about_arrays_imports_numpy_as_np_unless_it_is_pure_python():
    missing = []
    for path in sorted(EXERCISES.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        text = path.read_text()
        if not TODO.search(text):
            continue
        tree = ast.parse(text)
        doc = ast.get_docstring(tree) or ""
        if "pure Python (no numpy)" in doc:  # ch01's first modules: numpy comes later
            assert "import numpy" not in text, path
            continue
        if ARRAYS.search(_docstrings(tree)) and not _imports_numpy_as_np(tree):
            missing.append(str(path.relative_to(EXERCISES)))
    assert missing == [], f"stubs to fill in without `import numpy as np`: {missing}"
