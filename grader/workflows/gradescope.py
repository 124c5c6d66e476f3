"""The Gradescope autograder bundle.

``python -m grader gradescope --out autograder.zip`` writes a zip with Gradescope's two
entry points and the grading part of the course at its top level:

    setup.sh          installs the grading dependencies (numpy, pytest, hypothesis, rich)
    run_autograder    grades /autograder/submission in hidden mode and writes
                      /autograder/results/results.json (hidden tests: after_published)
    grader/, reference/, solutions/ (for chapter independence), data/, pyproject.toml,
    .course-secret

Gradescope unpacks the zip into /autograder/source and runs setup.sh once, then
run_autograder for every submission. ``AUTOGRADER_ROOT`` overrides /autograder, which is
how the bundle is tested locally against a temporary directory.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
import zipfile
from pathlib import Path

from ..chapters import ROOT, all_chapters, chapter_id, tree_files
from ..oracle import student_seed
from ..report import gradescope_results, write_json_atomic
from ..runner import (
    SECRET_FILE,
    UsageError,
    choose_isolation,
    course_secret,
    run_suites,
    substitution_notes,
)
from .autograde import SubmissionError, find_root

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once when the autograder image is built (as root, in /autograder/source).
# To try the bundle on your machine, run it with the Python you grade with first on PATH (a
# virtual environment): it installs only what is missing.
set -euo pipefail
# The sandbox for student code (docs/sandbox.md): bubblewrap, and setpriv from util-linux.
if ! command -v bwrap >/dev/null 2>&1 || ! command -v setpriv >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        apt-get update -qq >/dev/null 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap util-linux >/dev/null 2>&1 || true
    else
        echo "setup.sh: bubblewrap is missing and cannot be installed here (docs/sandbox.md)" >&2
    fi
fi
python3 -m pip install --quiet --disable-pip-version-check {deps}
python3 -c "import numpy, pytest, hypothesis, rich"
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this for every submission.
set -u
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
cd "$ROOT/source"
# The course's files (reference, solutions, secret) readable by their owner only: where the
# container forbids namespaces, student code then runs as another user that cannot read them.
chmod -R go-rwx "$ROOT/source" 2>/dev/null || true
exec python3 -m grader gradescope-run --autograder-root "$ROOT" {options}
"""


def build(out: Path, *, independent=False, secret, allow_weak_isolation=False):
    import nox.project  # noqa: F401  (only to read the dependency group the same way nox does)

    pyproject = nox.project.load_toml(str(ROOT / "pyproject.toml"))
    deps = " ".join(f"'{d}'" for d in nox.project.dependency_groups(pyproject, "grade"))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:

        def add_text(name, text, executable=False):
            info = zipfile.ZipInfo(name)
            info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text)

        add_text("setup.sh", SETUP.format(deps=deps), executable=True)
        options = " ".join(
            o
            for o, on in (
                ("--independent", independent),
                ("--allow-weak-isolation", allow_weak_isolation),
            )
            if on
        )
        add_text("run_autograder", RUN.format(options=options), executable=True)
        for tree in ("grader", "reference", "solutions", "data"):
            for path in tree_files(ROOT / tree):
                zf.write(path, path.relative_to(ROOT).as_posix())
        zf.write(ROOT / "pyproject.toml", "pyproject.toml")
        add_text(SECRET_FILE, secret + "\n")
    os.replace(tmp, out)
    return out


def _student_from_metadata(root: Path):
    try:
        meta = json.loads((root / "submission_metadata.json").read_text())
        users = meta.get("users") or []
        if users:
            return str(users[0].get("id") or users[0].get("email") or "student")
    except (OSError, ValueError, AttributeError):
        pass
    return "student"


def run(autograder_root: Path, *, independent=False, allow_weak_isolation=False):
    """Grade $ROOT/submission and write $ROOT/results/results.json, whatever happens."""
    root = Path(autograder_root)
    results_path = root / "results" / "results.json"
    packages = all_chapters()
    try:
        submission = find_root(root / "submission")
    except (SubmissionError, FileNotFoundError) as exc:
        message = getattr(exc, "message", str(exc))
        write_json_atomic(
            results_path,
            {
                "score": 0,
                "output": f"Your submission could not be graded: {message}. Upload the chNN_* folders "
                "(or your exercises/ folder) and resubmit.",
                "tests": [],
            },
        )
        return 0
    secret = course_secret(Path.cwd() / SECRET_FILE) or "gradescope"
    seed = student_seed(secret, _student_from_metadata(root))
    try:
        level = choose_isolation("auto", strong_required=True, allow_weak=allow_weak_isolation)
    except UsageError as exc:
        write_json_atomic(
            results_path,
            {
                "score": 0,
                "tests": [],
                "output": f"The autograder could not grade safely on this machine: {exc} (a problem of the "
                "autograder's set-up, not of your submission; tell your instructor).",
            },
        )
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TMPDIR"] = tmp
        records, meta = run_suites(
            packages,
            submission,
            mode="hidden",
            seed=seed,
            independent_from=ROOT / "solutions" if independent else None,
            isolation_level=level,
        )
    missing = [chapter_id(p) for p in packages if not (submission / p).is_dir()]
    notes = substitution_notes(meta)
    if missing:
        notes.append(f"Missing from your submission: {', '.join(missing)}.")
    results = gradescope_results(
        records, mode=meta["mode"], notes=notes, isolation=meta["isolation"]
    )
    write_json_atomic(results_path, results)
    return 0
