"""What students get in exercises/: stubs that import what their docstrings need."""

from __future__ import annotations

import ast
import re
import sys

from tests.helpers import EXERCISES, ROOT

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


def test_the_data_loaders_hold_no_idx_reader_and_load_mnist_from_the_release_arrays(
    tmp_path, monkeypatch
):
    import numpy as np

    from data import loaders
    from reference.ch09_mnist import read_idx

    source = (ROOT / "data" / "loaders.py").read_text()
    assert "frombuffer" not in source and "from_bytes" not in source and "gzip" not in source
    images, labels = loaders.load_mnist()
    assert np.array_equal(images, read_idx(loaders.MNIST_IMAGES))
    assert np.array_equal(labels, read_idx(loaders.MNIST_LABELS))
    target = loaders.write_mnist_arrays(tmp_path / "mnist.npz")
    with np.load(target, allow_pickle=False) as arrays:
        assert arrays["images"].dtype == np.uint8 and np.array_equal(arrays["images"], images)
        assert np.array_equal(arrays["labels"], labels)
    # As in the release: the arrays from the .npz file, the reference not needed.
    monkeypatch.setattr(loaders, "MNIST_ARRAYS", target)
    monkeypatch.setitem(sys.modules, "reference.ch09_mnist", None)  # importing it would fail
    again_images, again_labels = loaders.load_mnist()
    assert np.array_equal(again_images, images) and np.array_equal(again_labels, labels)
