"""PrairieLearn's external grader: ``python -m grader prairielearn``.

PrairieLearn runs a grading job in a container with everything under ``/grade``:

    /grade/student/         the files the student submitted
    /grade/data/data.json   the question's data (``params``, ``variant_seed``, ...)
    /grade/tests/, /grade/serverFilesCourse/   the question's and the course's files (unused)

and reads ``/grade/results/results.json`` when the entry point ends. This command grades the
submission in hidden mode and always writes that file, in PrairieLearn's format: ``score``
(0 to 1), ``message``, ``output``, and ``tests`` (``name``, ``points``, ``max_points``,
``message``, ``output``); a submission that cannot be graded (no chapter, a broken zip, no
safe isolation) gets ``gradable: false`` with ``format_errors``, which costs the student no
attempt.

Which chapters: ``params.chapters`` of data.json (set by the question), else ``--chapters``
(the entry point's arguments), else the chapters found in the submission. The submission may
be chapter folders (``ch02_activations/...``, or ``exercises/`` holding them), one zip of
them, or loose files of a single chapter (``activations.py`` from a file editor), which are
laid over that chapter's stubs. Earlier chapters are graded with the course's solutions
(chapter independence; needed for loose files). Inputs are seeded from the course secret and
the variant's seed. ``--grade-root`` (or ``$PRAIRIELEARN_GRADE_ROOT``) replaces ``/grade``,
which is how this is tested locally.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from ..chapters import (
    ROOT,
    ChapterError,
    all_chapters,
    chapter_id,
    is_chapter_dir,
    resolve,
    tree_files,
)
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
from .autograde import SubmissionError, copy_folder, extract_zip, find_root

MAX_OUTPUT = 4000  # characters of feedback per test (PrairieLearn takes at most 1 MB in all)
_FUNCTION = re.compile(r"^([A-Za-z_][\w.]*)\(")


class NotGradable(Exception):
    pass


def _chapters_requested(data, cli_chapters):
    params = data.get("params") if isinstance(data.get("params"), dict) else {}
    names = params.get("chapters") or cli_chapters or []
    if isinstance(names, str):
        names = names.split()
    return resolve(list(names)) if names else []


def prepare_submission(student: Path, dest: Path, chapters):
    """Lay the student's files out as a submission root in ``dest``; return (root, chapters)."""
    files = [p for p in tree_files(student)] if student.is_dir() else []
    if not files:
        raise NotGradable("the submission is empty")
    unpacked = dest / "unpacked"
    unpacked.mkdir(parents=True)
    try:
        if len(files) == 1 and files[0].suffix.lower() == ".zip":
            extract_zip(files[0], unpacked)
        else:
            copy_folder(student, unpacked)
        try:
            root = find_root(unpacked)
        except SubmissionError as exc:
            if exc.status != "no-chapters":
                raise
            root = None
    except SubmissionError as exc:
        raise NotGradable(exc.message) from None
    if root is not None:
        found = [p.name for p in sorted(root.iterdir()) if p.is_dir() and is_chapter_dir(p.name)]
        return root, chapters or [c for c in all_chapters() if c in found]
    # Loose files: one chapter's modules, laid over that chapter's stubs.
    if len(chapters) != 1:
        raise NotGradable(
            "loose files need a question that names one chapter (params.chapters in data.json); "
            "otherwise upload the chapter folders (ch02_activations/...) or a zip of them"
        )
    package = chapters[0]
    root = dest / "submission"
    shutil.copytree(
        ROOT / "exercises" / package,
        root / package,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    for path in sorted(unpacked.rglob("*.py")):
        shutil.copyfile(path, root / package / path.name)
    return root, chapters


def pl_results(gs, *, hidden_label="hidden test"):
    """PrairieLearn's results.json from Gradescope-format results: hidden tests neither named
    nor shown with their inputs (at most the function they called)."""
    tests = []
    hidden_seen = {}
    for t in gs["tests"]:
        chapter = t["tags"][0] if t.get("tags") else ""
        output = (t.get("output") or "")[:MAX_OUTPUT]
        first = output.splitlines()[0] if output else ""
        if t.get("visibility") == "after_published":
            hidden_seen[chapter] = hidden_seen.get(chapter, 0) + 1
            name = f"{chapter} {hidden_label} {hidden_seen[chapter]}"
            m = _FUNCTION.match(first)
            message = (
                ""
                if t["status"] == "passed"
                else (f"failed (calling {m.group(1)})" if m else "failed")
            )
            output = ""
        else:
            name = t["name"]
            message = "passed" if t["status"] == "passed" else first
        tests.append(
            {
                "name": name,
                "points": t["score"],
                "max_points": t["max_score"],
                "message": message,
                "output": output,
            }
        )
    max_score = gs["max_score"]
    return {
        "gradable": True,
        "score": (gs["score"] / max_score) if max_score else 0.0,
        "message": f"{gs['score']:g} / {max_score:g} points",
        "output": gs.get("output", ""),
        "tests": tests,
        "isolation": gs.get("isolation", ""),
    }


def _not_gradable(path, message):
    write_json_atomic(path, {"gradable": False, "format_errors": [message], "message": message})


def run(grade_root: Path, *, chapters=(), independent=True, allow_weak_isolation=False):
    """Grade ``grade_root``/student and write ``grade_root``/results/results.json, whatever happens."""
    root = Path(grade_root)
    results_path = root / "results" / "results.json"
    try:
        data = json.loads((root / "data" / "data.json").read_text())
        if not isinstance(data, dict):
            data = {}
    except (OSError, ValueError):
        data = {}
    try:
        requested = _chapters_requested(data, list(chapters))
    except ChapterError as exc:
        _not_gradable(results_path, f"the question names an unknown chapter: {exc}")
        return 0
    try:
        level = choose_isolation("auto", strong_required=True, allow_weak=allow_weak_isolation)
    except UsageError as exc:
        _not_gradable(
            results_path,
            f"the grader could not run safely on this machine ({exc}); this is a problem "
            "of the course's set-up, not of your submission: tell your instructor",
        )
        return 0
    secret = course_secret(ROOT / SECRET_FILE) or "prairielearn"
    identity = str(data.get("variant_seed") or data.get("user_uid") or "prairielearn")
    with tempfile.TemporaryDirectory(prefix="pl-grade-") as tmp:
        try:
            submission, packages = prepare_submission(root / "student", Path(tmp), requested)
        except NotGradable as exc:
            _not_gradable(results_path, f"your submission could not be graded: {exc}")
            return 0
        if not packages:
            _not_gradable(
                results_path, "your submission holds no chapter folder (ch01_neurons, ...)"
            )
            return 0
        os.environ["TMPDIR"] = tmp
        records, meta = run_suites(
            packages,
            submission,
            mode="hidden",
            seed=student_seed(secret, identity),
            independent_from=ROOT / "solutions" if independent else None,
            isolation_level=level,
        )
        missing = [chapter_id(p) for p in packages if not (submission / p).is_dir()]
    notes = substitution_notes(meta)
    if missing:
        notes.append(f"Missing from your submission: {', '.join(missing)}.")
    gs = gradescope_results(records, mode=meta["mode"], notes=notes, isolation=meta["isolation"])
    write_json_atomic(results_path, pl_results(gs))
    return 0
