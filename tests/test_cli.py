"""The command line: exit status 0 whenever grading ran, 2 when it could not."""

import subprocess
import sys

from grader.runner import SECRET_ENV, grade_command, grade_env, grade_subprocess
from tests.helpers import ROOT


def run(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "grader", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_unknown_chapter_is_a_usage_error():
    proc = grade_subprocess(["ch99"], "solutions", quiet=False, timeout=300)
    assert proc.returncode == 2
    assert "unknown chapter 'ch99'" in proc.stderr and "Traceback" not in proc.stderr


def test_missing_submission_folder_is_a_usage_error(tmp_path):
    proc = grade_subprocess(["ch01"], tmp_path / "nope", quiet=False, timeout=300)
    assert proc.returncode == 2
    assert "does not exist" in proc.stderr and "Traceback" not in proc.stderr


def test_chapter_names_accept_several_spellings():
    from grader.chapters import resolve

    assert resolve(["ch01", "1", "01", "ch01_neurons"]) == ["ch01_neurons"]


def test_empty_submission_grades_to_zero_cleanly(tmp_path):
    proc = grade_subprocess(
        ["ch01"], tmp_path, results=tmp_path / "r.json", quiet=False, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert "has no ch01_neurons package" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_stubs_check_passes():
    proc = run("stubs", "--check")
    assert proc.returncode == 0, proc.stdout


def test_the_grading_process_gets_a_clean_environment():
    environ = {
        "PATH": "/bin",
        "PYTHONPATH": "/elsewhere",
        "PYTHONSTARTUP": "/x.py",
        SECRET_ENV: "s3cret",
    }
    env = grade_env(environ=environ)
    assert env["PATH"] == "/bin" and "PYTHONPATH" not in env and "PYTHONSTARTUP" not in env
    assert SECRET_ENV not in env  # the secret only when the caller passes it on
    assert grade_env(environ=environ, secret="other")[SECRET_ENV] == "other"
    cmd = grade_command(["ch02"], "sub", results="r.json", options=["--seed", 3])
    assert cmd[1:] == [
        "-m",
        "grader",
        "grade",
        "ch02",
        "--submission",
        "sub",
        "--results",
        "r.json",
        "--quiet",
        "--seed",
        "3",
    ]


def test_instructor_commands_say_so_in_the_student_release(tmp_path):
    from grader.workflows.release import copy_public_grader

    copy_public_grader(tmp_path / "grader", ["ch01_neurons"])
    for command in (["stubs", "--check"], ["autograde", "subs", "--out", "o"], ["gradescope"]):
        proc = run(*command, cwd=tmp_path)
        assert proc.returncode == 2, proc.stderr
        assert "instructor command, not part of the student release" in proc.stderr, proc.stderr
    proc = run("grade", "ch01", "--submission", str(tmp_path / "none"), cwd=tmp_path)
    assert proc.returncode == 2 and "does not exist" in proc.stderr
