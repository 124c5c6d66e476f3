"""The grader's own claims about the student's code: a wrong return type or shape reaches the
student as a message about their value (never as an internal grader error), and a failing
property test lists the drawn inputs (not the fixtures' objects)."""

from grader.plugin import clean_notes
from tests.helpers import by_test, copy_solutions, grade, patch


def test_a_value_of_the_wrong_type_is_the_students_to_fix(tmp_path):
    """build_network returning its list of layers where the docstring promises the pair
    (layers, loss): the test that unpacks the pair says that the returned value cannot be
    used, at which step, and what to compare."""
    root = copy_solutions(tmp_path / "submission")
    patch(root, "ch06_training/loop.py", "    return layers, loss_class()\n", "    return layers\n")
    code, results, out = grade(
        root,
        "ch06",
        extra=["--only", "test_build_network_weights_match_reference", "--isolation", "process"],
    )
    assert results is not None, out
    (test,) = by_test(results)["test_build_network_weights_match_reference"]
    assert test["status"] == "failed", test
    assert "internal grader error" not in test["output"], test["output"]
    assert "the value your code returned cannot be used here" in test["output"], test["output"]
    assert "student.build_network(" in test["output"] and "docstring" in test["output"]


def test_warnings_of_the_students_code_are_reported(tmp_path):
    """A ReLU whose unused np.where branch overflows: the values are right and the tests
    pass, but the feedback lists the warnings, with the student's file and line."""
    root = copy_solutions(tmp_path / "submission")
    patch(
        root,
        "ch02_activations/activations.py",
        "self.output = np.maximum(0, inputs)",
        "self.output = np.where(inputs > 0, inputs, 0.0 * np.exp(1e4 * inputs))",
    )
    code, results, out = grade(
        root,
        "ch02",
        extra=["--only", "test_relu_forward_matches_reference", "--isolation", "process"],
    )
    assert results is not None, out
    tests = by_test(results)["test_relu_forward_matches_reference"]
    assert all(t["status"] == "passed" for t in tests), tests
    warned = [t for t in tests if "Warnings raised by your code" in t["output"]]
    assert warned, [t["output"] for t in tests]
    assert any(
        "overflow encountered in exp" in t["output"] and "activations.py, line" in t["output"]
        for t in warned
    )


def test_failing_examples_list_the_drawn_inputs_only():
    notes = (
        "Failing test case: test_x(\n"
        "    student=<your ch01_neurons package>,\n"
        "    oracle=<grader.oracle.Oracle object at 0x7f00>,\n"
        "    N=6,\n"
        "    seed=0,\n"
        ")\n"
        "You can reproduce this example by temporarily adding @reproduce_failure"
    )
    cleaned = clean_notes(notes)
    assert "object at 0x" not in cleaned and "student=" not in cleaned
    assert "N=6" in cleaned and "seed=0" in cleaned and "reproduce" not in cleaned
