"""The command line: exit status 0 whenever grading ran, 2 when it could not."""

import subprocess
import sys

from tests.helpers import ROOT


def run(*args):
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_unknown_chapter_is_a_usage_error():
    proc = run("grade", "ch99", "--submission", "solutions")
    assert proc.returncode == 2
    assert "unknown chapter 'ch99'" in proc.stderr and "Traceback" not in proc.stderr


def test_missing_submission_folder_is_a_usage_error(tmp_path):
    proc = run("grade", "ch01", "--submission", str(tmp_path / "nope"))
    assert proc.returncode == 2
    assert "does not exist" in proc.stderr and "Traceback" not in proc.stderr


def test_chapter_names_accept_several_spellings():
    from grader.chapters import resolve

    assert resolve(["ch01", "1", "01", "ch01_neurons"]) == ["ch01_neurons"]


def test_empty_submission_grades_to_zero_cleanly(tmp_path):
    proc = run("grade", "ch01", "--submission", str(tmp_path), "--results", str(tmp_path / "r.json"))
    assert proc.returncode == 0, proc.stderr
    assert "has no ch01_neurons package" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_stubs_check_passes():
    proc = run("stubs", "--check")
    assert proc.returncode == 0, proc.stdout
