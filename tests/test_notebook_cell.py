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
