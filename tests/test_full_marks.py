"""The course is consistent: solutions score full marks, untouched stubs score zero."""

import pytest

from grader.chapters import all_chapters, chapter_id
from tests.helpers import EXERCISES, SOLUTIONS, chapter_score, grade

CHAPTERS = all_chapters()


@pytest.fixture(scope="module")
def solutions_results(tmp_path_factory):
    code, results, out = grade(SOLUTIONS)
    assert code == 0, out
    return results


@pytest.fixture(scope="module")
def stub_results(tmp_path_factory):
    code, results, out = grade(EXERCISES)
    assert code == 0, out
    return results


@pytest.mark.parametrize("package", CHAPTERS)
def test_solutions_score_full_marks(solutions_results, package):
    failed = [
        f"{t['name']}: {t['output']}"
        for t in solutions_results["tests"]
        if chapter_id(package) in t["tags"] and t["status"] != "passed"
    ]
    assert not failed, "\n".join(failed)
    score, max_score = chapter_score(solutions_results, chapter_id(package))
    assert max_score > 0 and score == max_score


@pytest.mark.parametrize("package", CHAPTERS)
def test_untouched_stubs_score_zero(stub_results, package):
    passed = [
        t["name"]
        for t in stub_results["tests"]
        if chapter_id(package) in t["tags"] and t["status"] == "passed"
    ]
    assert not passed, f"tests that pass on the untouched stubs: {passed}"
    score, max_score = chapter_score(stub_results, chapter_id(package))
    assert score == 0 and max_score > 0


def test_stub_feedback_names_the_task(stub_results):
    """Untouched chapters fail without running (tests/test_untouched.py shows that running
    them fails every test too): each test says so and names the function to begin with."""
    for t in stub_results["tests"]:
        assert "internal grader error" not in t["output"], t
        assert "still raises NotImplementedError (begin with " in t["output"], t
    assert any(
        "ch01_neurons asks for still raises NotImplementedError (begin with neuron_output)"
        in t["output"]
        for t in stub_results["tests"]
    )


def test_results_json_has_gradescope_fields(solutions_results):
    r = solutions_results
    assert {"score", "max_score", "tests"} <= set(r)
    assert r["score"] == r["max_score"] > 0
    for t in r["tests"]:
        assert {"name", "score", "max_score", "status", "output", "tags"} <= set(t)
        assert t["status"] in ("passed", "failed")
        assert len(t["tags"]) == 1 and t["tags"][0].startswith("ch")
