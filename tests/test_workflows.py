"""Instructor commands that must touch only what changed: stubs, fixtures."""

import json
import shutil

import numpy as np

from grader.worker import encode
from grader.workflows import fixtures, stubgen
from tests.helpers import IGNORE, SOLUTIONS


def test_stubs_write_reports_only_the_files_it_changed(tmp_path):
    solutions = tmp_path / "solutions"
    shutil.copytree(SOLUTIONS / "ch01_neurons", solutions / "ch01_neurons", ignore=IGNORE)
    exercises = tmp_path / "exercises"
    first = stubgen.write(solutions, exercises)
    assert "ch01_neurons/dense.py" in first and len(first) >= 3
    stamp = (exercises / "ch01_neurons" / "dense.py").stat().st_mtime_ns
    assert stubgen.write(solutions, exercises) == []  # nothing changed, nothing written
    assert (exercises / "ch01_neurons" / "dense.py").stat().st_mtime_ns == stamp
    readme = solutions / "ch01_neurons" / "README.md"
    readme.write_text(readme.read_text() + "\nOne more line.\n")
    (exercises / "ch01_neurons" / "stray.py").write_text("x = 1\n")
    assert stubgen.write(solutions, exercises) == [
        "ch01_neurons/README.md",
        "ch01_neurons/stray.py",
    ]
    assert not (exercises / "ch01_neurons" / "stray.py").exists()
    assert stubgen.check(solutions, exercises) == []


def _fixture_file(path, value):
    path.write_text(json.dumps({"version": 1, "seed": 1, "values": {"t": {"x": encode(value)}}}))


def test_fixtures_rewrite_only_what_the_check_calls_different(tmp_path, monkeypatch):
    current = tmp_path / "fixtures"
    current.mkdir()
    value = np.linspace(0.1, 2.0, 7)
    _fixture_file(current / "ch98_a.json", value)
    _fixture_file(current / "ch99_b.json", value)
    recorded = {
        "ch98_a": value * (1 + 1e-15),  # the last bits differ: the same fixture
        "ch99_b": value * (1 + 1e-6),
    }  # a real change

    def fake_record(packages, where):
        for p in packages:
            _fixture_file(tmp_path / where / f"{p}.json", recorded[p])

    monkeypatch.setattr(fixtures, "record_fixtures", fake_record)
    monkeypatch.setattr(fixtures, "FIXTURES", current)
    monkeypatch.setattr(fixtures, "reference_available", lambda: True)
    before = (current / "ch98_a.json").read_bytes()
    assert fixtures.stale(["ch98_a", "ch99_b"]) == ["ch99_b"]
    assert fixtures.record(["ch98_a", "ch99_b"]) == ["ch99_b"]
    assert (current / "ch98_a.json").read_bytes() == before
    assert fixtures.stale(["ch98_a", "ch99_b"]) == []


def _classroom_points(output_file):
    """What GitHub Classroom's grading reporter records from the runner `grade`: it decodes
    GRADE_RESULTS (the step output `result`) and sums the tests' scores against max_score."""
    import base64

    line = [ln for ln in output_file.read_text().splitlines() if ln.startswith("result=")][-1]
    data = json.loads(base64.b64decode(line.split("=", 1)[1]))
    assert data["version"] == 1 and data["status"] in ("pass", "fail", "error")
    assert all(t["status"] in ("pass", "fail", "error") and "name" in t for t in data["tests"])
    return sum(t["score"] for t in data["tests"]), data["max_score"], data["status"]


def test_classroom_awards_the_real_score(tmp_path):
    import subprocess
    import sys

    from grader.runner import grade_subprocess
    from tests.helpers import EXERCISES, ROOT, copy_solutions, patch

    partly = copy_solutions(tmp_path / "carol")
    patch(
        partly,
        "ch01_neurons/dense.py",
        "self.output = inputs @ self.weights + self.biases",
        "self.output = inputs @ self.weights",
    )
    seen = {}
    for name, submission in (("full", SOLUTIONS), ("stubs", EXERCISES), ("partly", partly)):
        results = tmp_path / f"{name}.json"
        proc = grade_subprocess(
            ["ch01"], submission, results=results, options=["--mode", "public"], timeout=600
        )
        assert proc.returncode == 0, proc.stderr
        output = tmp_path / f"{name}.out"
        conv = subprocess.run(
            [
                sys.executable,
                "-m",
                "grader",
                "classroom",
                str(results),
                "--github-output",
                str(output),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert conv.returncode == 0, conv.stderr
        graded = json.loads(results.read_text())
        score, max_score, status = _classroom_points(output)
        assert (score, max_score) == (graded["score"], graded["max_score"])
        seen[name] = (score, max_score, status)
    assert seen["full"][0] == seen["full"][1] > 0 and seen["full"][2] == "pass"
    assert seen["stubs"][0] == 0 and seen["stubs"][2] == "fail"
    assert 0 < seen["partly"][0] < seen["partly"][1] and seen["partly"][2] == "fail"
    # No results (the grader could not run): an error, no points.
    missing = tmp_path / "missing.out"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grader",
            "classroom",
            str(tmp_path / "none.json"),
            "--github-output",
            str(missing),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert _classroom_points(missing) == (0, 0, "error")


def test_nbgrader_config_holds_no_path_of_the_building_machine(tmp_path):
    import subprocess
    import sys

    from grader.notebook import ENV_INDEPENDENT, ENV_MODE, ENV_ROOT
    from grader.workflows.nbgrader import config_text, config_environment
    from tests.helpers import ROOT

    course = ROOT / "build" / "nbgrader-config-test"
    text = config_text(
        {"ch01_neurons": ["exercises/ch01_neurons/neuron.py"]}, "hidden", True, course
    )
    assert str(ROOT) not in text and "REPOSITORY_RELATIVE = '../..'" in text
    course.mkdir(parents=True, exist_ok=True)
    try:
        (course / "nbgrader_config.py").write_text(text)
        # nbgrader loads the file with get_config() defined: run it as nbgrader would.
        probe = (
            "import json, os, sys\nclass C(dict):\n    def __getattr__(self, k):\n"
            "        return self.setdefault(k, C())\n    __setattr__ = dict.__setitem__\n"
            "get_config = lambda: C()\npath = sys.argv[1]\n"
            "exec(compile(open(path).read(), path, 'exec'), {'get_config': get_config, '__file__': path})\n"
            f"print(json.dumps([os.environ.get(k) for k in ({ENV_ROOT!r}, {ENV_MODE!r}, {ENV_INDEPENDENT!r})]))"
        )
        env = {
            k: v for k, v in __import__("os").environ.items() if not k.startswith("COURSE_GRADER")
        }
        out = subprocess.run(
            [sys.executable, "-c", probe, str(course / "nbgrader_config.py")],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert json.loads(out) == [str(ROOT), "hidden", "1"]
        assert config_environment(course, environ={}) == {
            ENV_ROOT: str(ROOT),
            ENV_MODE: "hidden",
            ENV_INDEPENDENT: "1",
        }
        # An explicit root wins (a course folder moved away from the repository).
        out = subprocess.run(
            [sys.executable, "-c", probe, str(course / "nbgrader_config.py")],
            env={**env, ENV_ROOT: str(tmp_path)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert json.loads(out)[0] == str(tmp_path)
    finally:
        shutil.rmtree(course, ignore_errors=True)


def test_autograde_feedback_puts_failures_first_and_keeps_hidden_tests_unnamed(tmp_path):
    from grader.workflows.autograde import write_feedback

    def test(name, passed, hidden=False, output=""):
        return {
            "name": f"ch02 {name}",
            "score": 1.0 if passed else 0.0,
            "max_score": 1.0,
            "status": "passed" if passed else "failed",
            "output": output,
            "tags": ["ch02"],
            "visibility": "after_published" if hidden else "visible",
        }

    wrong = "Softmax.forward(inputs): output is wrong (rows do not sum to 1)\n    at [0, 1]: expected 0.25, got 0.5"
    tests = [test(f"test_relu_forward[{i}-3]", True) for i in range(40)]
    tests += [
        test("test_softmax_forward[5-4]", False, output=wrong),
        test("test_softmax_forward[1-7]", False, output=wrong),
    ]
    tests += [
        test(
            "test_hidden_softmax_large[64-1000]",
            False,
            hidden=True,
            output="Softmax.forward(inputs of shape (64, 1000)): output is wrong",
        ),
        test("test_hidden_relu_big[256-128]", True, hidden=True),
    ]
    results = {"score": 41.0, "max_score": 44.0, "output": "Graded in hidden mode.", "tests": tests}
    path = tmp_path / "fb.md"
    write_feedback(path, "alice", results, {"missing": [], "scores": {"ch02": [41.0, 44.0]}})
    text = path.read_text()
    assert text.index(
        "**failed** `test_softmax_forward[5-4]` and 1 more failing the same way"
    ) < text.index("- passed: 41 test(s) (1 of them hidden)")
    assert "test_relu_forward" not in text  # passing tests: a count, not a list
    assert "expected 0.25" not in text  # no reference values
    assert "1 hidden test(s) (calling `Softmax.forward`)" in text
    assert (
        "test_hidden" not in text and "64" not in text and "1000" not in text and "256" not in text
    )
    assert "rows do not sum to 1" in text


def test_the_grader_image_definition_matches_the_repository():
    """No Docker engine here: check what the Dockerfile relies on (the image is built elsewhere)."""
    import re
    import tomllib

    from tests.helpers import ROOT

    text = (ROOT / "Dockerfile").read_text()
    for src in re.findall(r"^COPY (\S+) ", text, re.M):
        assert (ROOT / src).exists(), f"COPY {src}: not in the repository"
    groups = tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]
    assert "--group grade" in text and "grade" in groups
    commands = set(
        re.findall(r'sub\.add_parser\(\s*"([a-z-]+)"', (ROOT / "grader" / "cli.py").read_text())
    )
    assert {"autograde", "prairielearn", "gradescope-run"} <= commands
    for command in re.findall(r"python3 -m grader ([a-z-]+)", text):
        assert command in commands, f"the image runs `grader {command}`, which does not exist"
    ignored = {
        ln.strip()
        for ln in (ROOT / ".dockerignore").read_text().splitlines()
        if not ln.startswith("#")
    }
    assert (
        ".course-secret" in ignored and not {"grader", "reference", "solutions", "data"} & ignored
    )
