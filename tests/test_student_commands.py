"""Commands the chapter texts give students, run as a student runs them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers import ROOT

SEVEN = "solutions/ch09_mnist/img/drawn_seven.png"


def run_module(module, *args, timeout=300):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.slow
def test_ch09_classify_trains_once_then_names_the_digit_of_a_png(tmp_path):
    model = tmp_path / "model.npz"
    first = run_module("solutions.ch09_mnist.classify", SEVEN, "--model", str(model))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "training the network" in first.stdout and model.is_file()
    assert f"{SEVEN}: 7 " in first.stdout
    again = run_module("solutions.ch09_mnist.classify", SEVEN, "--model", str(model))
    assert again.returncode == 0 and "loading the network" in again.stdout
    assert "training" not in again.stdout and f"{SEVEN}: 7 " in again.stdout
    broken = tmp_path / "not_a_png.png"
    broken.write_text("no image here")
    bad = run_module("solutions.ch09_mnist.classify", str(broken), "--model", str(model))
    assert bad.returncode == 1 and "cannot classify it" in bad.stdout
    assert "Traceback" not in bad.stdout + bad.stderr


def test_ch09_classify_on_the_stubs_says_what_to_write(tmp_path):
    proc = run_module("exercises.ch09_mnist.classify", SEVEN, "--model", str(tmp_path / "m.npz"))
    assert proc.returncode == 1
    assert "not implemented yet: ch09: implement" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
