"""The notebooks' grade cell: which Python grades, and what it says when grading cannot run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from grader import notebook
from tests.helpers import ROOT


def fake_python(folder, status):
    """An executable that exits with ``status`` whatever it is asked (a Python without the
    grader's modules, for ``status`` 1)."""
    path = folder / "python"
    path.write_text(f"#!/bin/sh\nexit {status}\n")
    path.chmod(0o755)
    return path


@pytest.mark.skipif(sys.platform == "win32", reason="a shell script stands in for Python")
def test_a_kernel_without_the_grader_modules_grades_with_the_course_environment(tmp_path):
    lacking = fake_python(tmp_path, 1)
    assert notebook.grading_python(ROOT, current=sys.executable) == Path(sys.executable)
    course = ROOT / ".nox" / "course" / "bin" / "python"
    if not course.exists():
        pytest.skip("no .nox/course environment in this checkout")
    assert notebook.grading_python(ROOT, current=lacking) == course
    assert notebook.grading_python(tmp_path, current=lacking) is None  # no .nox here


@pytest.mark.skipif(sys.platform == "win32", reason="a shell script stands in for Python")
def test_the_cell_says_how_to_fix_a_grader_that_cannot_run(tmp_path, monkeypatch):
    lacking = fake_python(tmp_path, 1)
    monkeypatch.setattr(notebook.sys, "executable", str(lacking))
    with pytest.raises(notebook.GradingUnavailable) as info:
        notebook.run_grader("ch02_activations", ROOT / "exercises", root=tmp_path, options=[])
    message = str(info.value)
    assert "the grader did not run" in message and "lacks some of numpy, pytest" in message
    assert "python3 -m nox -s lab" in message and "python3 -m nox -s grade-02" in message

    def failing(*args, **kwargs):
        return subprocess.CompletedProcess(args, 2, "", "grader: something went wrong\n")

    monkeypatch.setattr(notebook.sys, "executable", sys.executable)
    monkeypatch.setattr(notebook, "grade_subprocess", failing)
    with pytest.raises(notebook.GradingUnavailable) as info:
        notebook.run_grader("ch02_activations", ROOT / "exercises", root=ROOT, options=[])
    message = str(info.value)
    assert message.startswith("the grader did not run (grader: something went wrong). Open")
    assert "python3 -m nox -s lab" in message


def test_the_grade_cell_explains_one_mistake_once_with_its_other_cases():
    def case(name, n):
        return {
            "name": f"ch03 {name}",
            "score": 0,
            "max_score": 1,
            "status": "failed",
            "visibility": "visible",
            "output": (
                "CategoricalCrossEntropy.backward(dvalues, y_true): output is wrong (every value is "
                f"{n} times too large: divide by the batch size N = {n})\n"
                f"  diagnosis: every value is {n} times too large: divide by the batch size N = {n}"
            ),
        }

    other = {**case("test_mse_backward[3]", 3), "output": "MeanSquaredError.backward: sign flipped"}
    data = {
        "score": 0,
        "max_score": 3,
        "tests": [case("test_cce[5-4]", 5), case("test_cce[8-10]", 8), other],
        "extra_data": {"mode": "public"},
        "output": "Graded in public mode.",
    }
    text = notebook.format_results(data, package="ch03_losses", submission=Path("exercises"))
    assert text.count("diagnosis: every value is") == 1
    assert "the same mistake in 1 more case(s): test_cce[8-10]" in text
    assert "MeanSquaredError.backward: sign flipped" in text
