"""Chapter 08's training progress (``progress_bar``, given to students): a bar in a terminal,
a line updated in place in Jupyter, a line at every tenth of the run when the output is piped,
nothing when it is turned off."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest

import solutions.ch08_model as course
from solutions.ch08_model import model as ch08
from tests.helpers import ROOT

NBGRADER_PYTHON = ROOT / ".nox" / "nbgrader" / "bin" / "python"


def test_piped_output_gets_a_line_at_every_tenth_of_the_run():
    out = io.StringIO()
    bar = ch08.progress_bar(25, stream=out)
    for i in range(25):
        bar.advance(f"epoch {i + 1}/25")
    bar.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 10
    assert lines[0].startswith("training [###") and " 3/25 " in lines[0]
    assert " 25/25 " in lines[-1] and lines[-1].endswith("epoch 25/25")
    assert "[" + "#" * 30 + "]" in lines[-1]


def test_progress_false_shows_nothing():
    out = io.StringIO()
    bar = ch08.progress_bar(5, enabled=False, stream=out)
    for _ in range(5):
        bar.advance("x")
    bar.close()
    assert out.getvalue() == ""


def _fake_jupyter(monkeypatch):
    """IPython as a Jupyter kernel has it: get_ipython() is a ZMQInteractiveShell and display()
    returns a handle whose update() replaces what the cell shows."""
    shown = []

    class ZMQInteractiveShell:
        pass

    class Handle:
        def update(self, obj):
            shown.append(obj.data)

    class Pretty:
        def __init__(self, data):
            self.data = data

    def display(obj, display_id=False):
        assert display_id is True
        shown.append(obj.data)
        return Handle()

    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: ZMQInteractiveShell()
    display_module = types.ModuleType("IPython.display")
    display_module.display, display_module.Pretty = display, Pretty
    ipython.display = display_module
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display_module)
    return shown


def test_in_jupyter_one_line_is_updated_in_place(monkeypatch):
    shown = _fake_jupyter(monkeypatch)
    assert ch08.in_notebook()
    out = io.StringIO()
    bar = ch08.progress_bar(4, stream=out)
    for i in range(4):
        bar.advance(f"loss {i}")
    bar.close()
    assert out.getvalue() == ""  # nothing on the stream: the display shows it
    assert shown[0].startswith("training [") and " 0/4 " in shown[0]
    assert " 4/4 " in shown[-1] and shown[-1].endswith("loss 3")


def test_model_train_shows_its_progress_in_jupyter(monkeypatch):
    shown = _fake_jupyter(monkeypatch)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int)
    m = course.Model()
    m.add(course.Dense(2, 4, rng))
    m.add(course.ReLU())
    m.add(course.Dense(4, 2, rng))
    m.add(course.Softmax())
    m.set(
        loss=course.CategoricalCrossEntropy(),
        optimizer=course.SGD(learning_rate=0.1),
        accuracy=course.AccuracyCategorical(),
    )
    m.train(X, y, epochs=3, batch_size=10, rng=rng)
    assert " 12/12 " in shown[-1] and "epoch 3/3" in shown[-1]


@pytest.mark.slow
@pytest.mark.skipif(not NBGRADER_PYTHON.exists(), reason="no .nox/nbgrader environment (Jupyter)")
def test_a_real_jupyter_kernel_shows_the_progress(tmp_path):
    code = textwrap.dedent(
        f"""
        import nbformat
        from nbclient import NotebookClient
        cell = '''
        import sys; sys.path.insert(0, {str(ROOT)!r})
        from solutions.ch08_model.model import progress_bar
        bar = progress_bar(20)
        for i in range(20):
            bar.advance(f"step {{i}}")
        '''
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])
        NotebookClient(nb, timeout=120, kernel_name="python3").execute()
        for out in nb.cells[0].outputs:
            print(out.output_type, repr(out.get("data", {{}}).get("text/plain", out.get("text"))))
        """
    )
    proc = subprocess.run(
        [str(NBGRADER_PYTHON), "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("display_data"), proc.stdout  # no stderr lines
    assert " 20/20 " in lines[0] and "step 19" in lines[0]
