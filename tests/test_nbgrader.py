"""Chapter notebooks and the nbgrader course.

The first tests need neither nbgrader nor jupytext and run with the course's own tests: every
chapter has a notebook of the right shape, the grade cell's behaviour (a float, nothing on
stderr, held-back tests never named), the student copy of a notebook.

The round trip needs real nbgrader and jupytext (``nox -s nbgrader-test`` installs them in
.nox/nbgrader; elsewhere it is skipped). It builds a course for a few chapters (ch01 and ch02;
$NBGRADER_TEST_CHAPTERS="all" or "ch03 ch05" for others), runs generate_assignment, copies
fake submissions into submitted/ (the solutions, a known wrong module from tests/mutants, the
untouched stubs, a corrupt notebook), then autograde, generate_feedback and export, and
checks that every exported grade equals what ``python -m grader grade`` gives for the same
modules in the same mode, that the corrupt one is flagged instead of scoring 0, and that
neither the release nor the feedback names a held-back test.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from grader import jupyter
from grader import notebook as nbmod
from grader.chapters import all_chapters, chapter_id, resolve
from grader.runner import grade_subprocess
from grader.workflows import nbgrader as nbtools
from grader.workflows import notebooks, release
from grader.workflows.stubgen import MARKER, marked_blocks
from tests.helpers import EXERCISES, IGNORE, ROOT, SOLUTIONS, patch

SECRET = "nbgrader-test-secret"
HAVE_NBGRADER = all(
    importlib.util.find_spec(m) is not None for m in ("nbgrader", "jupytext", "nbclient")
)
needs_nbgrader = pytest.mark.skipif(
    not HAVE_NBGRADER,
    reason="nbgrader and jupytext are not installed in this environment: `nox -s nbgrader-test` runs this "
    "test in .nox/nbgrader",
)


# --------------------------------------------------------------------- notebooks, no nbgrader


def test_every_chapter_with_a_suite_has_a_notebook():
    notebooks = jupyter.chapter_notebooks()
    missing = [p for p in all_chapters() if p not in notebooks]
    assert not missing, (
        f"add notebooks/<package>.py for {missing} (docs/nbgrader.md, 'Adding a chapter')"
    )
    orphans = [p for p in notebooks if p not in all_chapters()]
    assert not orphans, f"notebooks without a grader suite: {orphans}"


@pytest.mark.parametrize("package", sorted(jupyter.chapter_notebooks()))
def test_notebook_has_setup_grade_and_balanced_solution_cells(package):
    path = jupyter.chapter_notebooks()[package]
    assert notebooks.notebook_problems(path, package) == []
    text = path.read_text()
    assert "outputs" not in text.split("# %%", 1)[0], "notebooks are stored without outputs"


@pytest.mark.parametrize("package", sorted(jupyter.chapter_notebooks()))
def test_student_copy_of_a_notebook_has_no_solution(package):
    path = jupyter.chapter_notebooks()[package]
    student = notebooks.student_text(path.read_text(), chapter_id(package))
    assert not any(MARKER.match(line) for line in student.splitlines())
    compile(student, path.name, "exec")  # still valid Python, cell by cell and as a whole
    significant = release.significant_lines(student.splitlines())
    for where, body in release.solution_blocks():
        assert not release.contains_run(significant, body), (
            f"{path.name} holds the solution code of {where}"
        )
    own = [
        release.significant_lines(body)
        for _, _, source in jupyter.split_cells(path.read_text())
        for _, body in marked_blocks(source.splitlines())
    ]
    for body in own:
        assert body and not release.contains_run(significant, body)


def test_format_results_names_visible_tests_only():
    data = {
        "score": 3.0,
        "max_score": 6.0,
        "output": "Graded in hidden mode.\nsome note",
        "extra_data": {"mode": "hidden"},
        "tests": [
            {
                "name": "ch01 test_a[1]",
                "score": 1.0,
                "max_score": 1.0,
                "status": "passed",
                "output": "",
                "visibility": "visible",
            },
            {
                "name": "ch01 test_a[2]",
                "score": 0.0,
                "max_score": 1.0,
                "status": "failed",
                "output": "a is wrong\ndetail line",
                "visibility": "visible",
            },
            {
                "name": "ch01 test_hidden_secret_shape",
                "score": 2.0,
                "max_score": 2.0,
                "status": "passed",
                "output": "",
                "visibility": "after_published",
            },
            {
                "name": "ch01 test_hidden_other",
                "score": 0.0,
                "max_score": 2.0,
                "status": "failed",
                "output": "hidden failure with inputs 12345",
                "visibility": "after_published",
            },
        ],
    }
    text = nbmod.format_results(data, package="ch01_neurons", submission=Path("exercises"))
    assert (
        "test_a" in text and "a is wrong" in text and "detail line" in text and "some note" in text
    )
    assert "secret_shape" not in text and "test_hidden" not in text and "12345" not in text
    assert "held-back tests: 1 of 2 passed, 2/4 points" in text


def test_grading_plan_uses_the_instructor_repository_and_student_seed_only_when_told(tmp_path):
    start = tmp_path / "autograded" / "alice" / "ch02_activations"
    root, options = nbmod.grading_plan("ch02_activations", start, start_dir=start, environ={})
    assert root == nbmod.course_root() and options == []
    env = {nbmod.ENV_ROOT: str(ROOT), nbmod.ENV_INDEPENDENT: "1", "COURSE_SECRET": "s"}
    root, options = nbmod.grading_plan("ch02_activations", start, start_dir=start, environ=env)
    assert root == ROOT and options == ["--mode", "hidden", "--independent"]
    env["NBGRADER_EXECUTION"] = "autograde"
    _, options = nbmod.grading_plan("ch02_activations", start, start_dir=start, environ=env)
    assert options[-2:] == ["--student", "alice"]
    env[nbmod.ENV_MODE] = "public"
    _, options = nbmod.grading_plan("ch02_activations", start, start_dir=start, environ=env)
    assert "--student" not in options and options[:2] == ["--mode", "public"]


def test_grade_cell_returns_a_float_prints_to_stdout_only_and_hides_held_back_tests(
    capfd, monkeypatch
):
    for key in (
        nbmod.ENV_ROOT,
        nbmod.ENV_MODE,
        nbmod.ENV_INDEPENDENT,
        nbmod.ENV_SUBMISSION,
        "NBGRADER_EXECUTION",
    ):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setattr(nbmod, "submission_root", lambda: EXERCISES)
    score = nbmod.grade_cell("ch01")
    out, err = capfd.readouterr()
    assert type(score) is float and score == 0.0
    assert err == ""
    assert "graded in hidden mode" in out and "held-back tests: 0 of" in out
    assert "test_hidden" not in out
    # a chapter not started is one line, as in the command line's report
    assert (
        "not started: every function ch01_neurons asks for still raises NotImplementedError "
        "(begin with neuron_output)" in out
    )
    assert "FAIL" not in out and "What failed" not in out


def test_grade_cell_raises_grading_unavailable_when_the_grader_cannot_run(
    capfd, monkeypatch, tmp_path
):
    monkeypatch.setattr(nbmod, "submission_root", lambda: EXERCISES)
    monkeypatch.setenv(nbmod.ENV_ROOT, str(tmp_path / "no-such-repository"))
    with pytest.raises(nbmod.GradingUnavailable):
        nbmod.grade_cell("ch01")
    monkeypatch.delenv(nbmod.ENV_ROOT)
    with pytest.raises(nbmod.GradingUnavailable, match="unknown chapter"):
        nbmod.grade_cell("ch99")
    with pytest.raises(nbmod.GradingUnavailable, match="rebuild"):
        nbmod.grade_cell("ch01", points=1)
    assert capfd.readouterr().err == ""


# ------------------------------------------------------------------------ the nbgrader round trip


def _chapters_under_test():
    wanted = os.environ.get("NBGRADER_TEST_CHAPTERS", "").split()
    if wanted in (["all"], ["ALL"]):
        return all_chapters()
    return resolve(wanted or ["ch01", "ch02"])


def _first_mutant(package):
    path = ROOT / "tests" / "mutants" / f"{package}.toml"
    return tomllib.loads(path.read_text())["mutant"][0] if path.is_file() else None


def _fill(folder, source_root, packages):
    """Put ``packages`` from ``source_root`` into the submission's exercises/ folder."""
    for q in packages:
        target = folder / "exercises" / q
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source_root / q, target, ignore=IGNORE)


def _expected(package, exercises, student):
    """What ``python -m grader grade`` gives for these modules, with the grade cell's options."""
    results = exercises.parent / f".expected-{student}.json"
    proc = grade_subprocess(
        [chapter_id(package)],
        exercises,
        results=results,
        secret=SECRET,
        timeout=900,
        options=["--mode", "hidden", "--independent", "--student", student],
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(results.read_text())
    results.unlink()
    return data


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """An nbgrader course for the chapters under test, with release/ generated."""
    if not HAVE_NBGRADER:
        pytest.skip("needs nbgrader")
    packages = _chapters_under_test()
    course = tmp_path_factory.mktemp("nbgrader") / "course"
    nbtools.build_course(course, packages, mode="hidden", independent=True, log=lambda *a: None)
    for package in packages:
        nbtools.run_nbgrader(course, "generate_assignment", package, "--force")
    return course


@needs_nbgrader
@pytest.mark.slow
def test_nbgrader_round_trip_exports_the_graders_scores(course, monkeypatch):
    monkeypatch.setenv("COURSE_SECRET", SECRET)
    for key in (nbmod.ENV_ROOT, nbmod.ENV_MODE, nbmod.ENV_INDEPENDENT, nbmod.ENV_SUBMISSION):
        monkeypatch.delenv(key, raising=False)
    packages = _chapters_under_test()
    config = (course / "nbgrader_config.py").read_text()
    # No absolute path of this machine (the repository is found relative to the course folder;
    # that relative path may of course end with the repository's folder names).
    assert "exclude_overwriting" in config
    assert repr(str(ROOT)) not in config and f'"{ROOT}"' not in config
    assert nbtools.release_problems(course) == []

    # Fake submissions: what students hand back, copied into submitted/<student>/<assignment>.
    students = {}
    for n, package in enumerate(packages):
        released = course / "release" / package
        earlier = [q for q in all_chapters() if q[:4] <= package[:4]]
        plan = {"alice": "solutions", "bob": "mutant"}
        if n == 0:
            plan.update(carol="stubs", dave="corrupt notebook", eve="tampered kernel")
        for student, kind in plan.items():
            folder = course / "submitted" / student / package
            shutil.copytree(released, folder)
            if kind == "solutions":
                _fill(folder, SOLUTIONS, earlier)
            elif kind == "mutant":
                _fill(folder, SOLUTIONS, earlier)
                mutant = _first_mutant(package)
                if mutant is None:
                    _fill(folder, EXERCISES, [package])
                else:
                    for edit in mutant.get("edits", [mutant]):
                        patch(
                            folder / "exercises",
                            f"{package}/{edit['file']}",
                            edit["old"],
                            edit["new"],
                            edit.get("count", 1),
                        )
            elif kind == "corrupt notebook":
                (folder / f"{package}.ipynb").write_text('{"cells": [')
            elif kind == "tampered kernel":  # stubs, and a cell of her own that fakes the grader
                nb_path = folder / f"{package}.ipynb"
                nb = json.loads(nb_path.read_text())
                fake = (
                    "import grader.notebook as g\n"
                    "g.run_grader = lambda *a, **k: {'score': 1.0, 'max_score': 1.0, 'tests': [], "
                    "'extra_data': {'mode': 'public'}}"
                )
                nb["cells"].insert(
                    -1,
                    {
                        "cell_type": "code",
                        "execution_count": None,
                        "id": "fake-grader",
                        "metadata": {},
                        "outputs": [],
                        "source": fake,
                    },
                )
                nb_path.write_text(json.dumps(nb))
            students[(package, student)] = kind

    for package in packages:
        nbtools.run_nbgrader(course, "autograde", package, check=False)
        nbtools.run_nbgrader(course, "generate_feedback", package, check=False)
    grades_csv = course / "grades.csv"
    nbtools.run_nbgrader(course, "export", "--to", str(grades_csv))
    rows = {(r["assignment"], r["student_id"]): r for r in csv.DictReader(grades_csv.open())}

    hidden_names = set()
    for (package, student), kind in sorted(students.items()):
        row = rows[(package, student)]
        if kind == "corrupt notebook":
            assert row["score"] == "" and row["status"].startswith("NOT GRADED"), row
            continue
        if kind == "tampered kernel":  # nbgrader cannot tell; check --verify can
            assert float(row["score"]) == 1.0, row
            mismatch = nbtools.verify_scores(
                course, [package], students=[student], log=lambda *a: None
            )
            assert (
                list(mismatch) == [(package, student)]
                and "the grader gives 0" in mismatch[(package, student)]
            )
            continue
        exercises = course / "autograded" / student / package / "exercises"
        want = _expected(package, exercises, student)
        hidden_names |= {
            t["name"].split(" ", 1)[1].split("[")[0]
            for t in want["tests"]
            if t["visibility"] != "visible"
        }
        assert row["status"] == "graded", row
        assert float(row["score"]) == pytest.approx(want["score"]), (package, student, kind, row)
        assert float(row["max_score"]) == pytest.approx(want["max_score"])
        if kind == "solutions":
            assert want["score"] == want["max_score"]
        elif kind == "stubs":
            assert want["score"] == 0
        elif kind == "mutant" and _first_mutant(package):
            assert 0 <= want["score"] < want["max_score"]
        feedback = course / "feedback" / student / package / f"{package}.html"
        assert feedback.is_file(), f"no feedback for {student} {package}"
        html = feedback.read_text()
        shown = {
            t["name"].split(" ", 1)[1].split("[")[0]
            for t in want["tests"]
            if t["visibility"] == "visible"
        }
        if kind == "stubs":  # a chapter not started is one line, with the function to begin with
            assert f"not started: every function {package} asks for" in html, student
        else:
            assert all(name in html for name in shown), (
                f"feedback of {student} lacks the visible tests"
            )
        leaked = [name for name in hidden_names if name in html]
        assert not leaked, f"feedback of {student} names held-back tests {leaked}"

    for ipynb in (course / "release").rglob("*.ipynb"):
        assert not [name for name in hidden_names if name in ipynb.read_text()]

    # The course folder itself holds no secret and no reference.
    assert not list(course.rglob(".course-secret")) and not list(course.rglob("reference"))
    assert SECRET not in (course / "nbgrader_config.py").read_text()

    # After verify, the export flags the tampered kernel: its score cell is empty.
    nbtools.run_nbgrader(course, "export", "--to", str(grades_csv))
    rows = {(r["assignment"], r["student_id"]): r for r in csv.DictReader(grades_csv.open())}
    eve = rows[(packages[0], "eve")]
    assert (
        eve["score"] == ""
        and eve["status"].startswith("NOT GRADED: verify")
        and eve["verified"] == "MISMATCH"
    ), eve

    flagged = nbtools.submission_problems(course)
    assert set(flagged) == {(packages[0], "dave")}, flagged
    proc = subprocess.run(
        [sys.executable, "-m", "grader.workflows.nbgrader", "check", str(course)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1 and "dave" in proc.stdout, proc.stdout + proc.stderr


@needs_nbgrader
@pytest.mark.slow
def test_released_notebook_runs_with_nbconvert_on_stubs_and_on_solutions(
    course, tmp_path, monkeypatch
):
    """A student's view: the released notebook, executed by ``jupyter nbconvert --execute``,
    grades its folder in public mode: 0 for the stubs, full public marks for the solutions,
    and its grade cell writes nothing to stderr."""
    for key in (nbmod.ENV_ROOT, nbmod.ENV_MODE, nbmod.ENV_INDEPENDENT, nbmod.ENV_SUBMISSION):
        monkeypatch.delenv(key, raising=False)
    package = _chapters_under_test()[-1]
    expected_public = None
    for kind in ("stubs", "solutions"):
        folder = tmp_path / kind
        shutil.copytree(course / "release" / package, folder)
        if kind == "solutions":
            _fill(folder, SOLUTIONS, [q for q in all_chapters() if q[:4] <= package[:4]])
        out = folder / "executed.ipynb"
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "nbconvert",
                "--to",
                "notebook",
                "--execute",
                "--allow-errors",
                "--ExecutePreprocessor.timeout=300",
                "--output",
                str(out),
                str(folder / f"{package}.ipynb"),
            ],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=900,
            env=nbtools.nbgrader_env(),
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        score, errors, stderr = jupyter.grade_output(json.loads(out.read_text()))
        assert not errors and not stderr, (errors, stderr)
        if kind == "stubs":
            assert score == 0.0
        else:
            results = folder / "public.json"
            graded = grade_subprocess(
                [chapter_id(package)],
                folder / "exercises",
                results=results,
                cwd=folder,
                timeout=900,
            )
            assert graded.returncode == 0, graded.stderr
            expected_public = json.loads(results.read_text())
            assert expected_public["extra_data"]["mode"] == "public"
            assert score == expected_public["score"] == expected_public["max_score"] > 0
