"""A chapter not started costs nothing: when every function it asks for is still exactly its
generated stub (grader/todo.json), the grader fails its tests without running them.

The shortcut may never change a grade or the advice: run in full, an untouched chapter fails
every test on a stub, with the same function to begin with. A chapter with one function
written, a stub replaced at import time or a wrapped stub is graded in full; an edited
docstring does not count as a start.
"""

from __future__ import annotations

import shutil

import pytest

from grader.chapters import all_chapters
from grader.report import chapter_states, todo_of
from grader.runner import run_suites
from grader.sandbox import Limits, WorkerClient
from grader.workflows.stubgen import TODO_FILE, todo_manifest
from tests.helpers import EXERCISES, IGNORE, SOLUTIONS, patch

RELU_STUB = """        # TODO(ch02): implement ReLU.forward (the docstring gives the shapes).
        raise NotImplementedError("ch02: implement ReLU.forward")
"""
RELU_WRITTEN = """        self.inputs = inputs
        self.output = np.maximum(0, inputs)
        return self.output
"""


def _run(submission, packages, **kwargs):
    from hypothesis import settings

    profile = settings.get_current_profile_name()
    try:
        records, _ = run_suites(
            packages, submission, mode="hidden", isolation_level="process", **kwargs
        )
    finally:
        settings.load_profile(profile)
    return records


@pytest.fixture
def stubs(tmp_path):
    """A copy of the generated stubs (the course's exercises/), to edit."""
    root = tmp_path / "submission"
    shutil.copytree(EXERCISES, root, ignore=IGNORE)
    return root


def test_todo_file_lists_every_stub_of_the_generated_exercises():
    generated = {
        p.relative_to(EXERCISES).as_posix(): p.read_bytes()
        for p in EXERCISES.rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert TODO_FILE.read_text() == todo_manifest(generated)
    listed = {package for package in __import__("json").loads(TODO_FILE.read_text())}
    assert listed == set(all_chapters()), "every chapter has its TODO functions listed"


def test_untouched_chapters_fail_every_test_whether_run_or_not():
    """Every chapter of the untouched stubs, run in full: every test fails on a stub, on the
    student's own earlier chapters (all stubs too) and with the course's solutions in their
    place, so failing them unrun gives the same points. The function to begin with is what
    the full run advises when the earlier chapters are done."""
    packages = all_chapters()
    skipped = _run(EXERCISES, packages)
    chained = _run(EXERCISES, packages, run_untouched=True)
    independent = _run(EXERCISES, packages, run_untouched=True, independent_from=SOLUTIONS)
    for ran in (chained, independent):
        assert [r["test"] for r in skipped] == [r["test"] for r in ran]
        assert not any(r.get("untouched") for r in ran)
        assert all(todo_of(r) is not None for r in ran), [
            (r["test"], r["summary"]) for r in ran if todo_of(r) is None
        ][:5]
    assert all(r["status"] == "failed" and r["score"] == 0 for r in skipped + chained + independent)
    assert all(r.get("untouched") for r in skipped)
    # with the earlier chapters done, each test waits for a function of its own chapter
    assert all(todo_of(r)[0] == r["chapter"] for r in independent)
    quick, full = chapter_states(skipped), chapter_states(independent)
    for chapter in quick:
        assert quick[chapter]["not_started"] and full[chapter]["not_started"], chapter
        assert quick[chapter]["begin"] == full[chapter]["begin"], chapter


def test_a_chapter_with_one_function_written_is_graded_in_full(stubs):
    patch(stubs, "ch02_activations/activations.py", RELU_STUB, RELU_WRITTEN)
    records = _run(stubs, ["ch02_activations"])
    assert not any(r.get("untouched") for r in records)
    relu = [r for r in records if r["test"].startswith("test_relu_forward")]
    assert relu and all(r["status"] == "passed" for r in relu), relu
    # the other functions' tests name their own stub
    assert any(
        r["summary"] == "not implemented yet (ch02: implement ReLU.backward)" for r in records
    )


def test_a_stub_replaced_at_import_time_is_graded_in_full(stubs):
    path = stubs / "ch02_activations" / "activations.py"
    path.write_text(
        path.read_text()
        + "\n\ndef _relu(self, inputs, training=False):\n"
        + "    self.inputs = inputs\n    self.output = np.maximum(0, inputs)\n"
        + "    return self.output\n\n\nReLU.forward = _relu\n"
    )
    records = _run(stubs, ["ch02_activations"])
    assert not any(r.get("untouched") for r in records)
    relu = [r for r in records if r["test"].startswith("test_relu_forward")]
    assert relu and all(r["status"] == "passed" for r in relu), relu


def test_an_edited_docstring_is_not_a_start(stubs):
    patch(
        stubs,
        "ch02_activations/activations.py",
        "(N, D): ``inputs`` with every negative entry replaced by 0.\n",
        "(N, D): ``inputs`` with every negative entry replaced by 0. My note: np.maximum?\n",
    )
    records = _run(stubs, ["ch02_activations"])
    assert records and all(r.get("untouched") == "ReLU.forward" for r in records)


@pytest.mark.parametrize(
    "change",
    [
        # the stub's function wrapped by a decorator of the student's
        (
            '    def forward(self, inputs, training=False):\n        """inputs: (N, D) array;',
            '    @_keep\n    def forward(self, inputs, training=False):\n        """inputs: (N, D) array;',
        ),
        # a changed message: no longer the generated stub
        (
            'raise NotImplementedError("ch02: implement ReLU.forward")',
            'raise NotImplementedError("later")',
        ),
    ],
    ids=["wrapped", "new-message"],
)
def test_worker_tells_a_changed_stub_from_an_untouched_one(stubs, change):
    path = stubs / "ch02_activations" / "activations.py"
    text = path.read_text().replace(*change, 1)
    prelude = "import functools\n\n\ndef _keep(f):\n    return functools.wraps(f)(lambda *a, **k: f(*a, **k))\n\n\n"
    path.write_text(prelude + text)
    todo = __import__("json").loads(TODO_FILE.read_text())["ch02_activations"]
    worker = WorkerClient(str(stubs), Limits(call_timeout=10), isolation="process")
    try:
        worker.start()
        worker.request({"op": "import", "module": "ch02_activations"})
        ask = {"op": "untouched", "package": "ch02_activations"}
        assert worker.request({**ask, "functions": todo}) is False
        others = [f for f in todo if f[1] != "ReLU.forward"]
        assert worker.request({**ask, "functions": others}) is True
    finally:
        worker.close()
