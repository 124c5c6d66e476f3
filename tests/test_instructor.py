"""The instructor's workflow: modes, fixtures, release, autograde, Gradescope, independence."""

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from grader.workflows import release
from grader.oracle import Oracle, Store, student_seed
from tests.helpers import EXERCISES, ROOT, SOLUTIONS, copy_solutions, grade, patch

SECRET = "test-secret"


def run_grader(*args, env=None, timeout=900):
    return subprocess.run(
        [sys.executable, "-m", "grader", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COURSE_SECRET": SECRET, **(env or {})},
    )


# ------------------------------------------------------------------------------- modes


def test_fixtures_are_current_with_the_reference():
    proc = run_grader("fixtures", "--check")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_student_seeds_differ_and_are_stable():
    assert student_seed("s", "alice") == student_seed("s", "alice")
    assert student_seed("s", "alice") != student_seed("s", "bob")
    assert student_seed("s", "alice") != student_seed("t", "alice")
    store = Store("hidden")
    a = Oracle("ch01_neurons", "t::x", student_seed("s", "alice"), store).random(
        "x", lambda r: r.normal(size=3)
    )
    b = Oracle("ch01_neurons", "t::x", student_seed("s", "bob"), store).random(
        "x", lambda r: r.normal(size=3)
    )
    assert not (a == b).all()


def test_public_mode_grades_from_fixtures_and_skips_hidden_tests(tmp_path):
    code, results, out = grade(SOLUTIONS, "ch01", extra=["--mode", "public"])
    assert code == 0, out
    assert results["extra_data"]["mode"] == "public"
    assert results["score"] == results["max_score"] > 0
    assert not any("hidden" in t["name"] for t in results["tests"])
    code, hidden, out = grade(SOLUTIONS, "ch01", extra=["--mode", "hidden"])
    assert hidden["extra_data"]["mode"] == "hidden"
    assert any(t["visibility"] == "after_published" for t in hidden["tests"])


def test_student_flag_needs_the_secret(tmp_path):
    code, _, out = grade(
        SOLUTIONS, "ch01", extra=["--student", "alice", "--secret-file", str(tmp_path / "none")]
    )
    assert code == 2 and "course secret" in out


def test_chapter_independence_charges_an_early_bug_once(tmp_path):
    root = copy_solutions(tmp_path / "sub")
    shutil.rmtree(root / "ch01_neurons")
    shutil.copytree(EXERCISES / "ch01_neurons", root / "ch01_neurons")  # ch01 left as the stub
    code, plain, out = grade(root, "ch04")
    assert code == 0, out
    assert plain["score"] < plain["max_score"]  # ch04's Dense builds on ch01's Dense
    code, indep, out = grade(root, "ch04", extra=["--independent"])
    assert code == 0, out
    assert indep["score"] == indep["max_score"]
    assert "in place of yours" in indep["output"]


# ------------------------------------------------------------------------------ release


def test_release_check_finds_every_kind_of_leak(tmp_path):
    rel = tmp_path / "rel"
    (rel / "exercises" / "ch02_activations").mkdir(parents=True)
    (rel / "reference").mkdir()
    (rel / "grader" / "suites" / "ch01_neurons").mkdir(parents=True)
    (rel / "exercises" / "x.py").write_text(
        "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n"
    )
    body = (SOLUTIONS / "ch04_backprop" / "dense.py").read_text()
    (rel / "exercises" / "ch02_activations" / "copy.py").write_text(body)
    (rel / "grader" / "suites" / "ch01_neurons" / "test_hidden_x.py").write_text("x = 1\n")
    (rel / "notes.txt").write_text(f"secret: {SECRET}\n")
    problems = "\n".join(release.check_contents(rel, secret=SECRET))
    assert "reference is in the release" in problems
    assert "contains solution markers" in problems
    assert "contains the solution code of solutions/ch04_backprop/dense.py" in problems
    assert "is a hidden test" in problems
    assert "contains the course secret" in problems


@pytest.mark.slow
# ---------------------------------------------------------------------------- autograde


def _make_class(base):
    subs = base / "submissions"
    subs.mkdir()
    shutil.copytree(SOLUTIONS, subs / "alice")  # correct
    shutil.copytree(EXERCISES, subs / "bob")  # untouched stubs
    partly = copy_solutions(subs / "carol")  # one bug in ch01
    patch(
        partly,
        "ch01_neurons/dense.py",
        "self.output = inputs @ self.weights + self.biases",
        "self.output = inputs @ self.weights",
    )
    broken = copy_solutions(subs / "dave")  # syntax error in ch02
    patch(
        broken,
        "ch02_activations/activations.py",
        "import numpy as np",
        "import numpy as np\ndef (:",
    )
    evil = copy_solutions(base / "evil")  # exits the worker at import
    patch(evil, "ch01_neurons/neuron.py", '"""One neuron', 'import os\nos._exit(0)\n"""One neuron')
    with zipfile.ZipFile(subs / "erin.zip", "w") as zf:  # zip with a nested top folder
        for p in sorted(evil.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts:
                zf.write(p, f"my_work/{p.relative_to(evil).as_posix()}")
    with zipfile.ZipFile(subs / "frank.zip", "w") as zf:  # zip-slip
        zf.writestr("../../outside.py", "x = 1")
    (subs / "gina.zip").write_text("this is not a zip")
    (subs / "hank").mkdir()  # empty
    good = io.BytesIO()  # a zip whose data is corrupt
    with zipfile.ZipFile(good, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ch01_neurons/neuron.py", "x = 1\n" * 5000)
    data = bytearray(good.getvalue())
    data[60:120] = bytes(b ^ 0xFF for b in data[60:120])
    (subs / "ivan.zip").write_bytes(bytes(data))
    return subs


@pytest.mark.slow
def test_autograde_a_class_twice_and_resume(tmp_path):
    subs = _make_class(tmp_path)
    out = tmp_path / "out"
    args = ["autograde", str(subs), "--out", str(out), "--chapters", "ch01", "ch02", "--jobs", "2"]
    proc = run_grader(*args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {
        r.split(",")[0]: r.split(",") for r in (out / "gradebook.csv").read_text().splitlines()[1:]
    }
    header = (out / "gradebook.csv").read_text().splitlines()[0].split(",")
    col = {name: i for i, name in enumerate(header)}
    full = float(rows["alice"][col["total"]])
    assert (
        rows["alice"][col["status"]] == "graded"
        and full == float(rows["alice"][col["max_total"]]) > 0
    )
    assert rows["bob"][col["status"]] == "graded" and float(rows["bob"][col["total"]]) == 0
    assert 0 < float(rows["carol"][col["ch01"]]) < float(rows["alice"][col["ch01"]])
    assert rows["carol"][col["ch02"]] == rows["alice"][col["ch02"]]
    assert (
        float(rows["dave"][col["ch02"]]) == 0
        and rows["dave"][col["ch01"]] == rows["alice"][col["ch01"]]
    )
    assert float(rows["erin"][col["ch01"]]) == 0 and rows["erin"][col["status"]] == "graded"
    assert rows["frank"][col["status"]] == "unsafe-zip" and rows["frank"][col["total"]] == ""
    assert rows["gina"][col["status"]] == "not-a-zip"
    assert rows["hank"][col["status"]] == "empty"
    assert rows["ivan"][col["status"]] == "not-a-zip" and "corrupt" in rows["ivan"][col["message"]]
    assert not (tmp_path / "outside.py").exists()
    feedback = (out / "feedback" / "carol.md").read_text()
    assert "biases are not added" in feedback and "expected" not in feedback.split("## ch01")[
        1
    ].split("##")[0].replace("expected the", "")
    full_marks = (out / "feedback" / "alice.md").read_text()
    assert (
        "**failed**" not in full_marks and len(full_marks) < 2000
    )  # passing tests are counted, not listed
    stubs = (out / "feedback" / "bob.md").read_text()
    assert "hidden test(s)" in stubs and "test_hidden" not in stubs
    assert stubs.index("**failed**") < stubs.index("## ch02")
    # Chapter independence is on by default: dave's broken ch02 costs ch02 only, carol's ch01 bug ch01 only.
    assert (
        "graded with the course's solutions of ch01" in (out / "feedback" / "dave.md").read_text()
    )
    assert (out / "summary.png").is_file()
    before = (out / "gradebook.csv").read_text()

    again = run_grader(*args)
    assert "0 to grade" in again.stdout, again.stdout
    assert (out / "gradebook.csv").read_text() == before

    # Interrupt a fresh run after the first submission is done; the re-run finishes the rest.
    out2 = tmp_path / "out2"
    args2 = [
        "autograde",
        str(subs),
        "--out",
        str(out2),
        "--chapters",
        "ch01",
        "ch02",
        "--jobs",
        "1",
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "grader", *args2],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "COURSE_SECRET": SECRET},
        start_new_session=True,
    )
    deadline = time.time() + 300
    while time.time() < deadline and len(list((out2 / "state").glob("*.json"))) < 1:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(list((out2 / "state").glob("*.json")))
    assert 1 <= done < 9
    resumed = run_grader(*args2)
    assert f"{9 - done} to grade, {done} unchanged" in resumed.stdout, resumed.stdout
    assert (out2 / "gradebook.csv").read_text() == before


# ---------------------------------------------------------------------------- Gradescope


@pytest.mark.slow
def test_gradescope_bundle_writes_valid_results_locally(tmp_path):
    bundle = tmp_path / "autograder.zip"
    secret_file = tmp_path / "course-secret"
    # No secret yet: the bundle creates it, as autograde does, and prints where.
    proc = run_grader(
        "gradescope",
        "--out",
        str(bundle),
        "--secret-file",
        str(secret_file),
        env={"COURSE_SECRET": ""},
    )
    assert proc.returncode == 0, proc.stderr
    assert f"created the course secret in {secret_file}" in proc.stdout
    secret = secret_file.read_text().strip()
    assert len(secret) >= 32
    fake = tmp_path / "autograder"
    (fake / "source").mkdir(parents=True)
    with zipfile.ZipFile(bundle) as zf:
        names = zf.namelist()
        assert "setup.sh" in names and "run_autograder" in names
        zf.extractall(fake / "source")
    shutil.copy(fake / "source" / "run_autograder", fake / "run_autograder")
    shutil.copytree(SOLUTIONS / "ch01_neurons", fake / "submission" / "ch01_neurons")
    (fake / "submission_metadata.json").write_text(
        json.dumps({"users": [{"id": "7", "email": "s@x"}]})
    )
    assert (fake / "source" / ".course-secret").read_text().strip() == secret
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "COURSE_SECRET"
    }
    env["AUTOGRADER_ROOT"] = str(fake)
    env["PATH"] = f"{os.path.dirname(sys.executable)}:{env.get('PATH', '')}"
    # What Gradescope runs once (here it finds the packages and the sandbox already installed).
    setup = subprocess.run(
        ["bash", str(fake / "source" / "setup.sh")],
        cwd=fake / "source",
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert setup.returncode == 0, setup.stdout + setup.stderr
    run = subprocess.run(
        ["bash", str(fake / "run_autograder")], env=env, capture_output=True, text=True, timeout=900
    )
    assert run.returncode == 0, run.stdout + run.stderr
    results = json.loads((fake / "results" / "results.json").read_text())
    assert {"score", "max_score", "tests", "output"} <= set(results)
    ch01 = [t for t in results["tests"] if "ch01" in t["tags"]]
    assert ch01 and all(t["status"] == "passed" for t in ch01)
    assert any(t["visibility"] == "after_published" for t in ch01)
    assert "Missing from your submission: ch02" in results["output"]
    # An empty upload still gets a valid results.json with an explanation.
    shutil.rmtree(fake / "submission")
    (fake / "submission").mkdir()
    subprocess.run(
        ["bash", str(fake / "run_autograder")], env=env, capture_output=True, text=True, timeout=300
    )
    empty = json.loads((fake / "results" / "results.json").read_text())
    assert empty["score"] == 0 and "could not be graded" in empty["output"]


@pytest.mark.slow
def test_sharded_autograde_merged_equals_the_unsharded_run(tmp_path):
    subs = tmp_path / "submissions"
    subs.mkdir()
    shutil.copytree(SOLUTIONS, subs / "alice", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(EXERCISES, subs / "bob", ignore=shutil.ignore_patterns("__pycache__"))
    carol = copy_solutions(subs / "carol")
    patch(
        carol,
        "ch01_neurons/dense.py",
        "self.output = inputs @ self.weights + self.biases",
        "self.output = inputs @ self.weights",
    )
    with zipfile.ZipFile(subs / "carol.zip", "w") as zf:  # the same student id twice
        zf.writestr("ch01_neurons/__init__.py", "")
    (subs / "hank").mkdir()  # empty
    common = ["--chapters", "ch01", "--jobs", "2"]
    whole = run_grader("autograde", str(subs), "--out", str(tmp_path / "whole"), *common)
    assert whole.returncode == 0, whole.stdout + whole.stderr
    slices = []
    for i in (1, 2):
        out = tmp_path / f"slice{i}"
        proc = run_grader("autograde", str(subs), "--out", str(out), "--shard", f"{i}/2", *common)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert f"in shard {i}/2" in proc.stdout
        assert (
            0 < len(list((out / "state").glob("*.json"))) < 4
        )  # each job grades a part of the class
        slices.append(str(out))
    incomplete = run_grader("merge", slices[0], "--out", str(tmp_path / "bad"))
    assert incomplete.returncode == 2 and "one folder per shard" in incomplete.stderr
    merged = tmp_path / "merged"
    proc = run_grader("merge", *slices, "--out", str(merged))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (merged / "gradebook.csv").read_text() == (
        tmp_path / "whole" / "gradebook.csv"
    ).read_text()
    for sub in ("feedback", "results"):
        names = sorted(p.name for p in (tmp_path / "whole" / sub).iterdir())
        assert names == sorted(p.name for p in (merged / sub).iterdir()) and names
    assert (merged / "feedback" / "carol.md").read_text() == (
        tmp_path / "whole" / "feedback" / "carol.md"
    ).read_text()
    assert (merged / "summary.png").is_file()
    # The merged folder resumes like any other: nothing to grade again.
    again = run_grader("autograde", str(subs), "--out", str(merged), *common)
    assert "0 to grade, 4 unchanged" in again.stdout, again.stdout
    assert (merged / "gradebook.csv").read_text() == (
        tmp_path / "whole" / "gradebook.csv"
    ).read_text()
    # A slice whose run did not finish a student (here: its state removed) is refused.
    (Path(slices[1]) / "state" / "alice.json").unlink()
    unfinished = run_grader("merge", *slices, "--out", str(tmp_path / "bad2"))
    assert unfinished.returncode == 2 and "has not finished grading alice" in unfinished.stderr
