"""PrairieLearn's external grader, run locally against a temporary /grade."""

import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from tests.helpers import EXERCISES, ROOT, SOLUTIONS, copy_solutions, patch

SECRET = "test-secret"


def _grade_root(tmp_path, data=None):
    root = tmp_path / "grade"
    for sub in ("student", "data", "tests", "serverFilesCourse"):
        (root / sub).mkdir(parents=True)
    (root / "data" / "data.json").write_text(
        json.dumps(data or {"params": {}, "variant_seed": 1234})
    )
    return root


def _run(root, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["COURSE_SECRET"] = SECRET
    proc = subprocess.run(
        [sys.executable, "-m", "grader", "prairielearn", "--grade-root", str(root), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # The results folder is not created by PrairieLearn: the entry point must make it.
    return json.loads((root / "results" / "results.json").read_text())


def _valid(results):
    """PrairieLearn's results format: score in [0, 1] (when gradable), tests with points."""
    if results.get("gradable", True) is False:
        assert results["format_errors"] and isinstance(results["format_errors"], list)
        return
    assert 0.0 <= results["score"] <= 1.0
    for t in results["tests"]:
        assert {"name", "points", "max_points", "message", "output"} <= set(t)
        assert 0 <= t["points"] <= t["max_points"]
    assert len(json.dumps(results)) < 1_000_000


@pytest.mark.slow
def test_prairielearn_grades_chapter_folders_and_hides_hidden_tests(tmp_path):
    root = _grade_root(tmp_path, {"params": {"chapters": ["ch01"]}, "variant_seed": 99})
    sub = copy_solutions(tmp_path / "sub")
    patch(
        sub,
        "ch01_neurons/dense.py",
        "self.output = inputs @ self.weights + self.biases",
        "self.output = inputs @ self.weights",
    )
    shutil.copytree(sub / "ch01_neurons", root / "student" / "ch01_neurons")
    results = _run(root)
    _valid(results)
    assert 0 < results["score"] < 1
    points = sum(t["points"] for t in results["tests"]) / sum(
        t["max_points"] for t in results["tests"]
    )
    assert abs(points - results["score"]) < 1e-9
    hidden = [t for t in results["tests"] if "hidden test" in t["name"]]
    assert hidden and not any(
        "test_hidden" in t["name"] or "[" in t["name"] or t["output"] for t in hidden
    )
    failing = [
        t for t in results["tests"] if t["points"] < t["max_points"] and "hidden" not in t["name"]
    ]
    assert any("biases" in t["output"] for t in failing)


@pytest.mark.slow
def test_prairielearn_loose_files_zip_and_ungradable_uploads(tmp_path):
    # Loose files of one chapter (a file editor): laid over that chapter's stubs.
    root = _grade_root(tmp_path / "a", {"params": {"chapters": ["ch01"]}, "variant_seed": 5})
    for name in ("neuron.py", "dense.py"):
        shutil.copy(SOLUTIONS / "ch01_neurons" / name, root / "student" / name)
    results = _run(root)
    _valid(results)
    assert results["score"] == 1.0, [t for t in results["tests"] if t["points"] < t["max_points"]][
        :2
    ]
    # One zip of the stubs, chapters taken from the command line: zero points, still gradable.
    root = _grade_root(tmp_path / "b")
    with zipfile.ZipFile(root / "student" / "work.zip", "w") as zf:
        for p in sorted((EXERCISES / "ch01_neurons").rglob("*.py")):
            zf.write(p, f"exercises/ch01_neurons/{p.name}")
    results = _run(root, "--chapters", "ch01")
    _valid(results)
    assert results["gradable"] is True and results["score"] == 0.0
    # Nothing gradable: no attempt charged, and a reason.
    root = _grade_root(tmp_path / "c")
    (root / "student" / "notes.txt").write_text("hello")
    results = _run(root)
    _valid(results)
    assert results["gradable"] is False and "chapter folders" in results["format_errors"][0]
    root = _grade_root(tmp_path / "d")
    results = _run(root)
    assert results["gradable"] is False and "empty" in results["format_errors"][0]
