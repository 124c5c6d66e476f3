"""autograde against odd names, interruptions and a second run on the same folder."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import time
import zipfile

import pytest

from grader import isolation
from tests.helpers import ROOT, SOLUTIONS

pytestmark = pytest.mark.skipif(
    isolation.probe()[0] not in isolation.STRONG,
    reason=f"autograde needs the sandbox: {isolation.probe()[1]}",
)


def _autograde(subs, out, *chapters, timeout=600, **popen):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["COURSE_SECRET"] = "robust-secret"
    cmd = [
        sys.executable,
        "-m",
        "grader",
        "autograde",
        str(subs),
        "--out",
        str(out),
        "--chapters",
        *chapters,
        "--jobs",
        "2",
    ]
    if popen:
        return subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **popen
        )
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def _book(out):
    with open(out / "gradebook.csv", encoding="utf-8") as fh:
        return {row["student"]: row for row in csv.DictReader(fh)}


def _copy_ch01(dest):
    import shutil

    shutil.copytree(
        SOLUTIONS / "ch01_neurons",
        dest / "ch01_neurons",
        ignore=shutil.ignore_patterns("__pycache__"),
    )


def _lying_zip():
    """A zip whose entry name is flagged UTF-8 (general-purpose bit 11) but holds the byte 0xff."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("ch01_neurons/abc.py", "x = 1\n")
    data = bytearray(buf.getvalue().replace(b"abc.py", b"a\xffc.py"))
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        data[at + flag_offset + 1] |= 0x08  # bit 11 of the little-endian flags
    return bytes(data)


def test_odd_names_get_a_status_and_the_others_are_graded(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    _copy_ch01(subs / "plain")
    odd = os.fsdecode(b"stud\xffent")
    _copy_ch01(subs / odd)
    (subs / "liar.zip").write_bytes(_lying_zip())
    (subs / "garbage.zip").write_bytes(b"PK\x03\x04 not really a zip")
    out = tmp_path / "out"
    run = _autograde(subs, out, "ch01")
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    book = _book(out)
    assert (
        book["plain"]["status"] == "graded" and book["plain"]["total"] == book["plain"]["max_total"]
    )
    assert book["stud_ent"]["status"] == "graded", book  # the odd byte became "_"
    assert book["liar"]["status"] == "bad-names" and "UTF-8" in book["liar"]["message"]
    assert book["garbage"]["status"] == "not-a-zip"
    assert not (out / ".work").exists() or not any((out / ".work").iterdir())


HANG = "import time\ntime.sleep(3600)\n"


def test_a_killed_run_leaves_nothing_and_the_next_run_finishes(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("a", "b"):
        _copy_ch01(subs / name)
        init = subs / name / "ch01_neurons" / "__init__.py"
        init.write_text(HANG + init.read_text())  # every grading hangs: the run is surely mid-way
    out = tmp_path / "out"
    proc = _autograde(subs, out, "ch01", start_new_session=False)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (out / ".work").is_dir():
        time.sleep(0.2)
    time.sleep(4)  # the grading processes and their workers are running
    assert any((out / ".work").iterdir()), "nothing was being graded"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(2)
    ps = subprocess.run(["ps", "-eo", "args="], capture_output=True, text=True).stdout
    assert str(subs) not in ps and str(out) not in ps, "a grading process outlived autograde"
    # The next run removes the unpacked copies of the killed one and grades everyone.
    for name in ("a", "b"):
        init = subs / name / "ch01_neurons" / "__init__.py"
        init.write_text(init.read_text().replace(HANG, ""))
    run = _autograde(subs, out, "ch01")
    assert run.returncode == 0, run.stdout[-2000:]
    book = _book(out)
    assert all(book[n]["status"] == "graded" for n in ("a", "b")), book
    assert not (out / ".work").exists()


def test_a_second_run_on_the_same_folder_is_refused_while_the_first_runs(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    _copy_ch01(subs / "a")
    init = subs / "a" / "ch01_neurons" / "__init__.py"
    init.write_text("import time\ntime.sleep(20)\n" + init.read_text())
    out = tmp_path / "out"
    first = _autograde(subs, out, "ch01", start_new_session=False)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (out / ".work").is_dir():
        time.sleep(0.2)
    second = _autograde(subs, out, "ch01")
    first.kill()
    first.wait()
    assert second.returncode == 2 and "another autograde run" in second.stderr, (
        second.stdout + second.stderr
    )
