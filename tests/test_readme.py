"""The README's instructor commands, run as written, on a fresh clone of the repository.

The commands are read from the README's "Workflows" block, not copied here: a command that
changes in the README is tested as it now reads. Each runs with ``python -m nox`` (this
interpreter's nox) in a clone of the committed repository whose ``.nox`` is this checkout's
(the environments are not installed again). ``SUBMISSIONS`` becomes a small class.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile

import pytest

from tests.helpers import EXERCISES, ROOT, SOLUTIONS

# Commands of the block that this test does not run, and why (each is checked elsewhere).
NOT_RUN = {
    "crosscheck": "installs PyTorch into its own environment; CI runs it after the course's tests",
    "bench": "a measurement (every chapter, three times), not a check",
    "nbgrader-test": "runs tests/test_nbgrader.py, the nbgrader round trip, which its own session runs",
}


def readme_commands():
    """[(session, [arguments after --])] of the README's instructor workflow block, in order."""
    text = (ROOT / "README.md").read_text()
    block = text.split("### Workflows", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = []
    for line in block.strip().splitlines():
        words = shlex.split(line.split("#", 1)[0])
        assert words[:4] == ["python3", "-m", "nox", "-s"], line
        args = words[words.index("--") + 1 :] if "--" in words else []
        commands.append((words[4], args))
    return commands


COMMANDS = readme_commands()


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    """A fresh clone of the committed repository, with this checkout's nox environments."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: nothing to clone")
    where = tmp_path_factory.mktemp("readme") / "course"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(where)], check=True, timeout=300)
    (where / ".nox").symlink_to(ROOT / ".nox", target_is_directory=True)
    return where


def nox(clone, session, args, timeout=3600):
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "COURSE_SECRET"
    }
    env.setdefault("OMP_NUM_THREADS", "1")
    proc = subprocess.run(
        [sys.executable, "-m", "nox", "-s", session, *(["--", *args] if args else [])],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, (
        f"nox -s {session} {' '.join(args)}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    return proc.stdout + proc.stderr


def test_the_block_names_sessions_that_exist():
    text = (ROOT / "noxfile.py").read_text()
    named = set(re.findall(r'name="([\w-]+)"', text))
    plain = set(re.findall(r"^def ([a-z_]+)\(session\)", text, re.M))
    for session, _ in COMMANDS:
        assert session in named or session.replace("-", "_") in plain, (
            f"README names nox -s {session}"
        )
    assert {s for s, _ in COMMANDS} >= set(NOT_RUN)


def _class(base):
    subs = base / "class"
    subs.mkdir()
    for name in ("ch01_neurons", "ch02_activations"):
        shutil.copytree(
            SOLUTIONS / name, subs / "alice" / name, ignore=shutil.ignore_patterns("__pycache__")
        )
    with zipfile.ZipFile(subs / "bob.zip", "w") as zf:
        for p in sorted((EXERCISES / "ch01_neurons").glob("*.py")):
            zf.write(p, f"exercises/ch01_neurons/{p.name}")
    return subs


def _run_as_written(clone, session, args, subs=None):
    args = [str(subs) if a == "SUBMISSIONS" else a for a in args]
    return nox(clone, session, args)


@pytest.mark.slow
@pytest.mark.parametrize("session", ["stubs", "fixtures"])
def test_generators_change_nothing_in_a_fresh_clone(clone, session):
    args = dict(COMMANDS)[session]
    out = _run_as_written(clone, session, args)
    assert "already" in out, out[-2000:]
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True
    ).stdout
    assert [ln for ln in status.splitlines() if not ln.endswith(".nox")] == []


@pytest.fixture(scope="module")
def built_release(clone):
    """The student release, built by the README's command as written: (folder, output)."""
    args = dict(COMMANDS)["release"]
    out = _run_as_written(clone, "release", args)
    return clone / args[args.index("--out") + 1], out


@pytest.mark.slow
def test_release_as_written(built_release, tmp_path):
    args = dict(COMMANDS)["release"]
    assert "/" not in args[args.index("--out") + 1][:1], (
        "the README's example uses a relative --out"
    )
    noxfile = (ROOT / "noxfile.py").read_text()
    assert f"session.posargs or {args!r}".replace("'", '"') in noxfile, (
        "plain `nox -s release` differs"
    )
    release, out = built_release
    assert "release checked" in out
    # What the release holds and leaves out (the release command also checks it itself).
    assert not (release / "reference").exists() and not (release / "solutions").exists()
    assert (release / "grader" / "fixtures").is_dir()
    assert not list(release.rglob("test_hidden_*.py"))
    workflow = (release / ".github" / "workflows" / "classroom.yml").read_text()
    # What the Classroom workflow runs, run inside the release as GitHub Actions would.
    assert "run: python -m nox -s classroom" in workflow and "runners: grade" in workflow
    assert 'GRADE_RESULTS: "${{ steps.grade.outputs.result }}"' in workflow
    if not (release / ".nox").exists():
        (release / ".nox").symlink_to(ROOT / ".nox", target_is_directory=True)
    output = tmp_path / "github-output"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "COURSE_SECRET"
    }
    proc = subprocess.run(
        [sys.executable, "-m", "nox", "-s", "classroom"],
        cwd=release,
        env={**env, "GITHUB_OUTPUT": str(output), "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    line = [ln for ln in output.read_text().splitlines() if ln.startswith("result=")][-1]
    data = json.loads(base64.b64decode(line.split("=", 1)[1]))
    assert (
        data["max_score"] > 0 and sum(t["score"] for t in data["tests"]) == 0
    )  # the release's stubs
    assert json.loads((release / "results.json").read_text())["extra_data"]["mode"] == "public"


@pytest.mark.slow
def test_autograde_shards_and_merge_as_written(clone, tmp_path):
    subs = _class(tmp_path)
    autograde = [args for s, args in COMMANDS if s == "autograde"]
    whole, sliced = autograde[0], autograde[1]
    out = _run_as_written(clone, "autograde", whole, subs)
    assert "created the course secret" in out and (clone / ".course-secret").is_file()
    gradebook = (clone / "graded" / "gradebook.csv").read_text()
    assert "alice," in gradebook and "bob," in gradebook
    # The slice line as written, and the same line for the job array's other indices.
    i, n = map(int, sliced[sliced.index("--shard") + 1].split("/"))
    for k in range(1, n + 1):
        args = [
            a.replace(f"graded-{i}", f"graded-{k}").replace(f"{i}/{n}", f"{k}/{n}") for a in sliced
        ]
        _run_as_written(clone, "autograde", args, subs)
    merge = dict(COMMANDS)["merge"]
    _run_as_written(clone, "merge", merge)
    merged = clone / merge[merge.index("--out") + 1] / "gradebook.csv"
    assert merged.read_text() == gradebook
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True
    ).stdout
    assert not [ln for ln in status.splitlines() if "graded" in ln], (
        "graded folders must be ignored by git"
    )


@pytest.mark.slow
def test_gradescope_as_written(clone):
    args = dict(COMMANDS)["gradescope"]
    out = _run_as_written(clone, "gradescope", args)
    bundle = clone / args[args.index("--out") + 1]
    assert "created the course secret" in out or (clone / ".course-secret").is_file()
    with zipfile.ZipFile(bundle) as zf:
        assert {"setup.sh", "run_autograder", ".course-secret"} <= set(zf.namelist())


@pytest.mark.slow
@pytest.mark.skipif(
    not (ROOT / ".nox" / "nbgrader" / "bin").is_dir(), reason="no .nox/nbgrader environment"
)
@pytest.mark.parametrize("session", ["notebooks", "nbgrader-course"])
def test_notebook_sessions_as_written(clone, session):
    args = dict(COMMANDS)[session]
    _run_as_written(clone, session, args)
    built = clone / "build" / ("notebooks" if session == "notebooks" else "nbgrader")
    assert any(built.rglob("*.ipynb"))
    if session == "nbgrader-course":
        assert str(clone) not in (built / "nbgrader_config.py").read_text()


def student_commands(text):
    """[[words after `python3 -m nox`]] of the bash blocks of a student text."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.splitlines():
            words = shlex.split(line.split("#", 1)[0])
            while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
                words = words[1:]  # OMP_NUM_THREADS=1 ...: the environment of the command
            if words[:3] == ["python3", "-m", "nox"]:
                commands.append(words[3:])
    return commands


def _student_nox(folder, words, timeout=1800):
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "COURSE_SECRET"
    }
    return subprocess.run(
        [sys.executable, "-m", "nox", *words],
        cwd=folder,
        env={**env, "OMP_NUM_THREADS": "1", "COLUMNS": "100"},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _lab_starts(folder, words, timeout=600):
    """Start `nox -s lab` as written; True once JupyterLab says it is running (then stop it)."""
    import signal
    import time

    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nox",
            *words,
            "--",
            "--no-browser",
            "--port",
            "18871",
            "--allow-root",
        ],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    seen, start = [], time.monotonic()
    try:
        for line in proc.stdout:
            seen.append(line)
            if "is running at" in line or "http://127.0.0.1" in line:
                return True, "".join(seen)
            if time.monotonic() - start > timeout:
                break
        return False, "".join(seen)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)


@pytest.mark.slow
def test_the_student_readme_works_as_written_in_the_release(built_release, tmp_path):
    """Every `python3 -m nox` command of the release's README, in the release (the stubs), and
    its `run` commands again with a finished chapter (the course's solutions copied in)."""
    release, _ = built_release
    if not (release / ".nox").exists():
        (release / ".nox").symlink_to(ROOT / ".nox", target_is_directory=True)
    commands = student_commands((release / "README.md").read_text())
    sessions = {words[words.index("-s") + 1] for words in commands if "-s" in words}
    assert {"grade", "grade-02", "run", "lab", "notebooks"} <= sessions, sessions
    solved = tmp_path / "solved"
    shutil.copytree(release, solved, symlinks=True)
    for package in sorted(p.name for p in SOLUTIONS.glob("ch[0-9][0-9]_*") if p.name < "ch10"):
        shutil.rmtree(solved / "exercises" / package)  # a student who has done chapters 01-09
        shutil.copytree(SOLUTIONS / package, solved / "exercises" / package)
    shutil.copy2(SOLUTIONS / "ch09_mnist" / "img" / "drawn_seven.png", solved / "my_digit.png")
    for words in commands:
        session = words[words.index("-s") + 1] if "-s" in words else None
        if session in ("lab", "notebooks") and not (ROOT / ".nox" / "lab" / "bin").is_dir():
            continue  # installing JupyterLab is the session's first run, not this test's
        if session == "lab":
            started, out = _lab_starts(release, words)
            assert started, out[-3000:]
            continue
        proc = _student_nox(release, words)
        out = proc.stdout + proc.stderr
        if session == "run":  # the stubs: the program says what to write, no traceback
            assert "not implemented yet" in out and "Traceback" not in out, out[-3000:]
            proc = _student_nox(solved, words)
            out = proc.stdout + proc.stderr
        assert proc.returncode == 0, f"nox {' '.join(words)}:\n{out[-3000:]}"
        if session and session.startswith("grade"):
            assert "not started: 0/" in out and "Next: read ch" in out, out[-3000:]
        if words == ["-l"]:
            assert "stubs" not in out.split("Sessions defined", 1)[1]
    assert (
        "my_digit.png: 7 "
        in _student_nox(
            solved, ["-s", "run", "--", "exercises.ch09_mnist.classify", "my_digit.png"]
        ).stdout
    )
    if (ROOT / ".nox" / "lab" / "bin").is_dir():
        assert any((release / "build" / "notebooks").glob("ch01_*.ipynb"))


def test_the_chapter_texts_run_modules_that_exist_with_arguments_they_accept():
    """Every `python3 -m nox -s run -- MODULE ARGS` of a chapter text names a module of the
    chapter whose command line accepts those arguments (checked with --help, cheaply)."""
    seen = set()
    for text in sorted(EXERCISES.glob("ch*/README.md")):
        for words in student_commands(text.read_text()):
            if words[:3] != ["-s", "run", "--"]:
                continue
            module, *args = words[3:]
            assert module.startswith("exercises.ch"), (text, words)
            path = ROOT.joinpath(*module.split(".")).with_suffix(".py")
            assert path.is_file(), (text, module)
            options = [a for a in args if a.startswith("--")]
            key = (module, tuple(options))
            if key in seen:
                continue
            seen.add(key)
            proc = subprocess.run(
                [sys.executable, "-m", module.replace("exercises.", "solutions.", 1), "--help"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert proc.returncode == 0, (module, proc.stderr[-2000:])
            for option in options:
                assert option in proc.stdout, (text, module, option)
    assert seen, "the chapter texts run no module"


def test_every_command_is_run_or_says_why_not():
    tested = {
        "stubs",
        "fixtures",
        "release",
        "autograde",
        "merge",
        "gradescope",
        "notebooks",
        "nbgrader-course",
    }
    assert {s for s, _ in COMMANDS} == tested | set(NOT_RUN)
