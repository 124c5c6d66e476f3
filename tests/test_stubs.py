"""exercises/ is generated from solutions/, and the generator does what it says."""

import pytest

from grader.workflows import stubgen
from tests.helpers import EXERCISES, ROOT, SOLUTIONS


def test_exercises_are_up_to_date_with_solutions():
    problems = stubgen.check(SOLUTIONS, EXERCISES)
    assert not problems, "run `nox -s stubs` and commit:\n" + "\n".join(problems)


def test_no_solution_markers_or_bodies_in_exercises():
    for path in EXERCISES.rglob("*.py"):
        assert not stubgen.has_markers(path.read_text()), path


def test_block_becomes_todo_and_named_raise():
    src = (
        "class ReLU:\n"
        "    def forward(self, x):\n"
        "        '''doc'''\n"
        "        ### BEGIN SOLUTION\n"
        "        self.output = x\n"
        "        return x\n"
        "        ### END SOLUTION\n"
    )
    out = stubgen.stub_source(src, "ch02", "ch02_activations/a.py")
    assert 'raise NotImplementedError("ch02: implement ReLU.forward")' in out
    assert "# TODO(ch02): implement ReLU.forward" in out
    assert "self.output = x" not in out and "### BEGIN" not in out


@pytest.mark.parametrize(
    "src,message",
    [
        ("### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n", "inside a function"),
        ("def f():\n    ### BEGIN SOLUTION\n    return 1\n", "without a matching END"),
        ("def f():\n    return 1\n    ### END SOLUTION\n", "without BEGIN"),
    ],
)
def test_malformed_markers_are_rejected(src, message):
    with pytest.raises(stubgen.StubError, match=message):
        stubgen.stub_source(src, "ch01", "x.py")


def test_every_chapter_exists_in_all_four_places():
    from grader.chapters import all_chapters

    for package in all_chapters():
        for tree in ("solutions", "exercises", "reference", "grader/suites"):
            assert (ROOT / tree / package).is_dir(), f"{tree}/{package} is missing"
        assert (ROOT / "solutions" / package / "README.md").is_file(), (
            f"{package} has no chapter text"
        )
