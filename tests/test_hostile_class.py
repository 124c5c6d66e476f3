"""A class with one hostile student, graded by ``autograde`` in hidden mode in the sandbox.

The hostile submission knows the machine's layout (the test writes every path into its
code) and, at import time and in every graded call, tries what a hostile student tried
against the grader before it had a sandbox: read the solutions, the reference and the
secret; plant code in the reference, the grader and site-packages; rewrite the gradebook
and another student's submission; kill the other workers; leave a daemon behind. Then it
computes its answers honestly.

Afterwards: the honest students' scores are what they score alone, every file of the
grader, the reference, the solutions, the data and the environment hashes as before, the
other submissions and the gradebook are untouched, no process of the sandbox is left, and
the gradebook records the isolation level.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from grader import isolation
from tests.helpers import ROOT, copy_solutions

pytestmark = pytest.mark.skipif(
    isolation.probe()[0] != isolation.SANDBOX, reason=f"no sandbox here: {isolation.probe()[1]}"
)

CHAPTERS = ["ch01", "ch02"]

ATTACK = r'''
import os, signal, subprocess, sys, time

PATHS = {paths!r}
LOG = []


def _try(what, fn):
    try:
        fn()
        LOG.append("done: " + what)
    except BaseException as exc:
        LOG.append(f"refused: {{what}} ({{type(exc).__name__}})")


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a") as fh:
        fh.write(text)


def _kill_everything():
    for pid in os.listdir("/proc"):
        if pid.isdigit() and int(pid) not in (os.getpid(), 1):
            try:
                os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass


DAEMON_CODE = """
import sys, time
# nnfs-hostile-daemon
for _ in range(40):
    time.sleep(0.25)
    for target in sys.argv[1:]:
        try:
            with open(target, "a") as fh:
                fh.write("daemon was here\\n")
        except OSError:
            pass
"""


def _daemon():
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", DAEMON_CODE, PATHS["gradebook"], PATHS["marker"]])
        os._exit(0)


def attack():
    _try("read the solutions", lambda: open(PATHS["solution_file"]).read())
    _try("read the secret", lambda: open(PATHS["secret"]).read())
    _try("plant in the reference", lambda: _write(PATHS["reference_file"], "\nPLANTED = 1\n"))
    _try("plant in the grader", lambda: _write(PATHS["grader_file"], "\nPLANTED = 1\n"))
    _try("plant a .pth", lambda: _write(PATHS["site_packages"] + "/planted.pth", "import os\n"))
    _try("rewrite the gradebook", lambda: _write(PATHS["gradebook"], "honest1,0,0,0,0,graded,\n"))
    _try("break another submission", lambda: _write(PATHS["other_submission"], "\nraise SystemExit\n"))
    _try("kill the other workers", _kill_everything)
    _try("leave a daemon", _daemon)
    _try("start a setsid child", lambda: subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)  # nnfs-hostile-child"], start_new_session=True))


attack()
'''


def _tree_hash(*roots):
    h = hashlib.sha256()
    for root in roots:
        for p in sorted(Path(root).rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts:
                h.update(str(p).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def _gradebook(out):
    with open(out / "gradebook.csv") as fh:
        return {row["student"]: row for row in csv.DictReader(fh)}


def test_one_hostile_student_changes_nothing_for_the_others(tmp_path):
    subs = tmp_path / "submissions"
    subs.mkdir()
    out = tmp_path / "graded"
    for name in ("honest1", "honest2"):
        copy_solutions(subs / name)
    hostile = copy_solutions(subs / "hostile")
    marker = tmp_path / "daemon-marker"
    site = Path(np.__file__).resolve().parent.parent
    paths = {
        "solution_file": str(ROOT / "solutions" / "ch01_neurons" / "neuron.py"),
        "secret": str(tmp_path / "secret"),
        "reference_file": str(ROOT / "reference" / "ch01_neurons" / "__init__.py"),
        "grader_file": str(ROOT / "grader" / "check.py"),
        "site_packages": str(site),
        "gradebook": str(out / "gradebook.csv"),
        "other_submission": str(subs / "honest1" / "ch01_neurons" / "neuron.py"),
        "marker": str(marker),
    }
    attack = ATTACK.format(paths=paths)
    for chapter_init in ("ch01_neurons/__init__.py", "ch02_activations/__init__.py"):
        target = hostile / chapter_init
        target.write_text(target.read_text() + "\n" + attack)
    (tmp_path / "secret").write_text("class-secret\n")

    guarded = [Path(x) for x in os.environ.get("NNFS_GUARDED", "").split(os.pathsep) if x] or [
        ROOT / "grader",
        ROOT / "reference",
        ROOT / "solutions",
        ROOT / "data",
        site,
    ]
    before = _tree_hash(*guarded)
    honest_before = _tree_hash(subs / "honest1", subs / "honest2")

    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["COURSE_SECRET"] = "class-secret"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader",
            "autograde",
            str(subs),
            "--out",
            str(out),
            "--chapters",
            *CHAPTERS,
            "--jobs",
            "2",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    time.sleep(12)  # longer than the daemon would have needed to strike

    book = _gradebook(out)
    assert book["honest1"]["status"] == "graded" and book["honest2"]["status"] == "graded"
    for name in ("honest1", "honest2"):
        assert book[name]["total"] == book[name]["max_total"], book[name]
    # The hostile code ran (its chapters import and score) and achieved nothing.
    assert (
        book["hostile"]["status"] == "graded"
        and book["hostile"]["total"] == book["hostile"]["max_total"]
    )
    assert "PLANTED" not in Path(paths["reference_file"]).read_text()
    assert "PLANTED" not in Path(paths["grader_file"]).read_text()
    assert not (site / "planted.pth").exists()
    assert "sandbox" in book["honest1"]["isolation"], book["honest1"]
    assert "daemon was here" not in (out / "gradebook.csv").read_text()
    assert not marker.exists()
    assert _tree_hash(*guarded) == before, (
        "a file of the grader, reference, solutions, data or site-packages changed"
    )
    assert _tree_hash(subs / "honest1", subs / "honest2") == honest_before
    assert "class-secret" not in (out / "feedback" / "hostile.md").read_text()
    left = subprocess.run(
        ["ps", "-eo", "args="], capture_output=True, text=True
    ).stdout.splitlines()
    assert not [line for line in left if "nnfs-hostile" in line], left
    shutil.rmtree(out, ignore_errors=True)
